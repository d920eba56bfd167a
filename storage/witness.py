"""Witnesses of the signed checkpoints: copies kept where the log's writer
cannot quietly remove them, as Certificate Transparency keeps signed tree heads
with others. A checkpoint row in the database protects the log only as long as
nobody with SQL access deletes it; a witnessed copy still names the size and
root the service signed, so ``audit verify`` catches a log cut short or
rewritten after its checkpoints were deleted or re-signed.

Each checkpoint is appended as one JSON line to ``checkpoints.jsonl`` under
the witness directory (opened for appending only, flushed to disk), and
optionally POSTed as JSON to a second store (``PINGYI_WITNESS_URL``); the
second store failing is logged, never stops the service.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from storage.checkpoints import Checkpoint

WITNESS_FILE = "checkpoints.jsonl"


class WitnessUnreadable(Exception):
    """The witness file named for verify is missing or not a witness file."""


def witness_file(path: Path) -> Path:
    """A directory holds its ``checkpoints.jsonl``; a file is itself."""
    return path / WITNESS_FILE if path.is_dir() or not path.suffix else path


def _line(cp: Checkpoint) -> str:
    return json.dumps({"tree_size": cp.tree_size, "root_hash": cp.root_hash, "signed_at": cp.signed_at.isoformat(), "key_id": cp.key_id, "signature": cp.signature}, sort_keys=True)


def _last_line(path: Path) -> str | None:
    """The file's last complete line, read from its end (the file only grows)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            block = min(end, 4096)
            f.seek(end - block)
            lines = f.read(block).splitlines()
    except FileNotFoundError:
        return None
    return lines[-1].decode("utf-8", "replace") if lines else None


class WitnessFailed(Exception):
    """A checkpoint could not be witnessed (file or second store)."""


@dataclass
class Witness:
    directory: Path
    url: str | None = None
    timeout: float = 5.0
    _unposted: list[Checkpoint] = field(default_factory=list)

    def keep(self, cp: Checkpoint) -> None:
        """Witness ``cp``: in the file (if not there yet), then in the second
        store, retrying there what it missed before. Raises :class:`WitnessFailed`."""
        try:
            written = self.record(cp)
        except OSError as e:
            raise WitnessFailed(f"checkpoint at size {cp.tree_size} not written to the witness file {self.file}: {e.strerror or e}") from None
        if written and self.url:
            self._unposted.append(cp)
        while self._unposted:
            try:
                self.post(self._unposted[0])
            except (OSError, ValueError) as e:
                raise WitnessFailed(f"checkpoint at size {self._unposted[0].tree_size} not accepted by the witness store {self.url}: {e}") from None
            self._unposted.pop(0)

    @property
    def file(self) -> Path:
        return self.directory / WITNESS_FILE

    def newest_size(self) -> int:
        last = _last_line(self.file)
        if not last:
            return 0
        try:
            return int(json.loads(last)["tree_size"])
        except (ValueError, KeyError, TypeError):
            return 0  # a torn last line: the next checkpoint is written after it

    def record(self, cp: Checkpoint) -> bool:
        """Append ``cp`` unless the file already ends at its size or beyond;
        True if it was written. Raises OSError if the file cannot be written."""
        if self.newest_size() >= cp.tree_size:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, ("\n" if self._ends_torn() else "").encode() + (_line(cp) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def _ends_torn(self) -> bool:
        try:
            with open(self.file, "rb") as f:
                f.seek(-1, os.SEEK_END)
                return f.read(1) != b"\n"
        except (FileNotFoundError, OSError):
            return False

    def post(self, cp: Checkpoint) -> None:
        """Send ``cp`` to the second store, if one is configured (raises OSError)."""
        if not self.url:
            return
        req = urllib.request.Request(self.url, data=_line(cp).encode(), headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (the operator's own URL)
            if resp.status >= 300:
                raise OSError(f"the witness store at {self.url} answered {resp.status}")


def witness_from_settings() -> Witness:
    from config.settings import get_settings

    s = get_settings()
    return Witness(s.effective_witness_dir, s.witness_url)


@dataclass
class Witnessed:
    """What a witness file holds: its checkpoints (oldest first) and the lines
    that are not checkpoints (each a finding of its own)."""

    path: Path
    checkpoints: list[Checkpoint]
    bad_lines: list[int]

    @property
    def newest(self) -> Checkpoint | None:
        return max(self.checkpoints, key=lambda c: c.tree_size, default=None)


def read_witness(path: Path) -> Witnessed:
    """Read a witness file (or a directory's ``checkpoints.jsonl``)."""
    f = witness_file(path)
    try:
        text = f.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WitnessUnreadable(f"no witness file at {f}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise WitnessUnreadable(f"cannot read the witness file {f}: {e}") from None
    cps, bad = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            cps.append(Checkpoint(tree_size=d["tree_size"], root_hash=d["root_hash"], signed_at=datetime.fromisoformat(d["signed_at"]), key_id=d["key_id"], signature=d["signature"]))
        except (ValueError, KeyError, TypeError, ValidationError):
            bad.append(i)
    return Witnessed(f, cps, bad)
