"""A person at a browser: a Playwright context per person and language, the
development sign-in, and the checks every page gets (a screenshot, axe-core
with no serious or critical violation, nothing wider than the window)."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"

BLOCKING = ("serious", "critical")
AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


class Person:
    def __init__(self, browser, live, person_id: str, *, lang: str = "zh-CN", width: int = 1280) -> None:
        self.live = live
        self.person_id = person_id
        self.lang = lang
        self.folder = "zh-CN" if lang.startswith("zh") else "en"
        self.context = browser.new_context(locale=lang, viewport={"width": width, "height": 900}, base_url=live.url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)  # a loaded CI machine is slow, not wrong

    def sign_in(self) -> "Person":
        page = self.page
        page.goto("/signin")
        page.fill("#dev-person", self.person_id)
        page.locator('form[action="/signin/dev"] button[type=submit]').click()
        page.wait_for_url(re.compile(r".*/tasks.*"))
        return self

    def goto(self, path: str):
        response = self.page.goto(path)
        assert response is not None and response.status < 400, f"{path}: HTTP {response.status if response else '?'}"
        return response

    def check(self, name: str) -> list[dict]:
        """Screenshot, then axe-core; fails on a serious or critical violation."""
        page = self.page
        page.wait_for_load_state("load")
        folder = SHOTS / self.folder
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_RUN)
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"{name}: axe-core found {json.dumps(blocking, ensure_ascii=False, indent=1)}"
        return violations

    def fits(self, width: int) -> None:
        """Nothing forces a sideways scroll at ``width`` px (tables scroll in their own box)."""
        wide = self.page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width + 1, f"page is {wide}px wide at a {width}px window"

    def close(self) -> None:
        self.context.close()


def screenshot_path(folder: str, name: str) -> Path:
    return SHOTS / folder / f"{name}.png"
