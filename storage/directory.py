"""The directory's tables and the store that reads and replaces them.

A re-import is a diff applied in place, in one transaction: rows that vanished
are deleted, changed rows updated, new rows inserted, and the import is
recorded with what changed (people moved, leaders replaced). If anything fails
the transaction rolls back, so nothing half-imported stays behind.

Parent, leader and guide ids are deliberately not foreign keys: an orphan unit
or a leader who left is a coverage gap to report, not a write to refuse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    JSON, Boolean, Column, Connection, DateTime, Engine, Index, Integer, MetaData, PrimaryKeyConstraint,
    SmallInteger, String, Table, and_, bindparam, delete, func, insert, select, update,
)

from domain.org import Directory, DirectoryChange, Membership, Person, Role, Unit, diff_directories, is_unit_id, summarize_changes
from domain.rubric import Rubric, RubricVersionConflict, rubric_from_data, rubric_to_data

metadata = MetaData()

units_t = Table(
    "directory_units",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("parent_id", String(64)),
    Column("tier", SmallInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("leader_id", String(64)),
    Column("overseen_by", String(64)),
    Column("guided_by", String(64)),
    Column("external", Boolean, nullable=False, default=False),
)
Index("ix_directory_units_parent", units_t.c.parent_id)
Index("ix_directory_units_leader", units_t.c.leader_id)

people_t = Table(
    "directory_people",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),  # optional: where the mail relay delivers (migration 0011)
)

memberships_t = Table(
    "directory_memberships",
    metadata,
    Column("person_id", String(64), nullable=False),
    Column("unit_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    PrimaryKeyConstraint("person_id", "unit_id", "role", name="pk_directory_memberships"),
)
Index("ix_directory_memberships_unit", memberships_t.c.unit_id)

imports_t = Table(
    "directory_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(500), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("units", Integer, nullable=False),
    Column("people", Integer, nullable=False),
    Column("memberships", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("changes_truncated", Integer, nullable=False, default=0),
)

rubrics_t = Table(
    "rubric_versions",
    metadata,
    Column("version", String(40), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
)

MAX_RECORDED_CHANGES = 5000
CHUNK = 5000

UnitRow = tuple  # (id, name, parent_id, tier, kind, category, leader_id, overseen_by, guided_by, external)
_UNIT_COLS = ("id", "name", "parent_id", "tier", "kind", "category", "leader_id", "overseen_by", "guided_by", "external")


def _unit_row(u: Unit) -> UnitRow:
    return (u.id, u.name, u.parent_id, int(u.tier), u.kind.value, u.category.value, u.leader_id, u.overseen_by, u.guided_by, bool(u.external))


def _unit_from_row(r: Sequence[Any]) -> Unit:
    return Unit(id=r[0], name=r[1], parent_id=r[2], tier=r[3], kind=r[4], category=r[5], leader_id=r[6],
                overseen_by=r[7], guided_by=r[8], external=bool(r[9]))


def fingerprint(d: Directory) -> str:
    """Content hash of a directory, independent of order: an unchanged
    re-import is recognised by it."""
    h = hashlib.sha256()
    for row in sorted(_unit_row(u) for u in d.units.values()):
        h.update(repr(row).encode())
    for pid in sorted(d.people):
        p = d.people[pid]
        # the address only when there is one: a directory without addresses
        # keeps the fingerprint it had before people could have one
        h.update(f"{pid}\x1f{p.name}{'' if p.email is None else chr(0x1f) + p.email}\x1e".encode())
    for m in sorted((m.person_id, m.unit_id, m.role.value) for m in set(d.memberships)):
        h.update("\x1f".join(m).encode())
    return h.hexdigest()


class ImportResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    import_id: int | None
    source: str
    fingerprint: str
    unchanged: bool
    units: int
    people: int
    memberships: int
    summary: dict[str, int]
    changes: list[DirectoryChange]
    changes_truncated: int = 0
    imported_at: datetime | None = None
    read_as: dict[str, str] = {}  # per file or sheet, the encoding or sheet it was read from (not stored)


Progress = Callable[[int, int], None]


@dataclass
class _Plan:
    """Row-level differences between what is stored and what is imported."""

    unit_insert: list[dict]
    unit_update: list[dict]
    unit_delete: list[str]
    person_insert: list[dict]
    person_update: list[dict]
    person_delete: list[str]
    member_insert: list[dict]
    member_delete: list[dict]

    def size(self) -> int:
        return sum(len(x) for x in (self.unit_insert, self.unit_update, self.unit_delete, self.person_insert,
                                     self.person_update, self.person_delete, self.member_insert, self.member_delete))


class DirectoryStore:
    """Reads and replaces the directory. One engine, either backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _reader(self) -> Connection:
        """A read connection; on SQLite a deferred BEGIN, so reading never
        takes the write lock."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_deferred=True)
        return conn

    # ---- reading -------------------------------------------------------

    def is_empty(self) -> bool:
        with self._reader() as conn:
            return conn.execute(select(units_t.c.id).limit(1)).first() is None

    def counts(self) -> dict[str, int]:
        with self._reader() as conn:
            return {
                "units": conn.execute(select(func.count()).select_from(units_t)).scalar_one(),
                "people": conn.execute(select(func.count()).select_from(people_t)).scalar_one(),
                "memberships": conn.execute(select(func.count()).select_from(memberships_t)).scalar_one(),
            }

    def load(self) -> Directory:
        with self._reader() as conn:
            return self._load(conn)

    def known_people(self, person_ids: Iterable[str]) -> set[str]:
        """The subset of ``person_ids`` stored as people (one query per chunk of ids)."""
        ids = sorted({p for p in person_ids if isinstance(p, str) and p})
        found: set[str] = set()
        if not ids:
            return found
        with self._reader() as conn:
            for i in range(0, len(ids), CHUNK):
                found.update(r[0] for r in conn.execute(select(people_t.c.id).where(people_t.c.id.in_(ids[i:i + CHUNK]))))
        return found

    def _load(self, conn: Connection) -> Directory:
        units = [_unit_from_row(r) for r in conn.execute(select(*(units_t.c[c] for c in _UNIT_COLS)).order_by(units_t.c.id))]
        people = [Person(id=r[0], name=r[1], email=r[2]) for r in conn.execute(select(people_t.c.id, people_t.c.name, people_t.c.email).order_by(people_t.c.id))]
        memberships = [Membership(r[0], r[1], Role(r[2])) for r in conn.execute(
            select(memberships_t.c.person_id, memberships_t.c.unit_id, memberships_t.c.role)
            .order_by(memberships_t.c.unit_id, memberships_t.c.role, memberships_t.c.person_id))]
        return Directory.build(units, people, memberships)

    def load_neighbourhood(self, subject_id: str) -> Directory:
        """Just what the assignment rules read for one subject: for a unit, its
        parent chain (to see cycles and orphans), its guide and the parent's
        leadership team; for a person, every unit they lead or belong to. The
        rules are local, so they give the same answer here as on the whole."""
        return self.load_neighbourhoods([subject_id])

    def load_neighbourhoods(self, subject_ids: Iterable[str]) -> Directory:
        """The neighbourhoods of many subjects at once, as one directory (their
        union: the rules being local, each subject's answer is the same in it
        as in its own neighbourhood, or in the whole). A campaign's start
        activity reads a page of subjects in a few queries per tree level
        instead of several per subject. A subject the directory does not hold
        is simply not in it."""
        ids = sorted(set(subject_ids))
        unit_ids, person_ids = [i for i in ids if is_unit_id(i)], [i for i in ids if not is_unit_id(i)]
        units: dict[str, Unit] = {}
        members: set[Membership] = set()
        with self._reader() as conn:

            def rows(query, column, values: Iterable[str]):
                values = sorted(set(values))
                for i in range(0, len(values), CHUNK):
                    yield from conn.execute(query.where(column.in_(values[i:i + CHUNK])))

            def fetch(wanted: Iterable[str]) -> list[Unit]:
                got = [_unit_from_row(r) for r in rows(select(*(units_t.c[c] for c in _UNIT_COLS)), units_t.c.id, (i for i in wanted if i and i not in units))]
                units.update((u.id, u) for u in got)
                return got

            def membership_rows(column, values: Iterable[str], *conditions):
                query = select(memberships_t.c.person_id, memberships_t.c.unit_id, memberships_t.c.role).where(*conditions) if conditions else \
                    select(memberships_t.c.person_id, memberships_t.c.unit_id, memberships_t.c.role)
                return {Membership(r[0], r[1], Role(r[2])) for r in rows(query, column, values)}

            subjects = fetch(unit_ids)
            level = subjects
            while level:  # the parent chains, a tree level per query
                level = fetch(u.parent_id for u in level if u.parent_id and u.parent_id not in units)
            fetch(u.guided_by for u in subjects if u.guided_by)
            parents = [u.parent_id for u in subjects if u.parent_id and u.parent_id in units]
            members |= membership_rows(memberships_t.c.unit_id, parents, memberships_t.c.role == Role.LEADERSHIP.value)
            wanted_people = {x for u in subjects for x in (u.leader_id, u.overseen_by) if x}
            persons = [r[0] for r in rows(select(people_t.c.id), people_t.c.id, person_ids)]
            own = membership_rows(memberships_t.c.person_id, persons)
            members |= own
            led = [r[0] for r in rows(select(units_t.c.id), units_t.c.leader_id, persons)]
            fetch([m.unit_id for m in own] + led)
            wanted_people |= set(persons)
            wanted_people |= {u.leader_id for u in units.values() if u.leader_id}
            wanted_people |= {m.person_id for m in members}
            people = [Person(id=r[0], name=r[1], email=r[2]) for r in rows(select(people_t.c.id, people_t.c.name, people_t.c.email), people_t.c.id, wanted_people)]
        return Directory.build(sorted(units.values(), key=lambda u: u.id), sorted(people, key=lambda p: p.id),
                               sorted(members, key=lambda m: (m.unit_id, m.role.value, m.person_id)))

    # ---- look-ups, a page at a time (keyset on the id) --------------------

    def unit(self, unit_id: str) -> Unit | None:
        with self._reader() as conn:
            r = conn.execute(select(*(units_t.c[c] for c in _UNIT_COLS)).where(units_t.c.id == unit_id)).first()
        return _unit_from_row(r) if r is not None else None

    def unit_sizes(self, unit_id: str) -> tuple[int, int]:
        """How many units sit directly under ``unit_id``, and how many people
        belong to it (leadership team and members, not the leader)."""
        with self._reader() as conn:
            children = conn.execute(select(func.count()).select_from(units_t).where(units_t.c.parent_id == unit_id)).scalar_one()
            people = conn.execute(select(func.count()).select_from(memberships_t).where(memberships_t.c.unit_id == unit_id)).scalar_one()
        return children, people

    def units_under(self, parent_id: str | None, after: str | None, limit: int) -> list[Unit]:
        """The units directly under ``parent_id`` (None: the top of the tree), by id."""
        q = select(*(units_t.c[c] for c in _UNIT_COLS)).order_by(units_t.c.id).limit(limit)
        q = q.where(units_t.c.parent_id.is_(None) if parent_id is None else units_t.c.parent_id == parent_id)
        if after is not None:
            q = q.where(units_t.c.id > after)
        with self._reader() as conn:
            return [_unit_from_row(r) for r in conn.execute(q)]

    def members_of(self, unit_id: str, after: str | None, limit: int) -> list[tuple[str, str, str]]:
        """(person id, name, role) of the people in ``unit_id``, by person id."""
        q = (select(memberships_t.c.person_id, people_t.c.name, memberships_t.c.role)
             .select_from(memberships_t.outerjoin(people_t, people_t.c.id == memberships_t.c.person_id))
             .where(memberships_t.c.unit_id == unit_id).order_by(memberships_t.c.person_id).limit(limit))
        if after is not None:
            q = q.where(memberships_t.c.person_id > after)
        with self._reader() as conn:
            return [(r[0], r[1] or "", r[2]) for r in conn.execute(q)]

    def person(self, person_id: str) -> tuple[Person, list[tuple[str, str, str]]] | None:
        """A person and their posts: (unit id, unit name, role) for each unit
        they lead (role ``leader``), sit in the leadership team of, or belong to."""
        with self._reader() as conn:
            r = conn.execute(select(people_t.c.id, people_t.c.name).where(people_t.c.id == person_id)).first()
            if r is None:
                return None
            led = [(u[0], u[1], "leader") for u in conn.execute(select(units_t.c.id, units_t.c.name).where(units_t.c.leader_id == person_id).order_by(units_t.c.id))]
            rest = [(m[0], m[1] or "", m[2]) for m in conn.execute(
                select(memberships_t.c.unit_id, units_t.c.name, memberships_t.c.role)
                .select_from(memberships_t.outerjoin(units_t, units_t.c.id == memberships_t.c.unit_id))
                .where(memberships_t.c.person_id == person_id).order_by(memberships_t.c.unit_id))]
        return Person(id=r[0], name=r[1]), led + rest

    def imports(self, limit: int = 20) -> list[ImportResult]:
        with self._reader() as conn:
            rows = conn.execute(select(imports_t).order_by(imports_t.c.id.desc()).limit(limit)).mappings().all()
        return [
            ImportResult(import_id=r["id"], source=r["source"], fingerprint=r["fingerprint"], unchanged=not r["summary"],
                         units=r["units"], people=r["people"], memberships=r["memberships"], summary=r["summary"],
                         changes=[DirectoryChange.model_validate(c) for c in r["changes"]],
                         changes_truncated=r["changes_truncated"], imported_at=r["imported_at"])
            for r in rows
        ]

    # ---- writing -------------------------------------------------------

    def replace(self, new: Directory, *, source: str, progress: Progress | None = None) -> ImportResult:
        """Make the stored directory equal to ``new``, in place and atomically,
        and record what changed."""
        fp = fingerprint(new)
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            empty = conn.execute(select(units_t.c.id).limit(1)).first() is None and \
                conn.execute(select(people_t.c.id).limit(1)).first() is None
            old = Directory.build([], []) if empty else self._load(conn)
            rows = self._row_plan(old, new)
            if empty:
                # a first import: every row is new; counting is the whole story
                summary = {k: v for k, v in (("membership_added", len(rows.member_insert)), ("person_added", len(rows.person_insert)),
                                              ("unit_added", len(rows.unit_insert))) if v}
                recorded: list[DirectoryChange] = []
                truncated = 0
            else:
                changes = diff_directories(old, new)
                summary = summarize_changes(changes)
                recorded, truncated = changes[:MAX_RECORDED_CHANGES], max(0, len(changes) - MAX_RECORDED_CHANGES)
            self._apply(conn, rows, progress)
            n_members = len(set(new.memberships))
            import_id = conn.execute(insert(imports_t).values(
                source=source[:500], fingerprint=fp, imported_at=now, units=len(new.units), people=len(new.people),
                memberships=n_members, summary=summary, changes=[c.model_dump(mode="json", exclude_none=True) for c in recorded],
                changes_truncated=truncated,
            )).inserted_primary_key[0]
        return ImportResult(import_id=import_id, source=source, fingerprint=fp, unchanged=not summary, units=len(new.units),
                            people=len(new.people), memberships=n_members, summary=summary, changes=recorded,
                            changes_truncated=truncated, imported_at=now)

    @staticmethod
    def _row_plan(old: Directory, new: Directory) -> _Plan:
        old_u = {u.id: _unit_row(u) for u in old.units.values()}
        new_u = {u.id: _unit_row(u) for u in new.units.values()}
        old_p = {p.id: (p.name, p.email) for p in old.people.values()}
        new_p = {p.id: (p.name, p.email) for p in new.people.values()}
        old_m = {(m.person_id, m.unit_id, m.role.value) for m in old.memberships}
        new_m = {(m.person_id, m.unit_id, m.role.value) for m in new.memberships}
        as_unit = lambda row: dict(zip(_UNIT_COLS, row))  # noqa: E731
        return _Plan(
            unit_insert=[as_unit(new_u[k]) for k in new_u if k not in old_u],
            unit_update=[{**as_unit(new_u[k]), "b_id": k} for k in new_u if k in old_u and old_u[k] != new_u[k]],
            unit_delete=[k for k in old_u if k not in new_u],
            person_insert=[{"id": k, "name": v[0], "email": v[1]} for k, v in new_p.items() if k not in old_p],
            person_update=[{"b_id": k, "name": v[0], "email": v[1]} for k, v in new_p.items() if k in old_p and old_p[k] != v],
            person_delete=[k for k in old_p if k not in new_p],
            member_insert=[{"person_id": p, "unit_id": u, "role": r} for (p, u, r) in sorted(new_m - old_m)],
            member_delete=[{"b_person": p, "b_unit": u, "b_role": r} for (p, u, r) in sorted(old_m - new_m)],
        )

    @staticmethod
    def _apply(conn: Connection, rows: _Plan, progress: Progress | None) -> None:
        total, done = rows.size(), 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        def chunks(items: list) -> Iterator[list]:
            for i in range(0, len(items), CHUNK):
                yield items[i:i + CHUNK]

        m = memberships_t.c
        for part in chunks(rows.member_delete):
            conn.execute(delete(memberships_t).where(and_(m.person_id == bindparam("b_person"), m.unit_id == bindparam("b_unit"),
                                                          m.role == bindparam("b_role"))), part)
            step(len(part))
        for part in chunks(rows.unit_delete):
            conn.execute(delete(units_t).where(units_t.c.id.in_(part)))
            step(len(part))
        for part in chunks(rows.person_delete):
            conn.execute(delete(people_t).where(people_t.c.id.in_(part)))
            step(len(part))
        unit_values = {c: bindparam(c) for c in _UNIT_COLS if c != "id"}
        for part in chunks(rows.unit_update):
            conn.execute(update(units_t).where(units_t.c.id == bindparam("b_id")).values(**unit_values),
                         [{k: v for k, v in r.items() if k != "id"} for r in part])
            step(len(part))
        for part in chunks(rows.person_update):
            conn.execute(update(people_t).where(people_t.c.id == bindparam("b_id")).values(name=bindparam("name"), email=bindparam("email")), part)
            step(len(part))
        for table, items in ((units_t, rows.unit_insert), (people_t, rows.person_insert), (memberships_t, rows.member_insert)):
            for part in chunks(items):
                conn.execute(insert(table), part)
                step(len(part))

    # ---- rubric versions -----------------------------------------------

    def register_rubric(self, rb: Rubric) -> bool:
        """Store a rubric version; ``False`` if this exact version was already
        stored. A different rubric under a stored version is refused."""
        fp = rb.fingerprint()
        with self.engine.begin() as conn:
            row = conn.execute(select(rubrics_t.c.fingerprint).where(rubrics_t.c.version == rb.version)).first()
            if row is not None:
                if row[0] != fp:
                    raise RubricVersionConflict(f"rubric version {rb.version!r} is already stored with different content; a changed rubric needs a new version")
                return False
            conn.execute(insert(rubrics_t).values(version=rb.version, fingerprint=fp, data=rubric_to_data(rb),
                                                  registered_at=datetime.now(timezone.utc)))
        return True

    def rubrics(self) -> list[Rubric]:
        with self._reader() as conn:
            rows = conn.execute(select(rubrics_t.c.data).order_by(rubrics_t.c.registered_at, rubrics_t.c.version)).all()
        return [rubric_from_data(r[0]) for r in rows]
