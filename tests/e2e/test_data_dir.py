"""The embedded default refuses a data directory it cannot use, at start and
in one line (issue 13, point 7): read-only, on a full disk, a file, or one a
running ``serve`` holds. The tests run as root, where permission bits stop no
write: a read-only or full disk is a real tmpfs mount where the machine allows
mounting, and an injected error where it does not."""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from helpers import BIN, REPO, free_port

from service import datadir
from service.datadir import DataDirUnusable, check_writable, hold


@pytest.fixture
def mount_point(tmp_path):
    """A tiny tmpfs (64 KiB) at a fresh folder, unmounted after the test."""
    where = tmp_path / "mnt"
    where.mkdir()
    mounted = []

    def mount(*options: str) -> Path:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(where)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for m in mounted:
        subprocess.run(["umount", "-l", str(m)], capture_output=True)


def test_a_read_only_mount_is_named(mount_point):
    ro = mount_point("ro")
    with pytest.raises(DataDirUnusable, match="is read-only"):
        check_writable(ro / "var")  # cannot even be created
    with pytest.raises(DataDirUnusable, match="is read-only"):
        check_writable(ro)


def test_a_full_disk_is_named(mount_point, monkeypatch):
    small = mount_point()
    with pytest.raises(DataDirUnusable, match="is on a full disk"):
        check_writable(small)  # 64 KiB: the probe write itself fails
    monkeypatch.setattr(datadir, "PROBE_BYTES", 1024)  # takes the probe, but has too little room left
    with pytest.raises(DataDirUnusable, match=r"on a full disk \(only \d+ KiB free"):
        check_writable(small)


@pytest.mark.parametrize(("code", "said"), [(errno.ENOSPC, "is on a full disk"), (errno.EROFS, "is read-only"), (errno.EIO, "cannot use the data directory")])
def test_a_refused_write_is_explained(tmp_path, monkeypatch, code, said):
    def refuse(fd, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(datadir.os, "write", refuse)
    with pytest.raises(DataDirUnusable, match=said):
        check_writable(tmp_path / "var")
    assert not list((tmp_path / "var").glob(".write-probe-*")), "the probe file is left behind"


def test_a_path_that_cannot_be_a_folder(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    with pytest.raises(DataDirUnusable, match="is a file, not a folder"):
        check_writable(f)
    with pytest.raises(DataDirUnusable, match="cannot use the data directory"):
        check_writable(Path("/proc") / f"pingyi-{uuid.uuid4().hex}")


def test_one_holder_at_a_time(tmp_path):
    first = hold(tmp_path)
    try:
        with pytest.raises(DataDirUnusable, match=f"pid {os.getpid()}.*already running on the data directory"):
            hold(tmp_path)
    finally:
        first.release()
    hold(tmp_path).release()  # free again once released


def test_serve_on_an_unusable_data_dir_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "PINGYI_"))}
    (tmp_path / "a-file").write_text("x")
    env.update(PINGYI_DATA_DIR=str(tmp_path / "a-file"), PINGYI_DEV_SERVER_PORT=str(free_port()), PINGYI_DEV_UI_PORT=str(free_port()))
    p = subprocess.run([str(BIN / "reviewctl"), "serve"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    said = p.stdout + p.stderr
    assert p.returncode == 1 and "cannot start:" in said and "is a file, not a folder" in said and "Traceback" not in said, said
