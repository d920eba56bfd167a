"""The front-end files are served from our own origin (closed networks: no
CDN), the language switch stores a person's choice, and ``next`` never leaves the site."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import pages
from pages import assets
from pages.locale_switch import safe_next


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    pages.install(app)
    return TestClient(app)


@pytest.mark.skipif(bool(assets.missing_vendor_files()), reason="npm packages not installed (make pages-assets)")
def test_vendor_files_come_from_node_modules(client):
    for name in assets.VENDOR_FILES:
        r = client.get(f"/static/vendor/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith("text/javascript")
        assert len(r.content) > 10_000
    assert client.get("/static/vendor/../package.json").status_code == 404
    assert client.get("/static/vendor/axe.min.js").status_code == 404  # tests inject it; pages never link it


def test_own_stylesheet_is_served(client):
    r = client.get("/static/pages/pages.css")
    assert r.status_code == 200 and "--accent" in r.text


def test_the_language_switch_sets_a_cookie_and_goes_back(client):
    r = client.post("/lang", data={"lang": "en", "next": "/tasks?x=1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tasks?x=1"
    assert "pingyi_lang=en" in r.headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", "", None, "tasks"])
def test_next_stays_on_the_site(target):
    assert safe_next(target) == "/"


def test_package_lock_pins_the_front_end_packages():
    import json

    lock = json.loads((assets.ROOT / "package-lock.json").read_text())
    pkgs = lock["packages"]
    for name in ("htmx.org", "echarts", "axe-core"):
        assert pkgs[f"node_modules/{name}"]["version"], name
