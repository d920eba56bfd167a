"""Browser tests: Debian's Chromium (/usr/bin/chromium, installed by
.ci/browsers; never a downloaded browser) driven by Playwright's Python
package, against the live service; screenshots of every page under
test-artifacts/screenshots/ (ignored; CI keeps them as artifacts), axe-core
(from node_modules) on every page."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if missing:
        why = f"browser tests need {', '.join(missing)} (make test installs them: .ci/browsers, npm ci)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="package")
def live(tmp_path_factory):
    _need_browser()
    from live import LiveService

    service = LiveService(tmp_path_factory.mktemp("pages-live")).start()
    yield service
    service.stop()


@pytest.fixture(scope="package")
def browser():
    """Package-scoped, not session: Playwright's sync API keeps an event loop
    running on this thread while it is open, and every async test after it
    (pytest-asyncio's Runner) would then refuse to start."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield b
        b.close()
