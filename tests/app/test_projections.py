"""The read models: the projector keeps review summaries and task inboxes
from the log (events made by the real domain), restartable, idempotent,
rebuildable from 0, safe with two projectors at once; lists and inboxes are
served from them with cursor pagination and the principal's visibility; the
projection answers what folding the whole log answers. Both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from principals import OFFICE, person
from sqlalchemy import func, select

from app.context import AppContext
from app.errors import BadInput, Forbidden
from app.projections.registry import projector_for
from app.projections.schema import review_people, review_summaries, review_tasks, tracking
from app.reviews import ListReviewsInput, list_reviews
from app.tasks import InboxInput, task_inbox
from bench.inbox import baseline_inbox, populate
from config.settings import Settings
from domain.procedure import Step
from storage.eventlog import EventStore

REVIEWS, REVIEWERS = 40, 4


def rows(engine):
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (review_summaries, review_people, review_tasks)}


@pytest.fixture
def filled(engine):
    store = EventStore(engine)
    populate(store, REVIEWS, REVIEWERS)
    return engine, store


@pytest.fixture
def ctx(filled, tmp_path):
    engine, _ = filled
    return AppContext(Settings(database_url=str(engine.url), data_dir=Path(tmp_path)), engine=engine)


def test_the_projection_answers_what_the_fold_answers(filled, ctx):
    engine, store = filled
    assert ctx.projector.catch_up() == store.head_position()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(review_summaries)).scalar_one() == REVIEWS
        statuses = dict(conn.execute(select(review_summaries.c.status, func.count()).group_by(review_summaries.c.status)).all())
    assert statuses == {"open": REVIEWS - 4, "cancelled": 4}  # i % 10 == 1 were cancelled
    for r in range(REVIEWERS):
        pid = f"P-R{r:04d}"
        page = asyncio.run(task_inbox(ctx, person(pid), InboxInput(limit=500)))
        assert [(t.review_id, t.due_at) for t in page.items] == [(f"rv-bench-{int(k.why.split('U-B')[1][:6]):06d}", k.due_at) for k in baseline_inbox(store, pid)]
        assert all(t.actions and t.why.startswith("you are the reviewer") for t in page.items)


def test_restartable_idempotent_rebuildable_and_two_projectors_apply_once(filled):
    engine, store = filled
    one = projector_for(engine)
    one.catch_up(max_events=25)  # stopped after the first page(s)
    assert 0 < one.positions()["reviews"] < store.head_position()
    projector_for(engine).catch_up()  # a restarted process resumes there
    done = rows(engine)
    assert one.catch_up() == 0 or rows(engine) == done  # nothing new: nothing changes
    one.PAGE = 7
    one._apply_page(list(store.read_all(after_position=0))[:30])  # a stale projector replaying an applied page
    assert rows(engine) == done
    assert projector_for(engine).rebuild() == store.head_position()
    assert rows(engine) == done
    with engine.connect() as conn:
        assert conn.execute(select(tracking.c.position).where(tracking.c.name == "reviews")).scalar_one() == store.head_position()


def test_new_events_show_on_the_next_read(filled, ctx):
    engine, store = filled
    before = asyncio.run(list_reviews(ctx, OFFICE, ListReviewsInput(step=Step.CANCELLED)))
    populate_more = [r for r in before.items]
    assert len(populate_more) == 4
    populate(store, 1, REVIEWERS, campaign="late")  # appended after the projector ran
    listed = asyncio.run(list_reviews(ctx, OFFICE, ListReviewsInput(campaign_id="late")))
    assert [r.review_id for r in listed.items] == ["rv-late-000000"]


def test_lists_page_by_cursor_and_show_each_principal_what_concerns_them(filled, ctx):
    seen, cursor = [], None
    while True:
        page = asyncio.run(list_reviews(ctx, OFFICE, ListReviewsInput(limit=7, cursor=cursor)))
        seen += [r.review_id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(f"rv-bench-{i:06d}" for i in range(REVIEWS))
    mine = asyncio.run(list_reviews(ctx, person("P-R0001"), ListReviewsInput(limit=500)))
    assert {r.reviewer_id for r in mine.items} == {"P-R0001"} and len(mine.items) == REVIEWS // REVIEWERS
    subject = asyncio.run(list_reviews(ctx, person("P-S000005"), ListReviewsInput()))
    assert [r.review_id for r in subject.items] == ["rv-bench-000005"]
    scoped = asyncio.run(list_reviews(ctx, person("P-X", supervisor_scopes=("U-B000003",)), ListReviewsInput()))
    assert [r.review_id for r in scoped.items] == ["rv-bench-000003"]
    assert asyncio.run(list_reviews(ctx, person("P-NOBODY"), ListReviewsInput())).items == []
    auditor = asyncio.run(list_reviews(ctx, person("P-A", auditor=True), ListReviewsInput(limit=500)))
    assert len(auditor.items) == REVIEWS
    with pytest.raises(BadInput):
        asyncio.run(list_reviews(ctx, OFFICE, ListReviewsInput(cursor="not-a-cursor!")))
    with pytest.raises(Forbidden):
        asyncio.run(task_inbox(ctx, person("P-R0001"), InboxInput(person_id="P-R0002")))


def test_a_projector_takes_up_rows_another_projector_moved_on_not_the_states_it_kept(engine):
    """Projector A keeps the states it wrote; projector B (another process)
    then projects later events of the same reviews. When A goes on, it must
    start from B's rows, not from its own stale copies: the rows then equal
    a rebuild's."""
    from datetime import datetime, timezone

    from domain import commands as c
    from domain.events import from_record, to_records
    from domain.review import decide, fold
    from service import demo

    store = EventStore(engine)
    populate(store, 6, REVIEWERS)
    moved = ["rv-bench-000002", "rv-bench-000004"]  # open, nothing recorded yet

    def then(command_of) -> None:
        for rid in moved:
            state = fold(from_record(r) for r in store.read_stream(rid))
            events = decide(state, command_of(state), datetime.now(timezone.utc))
            store.append(rid, state.version, to_records(rid, state.version, events))

    a, b = projector_for(engine), projector_for(engine)
    a.catch_up()
    then(lambda s: demo.findings(s.spec))
    b.catch_up()
    then(lambda s: c.CloseInvestigation(actor_id=s.spec.reviewer_id))
    a.catch_up()
    projected = rows(engine)
    with engine.connect() as conn:
        steps = dict(conn.execute(select(review_summaries.c.review_id, review_summaries.c.step).where(review_summaries.c.review_id.in_(moved))).all())
    assert steps == {rid: "solicit_opinions" for rid in moved}
    projector_for(engine).rebuild()
    assert rows(engine) == projected


def test_a_page_reads_its_reviews_in_a_few_queries_and_projects_what_a_rebuild_does(filled, monkeypatch):
    """The review projection reads a page's summary rows at once (a version
    query and a state query per chunk of ids), not one or two queries per
    review; across pages and chunks smaller than the page, with rows written
    by this projector (kept) and by another one (read back), the rows equal a
    rebuild's."""
    from datetime import datetime, timezone

    from sqlalchemy import event

    from app.projections.projector import Projector
    from app.projections.reviews import ReviewProjection
    from domain.events import from_record, to_records
    from domain.review import decide, fold
    from service import demo

    engine, store = filled
    monkeypatch.setattr(ReviewProjection, "CHUNK", 7, raising=False)
    monkeypatch.setattr(Projector, "PAGE", 25)
    a, b = projector_for(engine), projector_for(engine)
    b.catch_up(max_events=store.head_position() // 2)  # another projector wrote the first rows: a reads their states back
    summary_reads = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "review_summaries" in statement:
            summary_reads.append(statement)

    def caught_up() -> int:
        """a catches up; the summary reads it made, checked against the bound."""
        summary_reads.clear()
        before = min(a.positions().values())
        a.catch_up()
        events = store.head_position() - before
        pages = -(-events // Projector.PAGE)
        # each page: a version query and at most one state query per chunk of 7 of its reviews
        assert summary_reads and len(summary_reads) <= pages * 2 * -(-min(Projector.PAGE, REVIEWS) // 7)
        return len(summary_reads)

    try:
        caught_up()  # rows of b's read back
        opened = [s for s in (fold(from_record(r) for r in store.read_stream(f"rv-bench-{i:06d}")) for i in range(REVIEWS)) if s.step is Step.INVESTIGATE and not s.findings]
        assert len(opened) > 10
        for s in opened:  # later events of rows a wrote itself (kept states)
            rid = s.spec.review_id
            store.append(rid, s.version, to_records(rid, s.version, decide(s, demo.findings(s.spec), datetime.now(timezone.utc))))
        assert caught_up() < len(opened)  # not one per review
    finally:
        event.remove(engine, "before_cursor_execute", count)
    projected = rows(engine)
    projector_for(engine).rebuild()
    assert rows(engine) == projected
