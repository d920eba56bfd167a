"""Evidence files, stored content-addressed: a file's name on disk is its
SHA-256, so storing the same bytes twice is one file, a stored file cannot be
changed without its name (the hash recorded in the finding's event) no longer
matching, and a retried upload is harmless. Written to a temporary name and
renamed, so a crash never leaves half a file under a hash."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class EvidenceFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes | None:
        path = self.path_of(sha256)
        if not path.exists():
            return None
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"evidence file {sha256} does not match its hash: it was altered on disk")
        return data
