"""``reviewctl audit`` as an auditor types it, against a SQLite log file."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.audit import app
from review_builders import make_spec, run_full_procedure
from storage.db import make_engine
from storage.eventlog import EventStore
from storage.migrate import upgrade
from test_replay_and_export import store_run


@pytest.fixture
def db(sqlite_url, monkeypatch):
    monkeypatch.setenv("PINGYI_SIGNING_KEY", "cli-test-key")
    from config.settings import get_settings

    get_settings.cache_clear()
    eng = make_engine(sqlite_url)
    upgrade(eng)
    store_run(EventStore(eng), run_full_procedure(make_spec(review_id="rv-cli")), "rv-cli")
    eng.dispose()
    yield sqlite_url
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from rich.console import Console

    import cli.audit

    monkeypatch.setattr(cli.audit, "out", Console(width=240))


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_timeline_in_both_languages(db):
    zh = invoke("timeline", "rv-cli", "--db", db)
    assert zh.exit_code == 0, zh.output
    assert "点评启动" in zh.output and "落实整改措施" in zh.output
    en = invoke("timeline", "rv-cli", "--lang", "en", "--json", "--db", db)
    rows = [json.loads(x) for x in en.output.splitlines()]
    assert rows[0]["event"] == "review started" and rows[-1]["step"] == "closed"


def test_state_as_of(db):
    res = invoke("state", "rv-cli", "--as-of", "2010-12-07T10:30:00+00:00", "--db", db)
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert s["step"] == "investigate" and s["version"] >= 2
    assert invoke("state", "rv-cli", "--as-of", "2010-12-01T00:00:00", "--db", db).exit_code == 1


def test_checkpoint_export_and_offline_verify(db, tmp_path):
    assert invoke("checkpoint", "--db", db).exit_code == 0
    f = tmp_path / "all.csv"
    res = invoke("export", "--all", "--format", "csv", "--out", f, "--db", db)
    assert res.exit_code == 0, res.output
    ok = invoke("verify", "--export", f)
    assert ok.exit_code == 0, ok.output
    assert invoke("verify", "--db", db).exit_code == 0
    assert invoke("verify", "--stream", "rv-cli", "--db", db).exit_code == 0
    assert invoke("verify", "--stream", "rv-missing", "--db", db).exit_code == 1
    f.write_text(f.read_text(encoding="utf-8").replace("p-reviewer", "p-imposter", 1), encoding="utf-8")
    bad = invoke("verify", "--export", f)
    assert bad.exit_code == 1 and "edited" in bad.output
