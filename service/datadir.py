"""The data directory of the embedded default, checked and held before anything
starts: it must be writable with room to grow (the Temporal server's SQLite
file and the event log live there), and only one ``reviewctl serve`` may use
it at a time — a second one would otherwise fail later on a port clash, or
worse, share the SQLite files."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = "pingyi.lock"
MIN_FREE_BYTES = 32 * 1024 * 1024  # the dev server's SQLite file and WAL grow by megabytes
PROBE_BYTES = 64 * 1024
FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


class DataDirUnusable(RuntimeError):
    """The data directory cannot hold the service's data; the message says why."""


def _explain(path: Path, e: OSError, doing: str) -> DataDirUnusable:
    if e.errno in FULL:
        return DataDirUnusable(f"the data directory {path} is on a full disk ({doing}: {e.strerror}); free some space, or set PINGYI_DATA_DIR to a disk with room")
    if e.errno in READ_ONLY:
        return DataDirUnusable(f"the data directory {path} is read-only ({doing}: {e.strerror}); make it writable, or set PINGYI_DATA_DIR to a writable folder")
    return DataDirUnusable(f"cannot use the data directory {path} ({doing}: {e.strerror or e}); set PINGYI_DATA_DIR to a writable folder")


def check_writable(path: Path, *, min_free: int = MIN_FREE_BYTES) -> None:
    """Create ``path`` if needed, then prove it takes a write and has room.
    Checked by writing, not by ``os.access``: root passes every permission
    check, yet a read-only mount or a full disk still refuses the write."""
    path = path.absolute()
    if path.exists() and not path.is_dir():
        raise DataDirUnusable(f"the data directory {path} is a file, not a folder; set PINGYI_DATA_DIR to a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _explain(path, e, "creating it") from None
    probe = path / f".write-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise _explain(path, e, "writing a test file") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    free = shutil.disk_usage(path).free
    if free < min_free:
        raise DataDirUnusable(
            f"the data directory {path} is on a full disk (only {free // 1024} KiB free, at least {min_free // (1024 * 1024)} MiB needed); free some space, or set PINGYI_DATA_DIR to a disk with room"
        )


@dataclass
class DataDirLock:
    """An exclusive ``flock`` on ``data_dir/pingyi.lock``, held while the
    process lives (the kernel drops it when the process dies, even by kill -9)."""

    path: Path
    fd: int

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


def hold(data_dir: Path) -> DataDirLock:
    path = data_dir.absolute() / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise _explain(data_dir.absolute(), e, "creating its lock file") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise DataDirUnusable(
            f"another 'reviewctl serve' ({holder}) is already running on the data directory {data_dir.absolute()}; "
            "use that one, stop it first (Ctrl-C in its terminal), or give this one its own PINGYI_DATA_DIR"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}, since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n".encode(), 0)
    return DataDirLock(path, fd)
