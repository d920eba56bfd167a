"""Each review's state as its stream folds it, kept per process and brought
up to date by folding only the events appended since: every command a person
sends is checked against the current state first (roles, ended or not), and
refolding the whole stream each time cost the API process more CPU than the
worker spent running the command (bench.campaign --profile).

Exact, not a guess: the log is append-only, so the state folded up to
version v plus the events after v is the state of the whole stream. The last
folded event is read again with the new ones and its hash compared: a stream
that is no continuation of the one folded (cut, or that event replaced) is
folded again from the start. The auditor's tools never read through this
cache: ``audit verify``, the timeline and the state as of a time read the log
itself."""

from __future__ import annotations

import threading
from collections import OrderedDict

from domain.events import from_record
from domain.review import ReviewState, fold
from storage.eventlog import EventStore


class ReviewStates:
    SIZE = 4096  # reviews kept: a campaign's open reviews in active hands, a few MB

    def __init__(self, events: EventStore, size: int = SIZE) -> None:
        self._events, self._size = events, size
        self._kept: OrderedDict[str, tuple[ReviewState, int, str | None]] = OrderedDict()
        self._lock = threading.Lock()  # use cases run on the event loop and in worker threads

    def current(self, review_id: str) -> ReviewState:
        """The fold of the whole stream (an empty state for a stream with no events)."""
        with self._lock:
            kept = self._kept.get(review_id)
        state = None
        if kept is not None:
            folded, version, last_hash = kept
            records = self._events.read_stream(review_id, from_version=version)
            if records and records[0].version == version and records[0].hash == last_hash:
                records = records[1:]
                state = fold((from_record(r) for r in records), folded)
        if state is None:
            records = self._events.read_stream(review_id)
            state = fold(from_record(r) for r in records)
            if not records:
                return state
        if records:
            with self._lock:
                self._kept[review_id] = (state, records[-1].version, records[-1].hash)
                self._kept.move_to_end(review_id)
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return state
