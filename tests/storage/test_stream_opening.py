"""An id names one stream forever: the log refuses a second opening of a
stream (another run reusing a closed review's id) instead of taking it for a
retry of the first, and an opening event anywhere but at version 1."""

from __future__ import annotations

import pytest
from log_builders import rec

from storage.eventlog import EventConflict, EventStore


def opening(stream: str, version: int, causation: str, minute: int = 0):
    return rec(stream, version, causation=causation, event_type="review.started", n=minute)


def test_a_second_opening_of_a_stream_is_a_conflict(engine):
    store = EventStore(engine)
    store.append("rv-1", 0, [opening("rv-1", 1, "start:run-1"), rec("rv-1", 2, causation="start:run-1")])
    store.append("rv-1", 2, [rec("rv-1", 3, causation="cmd-1")])
    # the same run retrying its opening is a retry: the stored records come back
    assert [r.version for r in store.append("rv-1", 0, [opening("rv-1", 1, "start:run-1"), rec("rv-1", 2, causation="start:run-1")])] == [1, 2]
    # another run's opening is not
    with pytest.raises(EventConflict):
        store.append("rv-1", 0, [opening("rv-1", 1, "start:run-2", minute=9), rec("rv-1", 2, causation="start:run-2", n=9)])
    assert store.stream_version("rv-1") == 3


def test_an_opening_event_after_the_first_version_is_refused(engine):
    store = EventStore(engine)
    store.append("rv-2", 0, [opening("rv-2", 1, "start:run-1")])
    with pytest.raises(EventConflict, match="opens a stream"):
        store.append("rv-2", 1, [opening("rv-2", 2, "cmd-x")])
    assert store.stream_version("rv-2") == 1
