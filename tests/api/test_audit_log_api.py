"""The log-wide audit tools over HTTP (auditors): verify the whole log or one
stream (an edited event is named in the report, not hidden behind an error;
a size and root noted by hand are checked), and the export download (a zip of
the file and its signed manifest that verifies offline with the public key)."""

from __future__ import annotations

import io
import zipfile

from api_support import person, token
from sqlalchemy import text
from test_auth import assert_error

from domain.accounts import StandingRole, TokenScope
from storage.export import manifest_path, verify_export
from storage.schema import APPEND_ONLY_TRIGGERS
from storage.signing import Signer

AUDITOR, SOMEONE = "P-000003", "P-000368"


def _auditor(accounts) -> dict:
    person(accounts, AUDITOR, (StandingRole.AUDITOR, None))
    person(accounts, SOMEONE)
    return {"Authorization": f"Bearer {token(accounts, AUDITOR)}"}


async def test_verify_reports_the_log_and_names_an_edited_event(client, accounts, ctx):
    auth = _auditor(accounts)
    whole = await client.get("/api/v1/audit/verify", headers=auth)
    assert whole.status_code == 200, whole.text
    report = whole.json()
    assert report["events"] >= 4 and report["defects_total"] == 0
    with ctx.engine.connect() as conn:
        stream = conn.execute(text("SELECT stream_id FROM events ORDER BY position DESC LIMIT 1")).scalar_one()
    one = (await client.get("/api/v1/audit/verify", params={"stream_id": stream}, headers=auth)).json()
    assert 0 < one["events"] < report["events"] and one["defects_total"] == 0, one

    with ctx.engine.begin() as conn:  # an insider drops the append-only triggers and edits a stored event
        for name, _table in APPEND_ONLY_TRIGGERS["sqlite"]:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        pos = conn.execute(text("SELECT min(position) FROM events")).scalar_one()
        conn.execute(text("UPDATE events SET actor_id = 'someone-else' WHERE position = :p"), {"p": pos})
    edited = (await client.get("/api/v1/audit/verify", headers=auth)).json()
    assert edited["defects_total"] >= 1 and edited["defects"][0]["position"] == pos, edited


async def test_verify_checks_what_was_noted_by_hand_and_refuses_naming_the_field(client, accounts):
    auth = _auditor(accounts)
    assert_error(await client.get("/api/v1/audit/verify", params={"expect_size": 2}, headers=auth), 422, "bad_input", "expect_root")
    assert_error(await client.get("/api/v1/audit/verify", params={"expect_size": 2, "expect_root": "xyz"}, headers=auth), 422, "bad_input", "expect_root")
    wrong = (await client.get("/api/v1/audit/verify", params={"expect_size": 2, "expect_root": "0" * 64}, headers=auth)).json()
    assert wrong["defects_total"] >= 1, wrong
    assert_error(await client.get("/api/v1/audit/verify", params={"public_key": "nope"}, headers=auth), 422, "bad_input", "public_key")
    other = {"Authorization": f"Bearer {token(accounts, SOMEONE)}"}
    assert_error(await client.get("/api/v1/audit/verify", headers=other), 403, "forbidden")


async def test_the_export_download_verifies_offline(client, accounts, ctx, tmp_path):
    auth = _auditor(accounts)
    got = await client.get("/api/v1/audit/export", params={"format": "csv"}, headers=auth)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip" and got.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(got.content)) as z:
        z.extractall(tmp_path)
        names = z.namelist()
    data = next(tmp_path / n for n in names if n.endswith(".csv"))
    assert manifest_path(data).name in names
    trusted = Signer(ctx.settings.signing_key).verifier()
    report = verify_export(data, trusted)
    assert report.ok and report.events == int(got.headers["x-pingyi-events"]) > 0, report
    assert_error(await client.get("/api/v1/audit/export", params={"stream_id": "rv-nope"}, headers=auth), 404, "not_found", "stream_id")
    assert_error(await client.get("/api/v1/audit/export", params={"stream_id": "rv-x", "campaign_id": "c-1"}, headers=auth), 422, "bad_input", "campaign_id")
    assert_error(await client.get("/api/v1/audit/export", params={"format": "xml"}, headers=auth), 422, "bad_input", "format")
    no_scope = {"Authorization": f"Bearer {token(accounts, AUDITOR, scopes=(TokenScope.REVIEWS_READ,))}"}
    assert (await client.get("/api/v1/audit/export", headers=no_scope)).status_code == 403
