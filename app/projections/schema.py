"""The projection tables and the tracking table (migration 0007 creates them)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, PrimaryKeyConstraint, SmallInteger, String, Table, Text

from storage.schema import UtcTimestamp

metadata = MetaData()

# how far each projection got: the last global position applied
tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcTimestamp, nullable=False),
)

# one row per review: what lists show, and the folded state the next event evolves
review_summaries = Table(
    "review_summaries",
    metadata,
    Column("review_id", String(200), primary_key=True),
    Column("campaign_id", String(100), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_name", String(200)),
    Column("unit_id", String(64), nullable=False),
    Column("tier", SmallInteger, nullable=False),
    Column("level", String(4), nullable=False),
    Column("reviewer_id", String(64), nullable=False),
    Column("co_reviewer_ids", Text, nullable=False),  # JSON list
    Column("subject_person_ids", Text, nullable=False),  # JSON list
    Column("step", String(32), nullable=False),
    Column("due_at", UtcTimestamp),
    Column("overdue", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # open | closed | cancelled
    Column("started_at", UtcTimestamp, nullable=False),
    Column("last_event_type", String(100), nullable=False),
    Column("last_event_at", UtcTimestamp, nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),  # the folded ReviewState as JSON
)
Index("ix_review_summaries_campaign", review_summaries.c.campaign_id, review_summaries.c.review_id)
# the supervisor's overview (migration 0010): counts by step x tier within units, reviews per
# unit and coverage's subjects from this index alone; its lists in the order of urgency
Index("ix_review_summaries_overview", review_summaries.c.unit_id, review_summaries.c.status, review_summaries.c.step, review_summaries.c.tier,
      review_summaries.c.overdue, review_summaries.c.campaign_id, review_summaries.c.subject_id)
Index("ix_review_summaries_urgency", review_summaries.c.overdue.desc(), review_summaries.c.due_at, review_summaries.c.review_id, review_summaries.c.status,
      review_summaries.c.step, review_summaries.c.tier, review_summaries.c.unit_id, review_summaries.c.campaign_id)
Index("ix_review_summaries_reviewer", review_summaries.c.reviewer_id)
# a campaign's live counts by step x tier, and its overdue list, from the index alone (migration 0009)
Index("ix_review_summaries_campaign_counts", review_summaries.c.campaign_id, review_summaries.c.status, review_summaries.c.step, review_summaries.c.tier, review_summaries.c.overdue)

# who has a role on which review (the list of "my reviews" without a scan)
review_people = Table(
    "review_people",
    metadata,
    Column("person_id", String(64), nullable=False),
    Column("review_id", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    PrimaryKeyConstraint("person_id", "review_id", "role", name="pk_review_people"),
)
Index("ix_review_people_review", review_people.c.review_id)

# the task inbox: per person, the open task of each review waiting on them
review_tasks = Table(
    "review_tasks",
    metadata,
    Column("person_id", String(64), nullable=False),
    Column("review_id", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("step", String(32), nullable=False),
    Column("due_at", UtcTimestamp, nullable=False),
    Column("overdue", Boolean, nullable=False),
    Column("actions", Text, nullable=False),  # JSON list of command kinds
    Column("why", Text, nullable=False),
    PrimaryKeyConstraint("person_id", "review_id", name="pk_review_tasks"),
)
Index("ix_review_tasks_inbox", review_tasks.c.person_id, review_tasks.c.due_at, review_tasks.c.review_id)
Index("ix_review_tasks_review", review_tasks.c.review_id)
