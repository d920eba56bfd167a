"""The per-process cache of folded review states (app.review_states): after
every append it answers exactly the fold of the whole stream, and a stream
that is not the one it folded (cut, or its last folded event rewritten
behind the log's back) is folded again, never answered from memory."""

from __future__ import annotations

from datetime import timedelta

from domain.events import from_record, to_records
from domain.review import ReviewState, fold
from log_builders import drop_append_only_triggers, raw
from review_builders import make_spec, run_full_procedure
from storage.eventlog import EventStore

from app.review_states import ReviewStates


def whole(store: EventStore, review_id: str) -> ReviewState:
    return fold(from_record(r) for r in store.read_stream(review_id))


def test_after_every_append_the_cached_state_is_the_fold_of_the_whole_stream(engine):
    store = EventStore(engine)
    run = run_full_procedure(make_spec(review_id="rv-cache"))
    states = ReviewStates(store)
    assert states.current("rv-cache") == ReviewState()  # no stream yet: nothing kept
    for r in to_records("rv-cache", 0, run.events):
        store.append("rv-cache", r.version - 1, [r])
        assert states.current("rv-cache") == whole(store, "rv-cache")
        assert states.current("rv-cache") == whole(store, "rv-cache")  # asked again with nothing new
    assert states.current("rv-cache") == run.state


def test_only_the_events_after_the_folded_ones_are_read(engine, monkeypatch):
    store = EventStore(engine)
    run = run_full_procedure(make_spec(review_id="rv-read"))
    records = to_records("rv-read", 0, run.events)
    store.append("rv-read", 0, records[:5])
    states = ReviewStates(store)
    states.current("rv-read")
    store.append("rv-read", 5, records[5:7])
    asked: list[int] = []
    real = store.read_stream
    expected = whole(store, "rv-read")
    monkeypatch.setattr(store, "read_stream", lambda sid, **kw: asked.append(kw.get("from_version", 1)) or real(sid, **kw))
    assert states.current("rv-read") == expected
    assert asked == [5]  # the last folded event (its hash checked) and the two new ones


def test_a_stream_cut_or_rewritten_behind_the_log_s_back_is_folded_again(engine):
    store = EventStore(engine)
    run = run_full_procedure(make_spec(review_id="rv-tamper"))
    store.append("rv-tamper", 0, to_records("rv-tamper", 0, run.events))
    states = ReviewStates(store)
    full = states.current("rv-tamper")
    last = len(run.events)
    drop_append_only_triggers(engine)
    raw(engine, "DELETE FROM events WHERE stream_id = 'rv-tamper' AND version > :v", v=last - 3)
    cut = states.current("rv-tamper")
    assert cut == whole(store, "rv-tamper") and cut.version == last - 3 and cut != full
    moved = cut.last_event_at + timedelta(days=1)
    raw(engine, "UPDATE events SET hash = :h, occurred_at = :t WHERE stream_id = 'rv-tamper' AND version = :v", h="0" * 64, t=moved, v=last - 3)
    rewritten = states.current("rv-tamper")
    assert rewritten == whole(store, "rv-tamper") and rewritten.last_event_at == moved


def test_the_oldest_review_is_dropped_beyond_the_size(engine):
    store = EventStore(engine)
    for rid in ("rv-a", "rv-b", "rv-c"):
        run = run_full_procedure(make_spec(review_id=rid))
        store.append(rid, 0, to_records(rid, 0, run.events[:3]))
    states = ReviewStates(store, size=2)
    for rid in ("rv-a", "rv-b", "rv-c"):
        states.current(rid)
    assert list(states._kept) == ["rv-b", "rv-c"]
