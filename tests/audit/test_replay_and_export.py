"""Replay (timeline, state as of a time), schema evolution through the store,
and exports verified offline — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from domain.events import DomainEvent, EventRecord, event, from_record, to_records, upcaster
from domain.procedure import Step
from domain.review import fold
from log_builders import drop_append_only_triggers, fill, raw
from review_builders import T0, run_full_procedure
from storage.checkpoints import write_checkpoint
from storage.eventlog import EventStore
from storage.export import ExportScope, export, manifest_path, verify_export
from storage.signing import Signer
from storage.timeline import state_as_of, timeline


def store_run(store: EventStore, run, review_id: str) -> list[EventRecord]:
    recs = to_records(review_id, 0, run.events, causation_id=None)
    for r in recs:  # one append per event, as separate commands would
        store.append(review_id, r.version - 1, [r])
    return recs


@pytest.fixture
def review(engine):
    from review_builders import make_spec

    store = EventStore(engine)
    run = run_full_procedure(make_spec(review_id="rv-full"))
    store_run(store, run, "rv-full")
    return store, run


def test_state_as_of_every_moment_equals_the_fold_up_to_it(review):
    store, run = review
    assert run.state.step is Step.CLOSED
    for t in sorted({e.occurred_at for e in run.events}):
        expected = fold(e for e in run.events if e.occurred_at <= t)
        assert state_as_of(store, "rv-full", t) == expected
    assert state_as_of(store, "rv-full", T0 - timedelta(seconds=1)).version == 0
    assert state_as_of(store, "rv-full") == run.state


@pytest.mark.parametrize("lang, started, step", [("zh", "点评启动", "开展调查研究"), ("en", "review started", "1 investigate")])
def test_timeline_lists_every_event_with_actor_role_reason_and_step(review, lang, started, step):
    store, run = review
    rows = timeline(store, "rv-full", lang)
    assert [r.version for r in rows] == list(range(1, len(run.events) + 1))
    assert rows[0].event == started and rows[0].step_name == ""
    assert rows[1].step_name == step
    assert rows[-1].step is Step.CLOSED
    returned = next(r for r in rows if r.event_type == "review.rectification_plan_returned")
    assert returned.reason and returned.actor_role == "reviewer" and returned.role_name
    assert all(r.actor_id and r.role_name for r in rows[1:])


# ---- schema evolution ---------------------------------------------------------


@event("test.audit.remark_recorded", schema_version=2)
class RemarkRecorded(DomainEvent):
    """v1 had one free ``text``; v2 splits it into the remark and its language."""

    remark: str
    language: str


@upcaster("test.audit.remark_recorded", from_version=1)
def _remark_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    return {"remark": payload["text"], "language": "zh"}


def test_a_stored_v1_event_is_upcast_on_read(engine):
    store = EventStore(engine)
    v1 = EventRecord(stream_id="rv-old", version=1, event_type="test.audit.remark_recorded", schema_version=1, occurred_at=T0, actor_id="p-1", actor_role="reviewer", payload={"text": "旧格式"})
    store.append("rv-old", 0, [v1])
    stored = store.read_stream("rv-old")[0]
    assert stored.schema_version == 1 and stored.payload == {"text": "旧格式"}  # history is never rewritten
    ev = from_record(stored)
    assert isinstance(ev, RemarkRecorded) and (ev.remark, ev.language) == ("旧格式", "zh")


# ---- export -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_of_everything_verifies_offline_with_the_public_key_alone(engine, signer, tmp_path, fmt):
    store = EventStore(engine)
    fill(store, {"a": 4, "b": 3})
    write_checkpoint(engine, signer)
    fill(store, {"c": 2})
    f = tmp_path / f"all.{fmt}"
    m = export(engine, ExportScope(kind="all"), f, signer, fmt)
    assert (m.count, m.last_position, m.checkpoint.tree_size) == (9, 9, 7)
    from storage.signing import Verifier

    report = verify_export(f, Verifier(signer.key_id))
    assert report.ok, report.defects
    assert report.events == 9 and report.checkpoints_verified == 1
    # another key does not vouch for it
    assert not verify_export(f, Signer("someone else").verifier()).ok


def test_export_of_a_campaign_holds_its_reviews_only(engine, signer, tmp_path):
    from review_builders import make_spec

    store = EventStore(engine)
    store_run(store, run_full_procedure(make_spec(review_id="rv-x", campaign_id="cp-1")), "rv-x")
    store_run(store, run_full_procedure(make_spec(review_id="rv-y", campaign_id="cp-2")), "rv-y")
    f = tmp_path / "cp-1.jsonl"
    m = export(engine, ExportScope(kind="campaign", id="cp-1"), f, signer)
    lines = [json.loads(x) for x in f.read_text().splitlines()]
    assert {x["stream_id"] for x in lines} == {"rv-x"} and m.count == len(lines) == store.stream_version("rv-x")
    assert verify_export(f, signer.verifier()).ok


def test_tampered_export_names_the_line(engine, signer, tmp_path):
    store = EventStore(engine)
    fill(store, {"a": 3, "b": 3})
    f = tmp_path / "a.jsonl"
    export(engine, ExportScope(kind="stream", id="a"), f, signer)
    lines = f.read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[1])
    edited["actor_id"] = "p-other"
    f.write_text("\n".join([lines[0], json.dumps(edited, ensure_ascii=False), lines[2]]) + "\n", encoding="utf-8")
    report = verify_export(f, signer.verifier())
    assert [(d.position, d.kind) for d in report.defects if d.position][0] == (edited["position"], "edited")
    # dropping a line
    f.write_text("\n".join([lines[0], lines[2]]) + "\n", encoding="utf-8")
    report = verify_export(f, signer.verifier())
    assert any(d.kind == "deleted" for d in report.defects)
    # forging the manifest
    man = json.loads(manifest_path(f).read_text())
    man["count"] = 2
    manifest_path(f).write_text(json.dumps(man))
    assert any("signature" in d.detail for d in verify_export(f, signer.verifier()).defects)


def test_export_of_a_tampered_log_does_not_verify(engine, signer, tmp_path):
    store = EventStore(engine)
    fill(store, {"a": 3})
    drop_append_only_triggers(engine)
    raw(engine, "UPDATE events SET reason = 'rewritten' WHERE position = 2")
    f = tmp_path / "a.jsonl"
    export(engine, ExportScope(kind="stream", id="a"), f, signer)
    assert verify_export(f, signer.verifier()).first_bad.position == 2
