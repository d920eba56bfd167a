"""The front-end files the pages serve: our own stylesheet from
``pages/static`` and the npm packages' built files from ``node_modules``
(installed by ``npm ci`` from the committed ``package-lock.json`` at set-up;
served by us because users' networks are often closed: no CDN)."""

from __future__ import annotations

from pathlib import Path

import structlog
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

log = structlog.get_logger(__name__)

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
OWN_STATIC = Path(__file__).resolve().parent / "static"

# what a page may load, and where npm put it
VENDOR_FILES: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
}
# loaded by the browser tests only (injected, never linked from a page)
AXE_FILE = "axe-core/axe.min.js"

router = APIRouter(include_in_schema=False)


def vendor_path(name: str) -> Path | None:
    rel = VENDOR_FILES.get(name)
    return NODE_MODULES / rel if rel else None


def missing_vendor_files() -> list[str]:
    return [rel for rel in VENDOR_FILES.values() if not (NODE_MODULES / rel).is_file()]


@router.get("/static/vendor/{name}")
def vendor(name: str) -> FileResponse:
    path = vendor_path(name)
    if path is None or not path.is_file():
        raise HTTPException(404, f"no front-end file {name!r} (run 'make' to install the npm packages)")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
