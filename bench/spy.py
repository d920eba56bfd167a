"""py-spy attached to this process for one phase of a benchmark, so each
phase's CPU can be split by ``bench.profile_split`` into where it went.
py-spy is a profiling tool, not a dependency of the service: ``pip install
py-spy`` into the venv (it ships a static binary in its wheel)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def py_spy() -> str:
    here = Path(sys.executable).parent / "py-spy"
    found = str(here) if here.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile: py-spy is not installed (.venv/bin/pip install py-spy)")
    return found


class Spy:
    """Records ``name``'s samples (raw, collapsed stacks, GIL-holding only)
    into ``directory/name.txt`` (``name-2.txt``… on later rounds)."""

    def __init__(self, directory: Path, name: str, rate: int) -> None:
        self.rate = rate
        self.out = directory / f"{name}.txt"
        k = 1
        while self.out.exists():
            k += 1
            self.out = directory / f"{name}-{k}.txt"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Spy":
        self.proc = subprocess.Popen([py_spy(), "record", "--pid", str(os.getpid()), "--rate", str(self.rate), "--format", "raw", "--nonblocking", "--gil", "-o", str(self.out)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # attached before the phase starts
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=120)
