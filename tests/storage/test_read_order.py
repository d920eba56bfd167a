"""``read_all`` pages by position: each page must come in position order, or
the next page's ``position > last`` would skip events. Nothing guarantees the
table's physical order: on PostgreSQL an updated row (here a tamper, with the
append-only triggers dropped) moves to the end of the heap, and a read without
ORDER BY returns it last."""

from __future__ import annotations

import pytest

from log_builders import batch, drop_append_only_triggers, raw
from storage.eventlog import EventStore


@pytest.mark.parametrize("engine_fixture", ["sqlite_engine", "pg_engine"])
def test_every_page_of_the_log_comes_in_position_order(request, engine_fixture):
    engine = request.getfixturevalue(engine_fixture)
    store = EventStore(engine)
    store.append("rv-1", 0, batch("rv-1", 0, 6))
    drop_append_only_triggers(engine)
    raw(engine, "UPDATE events SET reason = 'moved' WHERE position IN (1, 3)")
    for size in (1, 2, 4, 5000):
        assert [r.position for r in store.read_all(batch=size)] == [1, 2, 3, 4, 5, 6]
    assert [r.position for r in store.read_all(after_position=2, batch=2)] == [3, 4, 5, 6]
    assert [r.version for r in store.read_stream("rv-1")] == [1, 2, 3, 4, 5, 6]
