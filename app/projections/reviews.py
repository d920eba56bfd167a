"""Review summaries, who has which role on which review, and the task inbox:
one projection, since all three follow from the same fold of a review's
events (the domain's ``evolve``, and ``domain.tasks.open_tasks`` for who must
act). Each review's folded state is kept in its summary row, so an event costs
one evolve, not a replay of the stream; the states this projector wrote last
are also kept in memory (a bounded number), and used when the row still holds
that version: parsing the row's state back was a third of the projector's
time in a campaign (bench.campaign --profile)."""

from __future__ import annotations

import json
from collections import OrderedDict

from sqlalchemy import Connection, delete, insert, select

from app.projections.schema import review_people, review_summaries, review_tasks
from domain.events import EventRecord, from_record
from domain.review import ReviewState, evolve, subject_person_ids
from domain.tasks import open_tasks


class ReviewProjection:
    name = "reviews"
    handles: frozenset[str] = frozenset()  # every event of a review stream moves its state
    tables = (review_tasks, review_people, review_summaries)

    KEEP = 4096  # states kept between pages

    def __init__(self) -> None:
        self._dirty: dict[str, tuple[ReviewState, EventRecord]] = {}
        self._written: OrderedDict[str, ReviewState] = OrderedDict()
        self._page: dict[str, ReviewState] = {}  # begin_page's reading of this page's rows
        self._page_ids: frozenset[str] = frozenset()

    CHUNK = 500  # ids per IN (...) query (SQLite binds at most 999 parameters per statement before 3.32)

    def begin_page(self, conn: Connection, records: list[EventRecord]) -> None:
        """Read the page's reviews at once, not a query or two per review (a
        fifth of the projector's time in a campaign, bench.campaign --profile)."""
        ids = list(dict.fromkeys(r.stream_id for r in records if r.stream_id not in self._dirty))
        self._page, self._page_ids = self._read(conn, ids), frozenset(ids)

    def _read(self, conn: Connection, ids: list[str]) -> dict[str, ReviewState]:
        """The state of each review that has a summary row: the kept one when
        the row still holds the version this projector wrote (another process
        may have moved it on), else the row's own."""
        rows: dict[str, ReviewState] = {}
        for i in range(0, len(ids), self.CHUNK):
            chunk = ids[i:i + self.CHUNK]
            stale = []
            for rid, version in conn.execute(select(review_summaries.c.review_id, review_summaries.c.version).where(review_summaries.c.review_id.in_(chunk))):
                kept = self._written.get(rid)
                if kept is not None and kept.version == version:
                    rows[rid] = kept
                else:
                    stale.append(rid)
            if stale:
                for rid, raw in conn.execute(select(review_summaries.c.review_id, review_summaries.c.state).where(review_summaries.c.review_id.in_(stale))):
                    rows[rid] = ReviewState.model_validate_json(raw)
        return rows

    def _state(self, conn: Connection, review_id: str) -> ReviewState | None:
        if review_id in self._dirty:
            return self._dirty[review_id][0]
        if review_id in self._page_ids:
            return self._page.get(review_id)
        return self._read(conn, [review_id]).get(review_id)  # applied outside a page

    def apply(self, conn: Connection, record: EventRecord) -> None:
        state = self._state(conn, record.stream_id)
        if state is None:
            if record.event_type != "review.started":
                return  # not a review's stream (accounts, campaigns, ...)
            state = ReviewState()
        self._dirty[record.stream_id] = (evolve(state, from_record(record)), record)

    def discard(self) -> None:
        """The page's transaction failed: forget what it gathered (and what it
        kept: a row it believes written may not be)."""
        self._dirty.clear()
        self._written.clear()
        self._page, self._page_ids = {}, frozenset()

    def flush(self, conn: Connection) -> None:
        self._page, self._page_ids = {}, frozenset()  # read for this page only
        if not self._dirty:
            return
        ids = list(self._dirty)
        for table in (review_tasks, review_people, review_summaries):
            conn.execute(delete(table).where(table.c.review_id.in_(ids)))
        summaries, people, tasks = [], [], []
        for rid, (state, last) in self._dirty.items():
            spec = state.spec
            if spec is None:
                continue
            subjects = sorted(subject_person_ids(spec))
            summaries.append(dict(
                review_id=rid, campaign_id=spec.campaign_id, subject_id=spec.subject.subject_id, subject_kind=spec.subject.kind.value, subject_name=spec.subject.display_name,
                unit_id=spec.subject.unit_id, tier=spec.tier, level=spec.level.value, reviewer_id=spec.reviewer_id,
                co_reviewer_ids=json.dumps(list(spec.co_reviewer_ids)), subject_person_ids=json.dumps(subjects),
                step=state.step.value if state.step else "", due_at=None if state.finished else state.current_due(), overdue=state.is_overdue(),
                status="closed" if state.step and state.step.value == "closed" else "cancelled" if state.step and state.step.value == "cancelled" else "open",
                started_at=state.started_at, last_event_type=last.event_type, last_event_at=last.occurred_at, last_position=last.position,
                version=state.version, state=state.model_dump_json(),
            ))
            roles = {(spec.reviewer_id, "reviewer")} | {(p, "co_reviewer") for p in spec.co_reviewer_ids} | {(p, "subject") for p in subjects}
            people += [dict(person_id=p, review_id=rid, role=r) for p, r in sorted(roles)]
            tasks += [dict(person_id=t.person_id, review_id=rid, role=t.role.value, step=t.step.value, due_at=t.due_at or state.last_event_at,
                           overdue=t.overdue, actions=json.dumps(list(t.actions)), why=t.why) for t in open_tasks(state)]
        if summaries:
            conn.execute(insert(review_summaries), summaries)
        if people:
            conn.execute(insert(review_people), people)
        if tasks:
            conn.execute(insert(review_tasks), tasks)
        for rid, (state, _) in self._dirty.items():
            if state.spec is not None:
                self._written[rid] = state
                self._written.move_to_end(rid)
        while len(self._written) > self.KEEP:
            self._written.popitem(last=False)
        self._dirty.clear()
