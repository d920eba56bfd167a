"""Exports an auditor can take away and verify offline: JSON Lines (or CSV) of
a stream, a campaign or the whole log, with a signed manifest beside it
(``FILE.manifest.json``).

The manifest states the count, the first and last position, the export's own
chain head (SHA-256 folded over the exported event hashes in order, so
dropping or reordering lines shows), the file's SHA-256 and, for a whole-log
export, the latest signed checkpoint it covers. It is signed with the
service's Ed25519 key; ``verify --export FILE`` needs only the public key.

Every line carries the event's stored columns, so the verifier recomputes each
event's hash and each stream's chain and names the first bad position.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal

from pydantic import BaseModel
from sqlalchemy import Engine, select

from storage import scan
from storage.canonical import GENESIS_HASH, canonical_json, raw_hash
from storage.checkpoints import Checkpoint, all_checkpoints
from storage.merkle import CompactRange
from storage.schema import log_head, ts_text
from storage.signing import Signer, Verifier
from storage.verify import Defect, VerifyReport, _Defects

FIELDS = ("position", "stream_id", "version", "event_type", "schema_version", "occurred_at", "recorded_at", "actor_id", "actor_role", "reason", "causation_id", "payload", "prev_hash", "hash")
CSV_NULL = "\\N"  # as PostgreSQL COPY writes it: keeps None apart from ""
FORMAT = "pingyi-export/v1"


class ExportScope(BaseModel):
    kind: Literal["stream", "campaign", "all"]
    id: str | None = None

    def label(self) -> str:
        return self.kind if self.id is None else f"{self.kind} {self.id}"


class Manifest(BaseModel):
    format: Literal["pingyi-export/v1"] = FORMAT
    file_name: str
    file_format: Literal["jsonl", "csv"]
    file_sha256: str
    scope: ExportScope
    count: int
    streams: int
    first_position: int | None
    last_position: int | None
    chain_head: str
    log_head: int
    checkpoint: Checkpoint | None = None
    exported_at: datetime
    key_id: str
    signature: str = ""

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"})).encode()


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + ".manifest.json")


def _fold(head: bytes, event_hash: str) -> bytes:
    return hashlib.sha256(head + bytes.fromhex(event_hash)).digest()


def campaign_streams(conn, campaign_id: str) -> set[str]:
    """The reviews started in the campaign (``ReviewStarted.spec.campaign_id``),
    plus the campaign's own stream, whose id is the campaign id."""
    found = {campaign_id}
    for sid, payload in scan.rows(conn, columns="stream_id, payload", where="event_type = 'review.started'", order="position"):
        if json.loads(payload).get("spec", {}).get("campaign_id") == campaign_id:
            found.add(sid)
    return found


def _scoped_rows(conn, scope: ExportScope) -> Iterator[tuple]:
    if scope.kind == "stream":
        yield from scan.rows(conn, where="stream_id = {p}", params=(scope.id,))
    elif scope.kind == "campaign":
        wanted = campaign_streams(conn, scope.id or "")
        yield from (r for r in scan.rows(conn) if r[1] in wanted)
    else:
        yield from scan.rows(conn)


def _as_text_row(r) -> list:
    out = list(r)
    for i in (5, 6):
        if out[i].__class__ is not str:
            out[i] = ts_text(out[i])
    return out


class _HashingWriter:
    """Hashes exactly the bytes it writes, so the manifest's file hash costs no second read."""

    def __init__(self, f, h) -> None:
        self.f, self.h = f, h

    def write(self, s: str) -> None:
        self.f.write(s)
        self.h.update(s.encode())


def export(engine: Engine, scope: ExportScope, out: Path, signer: Signer, file_format: Literal["jsonl", "csv"] = "jsonl") -> Manifest:
    count = 0
    first = last = None
    head = bytes.fromhex(GENESIS_HASH)
    streams: set[str] = set()  # ids only, for the count; a campaign's or the log's reviews
    file_hash = hashlib.sha256()
    with scan.snapshot(engine) as conn, out.open("w", encoding="utf-8", newline="") as f:
        log_position = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        checkpoint = None
        if scope.kind == "all":
            covered = [cp for cp in all_checkpoints(conn) if cp.tree_size <= log_position]
            checkpoint = covered[-1] if covered else None
        sink = _HashingWriter(f, file_hash)
        writer = csv.writer(sink)
        if file_format == "csv":
            writer.writerow(FIELDS)
        for r in _scoped_rows(conn, scope):
            row = _as_text_row(r)
            if file_format == "csv":
                writer.writerow([CSV_NULL if v is None else v for v in row])
            else:
                d = dict(zip(FIELDS, row))
                d["payload"] = json.loads(d["payload"])
                sink.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n")
            head = _fold(head, row[13])
            streams.add(row[1])
            count += 1
            first = row[0] if first is None else first
            last = row[0]
    m = Manifest(
        file_name=out.name,
        file_format=file_format,
        file_sha256=file_hash.hexdigest(),
        scope=scope,
        count=count,
        streams=len(streams),
        first_position=first,
        last_position=last,
        chain_head=head.hex(),
        log_head=log_position,
        checkpoint=checkpoint,
        exported_at=datetime.now(timezone.utc),
        key_id=signer.key_id,
    )
    m.signature = signer.sign(m.signed_bytes())
    manifest_path(out).write_text(json.dumps(m.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return m


# ---- offline verification ------------------------------------------------------


def _read_rows(file: Path, file_format: str) -> Iterator[tuple]:
    with file.open(encoding="utf-8", newline="") as f:
        if file_format == "csv":
            reader = csv.reader(f)
            next(reader, None)
            for cells in reader:
                v = [None if c == CSV_NULL else c for c in cells]
                yield (int(v[0]), v[1], int(v[2]), v[3], int(v[4]), *v[5:])
        else:
            for line in f:
                d = json.loads(line)
                yield tuple(canonical_json(d[k]) if k == "payload" else d[k] for k in FIELDS)


def _file_sha256(file: Path) -> str:
    h = hashlib.sha256()
    with file.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_export(file: Path, trusted: Verifier) -> VerifyReport:
    """Check an export with nothing but the file, its manifest and the public key."""
    report = VerifyReport(scope=f"export {file.name}")
    defects = _Defects()
    m = Manifest.model_validate_json(manifest_path(file).read_text(encoding="utf-8"))
    if m.key_id != trusted.key_id or not trusted.valid(m.signed_bytes(), m.signature):
        defects.add(Defect(position=0, kind="checkpoint", detail="the manifest's signature does not verify with the trusted key: the manifest is forged or altered"))
    if _file_sha256(file) != m.file_sha256:
        defects.add(Defect(position=0, kind="edited", detail="the file's SHA-256 differs from the signed manifest's (see the event defects for where)"))
    heads: dict[str, tuple[int, str, int]] = {}  # stream -> (version, hash, position)
    chain = bytes.fromhex(GENESIS_HASH)
    cr = CompactRange() if m.checkpoint else None
    count = 0
    last_pos = 0
    whole_log = m.scope.kind == "all"
    for r in _read_rows(file, m.file_format):
        pos, sid, version = r[0], r[1], r[2]
        if pos <= last_pos:
            defects.add(Defect(position=pos, kind="reordered", stream_id=sid, version=version, detail=f"position {pos} follows position {last_pos}"))
        elif whole_log and pos != last_pos + 1:
            defects.add(Defect(position=last_pos + 1, kind="deleted", detail=f"positions {last_pos + 1}..{pos - 1} missing from a whole-log export"))
        if raw_hash(r) != r[13]:
            defects.add(Defect(position=pos, kind="edited", stream_id=sid, version=version, detail="the line's fields do not match the event's hash"))
        prev_version, prev_hash, _ = heads.get(sid, (0, GENESIS_HASH, 0))
        if version != prev_version + 1:
            defects.add(Defect(position=pos, kind="deleted", stream_id=sid, version=version, detail=f"v{prev_version + 1}..v{version - 1} of the stream missing before this event"))
        elif r[12] != prev_hash:
            defects.add(Defect(position=pos, kind="edited", stream_id=sid, version=version, detail="prev_hash does not match the previous event of the stream"))
        heads[sid] = (version, r[13], pos)
        chain = _fold(chain, r[13])
        if cr is not None and cr.size < m.checkpoint.tree_size:
            cr.append(r[13])
        count += 1
        last_pos = max(last_pos, pos)
    if count != m.count or m.last_position not in (None, last_pos) or chain.hex() != m.chain_head:
        defects.add(Defect(position=last_pos + 1 if count < m.count else 0, kind="deleted" if count < m.count else "edited", detail=f"the file holds {count} events ending at {last_pos}; the manifest signed {m.count} ending at {m.last_position} with another chain head"))
    if m.checkpoint is not None:
        report.checkpoints_verified = 1
        if not m.checkpoint.signature_valid(trusted) or cr.size != m.checkpoint.tree_size or cr.root() != m.checkpoint.root_hash:
            report.checkpoints_verified = 0
            defects.add(Defect(position=1, kind="checkpoint", detail=f"the first {m.checkpoint.tree_size} events do not reproduce the signed checkpoint's root"))
    report.events, report.streams, report.last_position, report.head_position = count, len(heads), last_pos, m.log_head
    report.defects_total, report.defects = defects.total, defects.sorted()
    return report
