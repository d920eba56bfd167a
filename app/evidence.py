"""Evidence files of a review's findings: upload (by the reviewer or a
co-reviewer while the investigation is open) and download (by whoever may
read the review). Files are stored content-addressed by SHA-256
(:mod:`storage.evidence_files`); the finding's evidence reference carries the
hash (``sha256:<hex> <file name>``), so the event log records which bytes
were meant and anyone can check a file against it.

Types are recognised by their first bytes, not by the name or the browser's
claim: PDF, PNG, JPEG, plain UTF-8 text, and Word/Excel documents (Office
Open XML zips with the matching extension)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from app.access import require_read
from app.context import AppContext
from app.errors import BadInput, Conflict, Forbidden, NotFound
from app.principal import Principal
from domain.procedure import Role, Step
from storage.evidence_files import EvidenceFiles

MAX_BYTES = 10 * 1024 * 1024
REFERENCE_PREFIX = "sha256:"
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff ]+")

OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ACCEPTED = ".pdf,.png,.jpg,.jpeg,.txt,.docx,.xlsx"


class StoreEvidenceInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    filename: str = Field(default="", max_length=500)
    data: bytes


class StoredEvidence(BaseModel):
    sha256: str
    size: int
    media_type: str
    filename: str

    @property
    def reference(self) -> str:
        """The evidence reference a finding records for this file."""
        return f"{REFERENCE_PREFIX}{self.sha256} {self.filename}".strip()


class ReadEvidenceInput(BaseModel):
    review_id: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class EvidenceContent(BaseModel):
    file: StoredEvidence
    data: bytes


def files(ctx: AppContext) -> EvidenceFiles:
    return EvidenceFiles(ctx.settings.data_dir / "evidence")


def media_type_of(data: bytes, filename: str) -> str | None:
    """The file's type from its first bytes; None when it is not one we accept."""
    lower = filename.lower()
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        for ext, mt in OFFICE_TYPES.items():
            if lower.endswith(ext):
                return mt
        return None
    if lower.endswith(".txt") and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain; charset=utf-8"
    return None


def clean_name(filename: str) -> str:
    """The file's own name, without folders or characters that would confuse a reference."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", base).strip()[:120]


def _current(ctx: AppContext, review_id: str):
    from app.reviews import state_from_log

    return state_from_log(ctx, review_id)


async def store_evidence(ctx: AppContext, principal: Principal, inp: StoreEvidenceInput) -> StoredEvidence:
    state = _current(ctx, inp.review_id)
    got = require_read(ctx.directory, principal, inp.review_id, state)
    if not got.roles & {Role.REVIEWER, Role.CO_REVIEWER}:
        raise Forbidden("only the reviewer or a co-reviewer of this review may add evidence", field="file",
                        message_zh="只有本点评的点评人或协助点评人可以上传佐证材料")
    if state.step is not Step.INVESTIGATE:
        raise Conflict("evidence files belong to findings, which are recorded in the investigate step", field="file",
                       message_zh="佐证材料随调查发现记录，仅在开展调查研究步骤上传")
    if not inp.data:
        raise BadInput("the file is empty", field="file", message_zh="文件为空")
    if len(inp.data) > MAX_BYTES:
        raise BadInput(f"the file is {len(inp.data) / 1048576:.1f} MB; at most {MAX_BYTES // 1048576} MB", field="file",
                       message_zh=f"文件大小 {len(inp.data) / 1048576:.1f} MB，超过上限 {MAX_BYTES // 1048576} MB")
    name = clean_name(inp.filename)
    media_type = media_type_of(inp.data, name)
    if media_type is None:
        raise BadInput(f"{name or 'the file'} is not a PDF, PNG, JPEG, plain-text, Word (.docx) or Excel (.xlsx) file", field="file",
                       message_zh=f"{name or '该文件'} 不是可接受的类型（PDF、PNG、JPEG、纯文本、Word .docx 或 Excel .xlsx）")
    digest = files(ctx).put(inp.data)
    return StoredEvidence(sha256=digest, size=len(inp.data), media_type=media_type, filename=name)


async def read_evidence(ctx: AppContext, principal: Principal, inp: ReadEvidenceInput) -> EvidenceContent:
    """A file a finding of this review refers to, for whoever may read the review."""
    state = _current(ctx, inp.review_id)
    require_read(ctx.directory, principal, inp.review_id, state)
    for finding in state.findings:
        for ev in finding.evidence:
            if ev.reference.startswith(REFERENCE_PREFIX + inp.sha256):
                data = files(ctx).get(inp.sha256)
                if data is None:
                    break
                name = ev.reference[len(REFERENCE_PREFIX) + 64:].strip()
                mt = media_type_of(data, name) or "application/octet-stream"
                return EvidenceContent(file=StoredEvidence(sha256=inp.sha256, size=len(data), media_type=mt, filename=name), data=data)
    raise NotFound(f"review {inp.review_id} has no evidence file {inp.sha256[:12]}…", field="sha256", message_zh="该点评没有此佐证文件")
