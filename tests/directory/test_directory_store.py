"""The stored directory on SQLite and PostgreSQL: round trip, re-import in
place with the changes recorded, and nothing half-imported after a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from directory.csv_files import write_csv_dir
from directory.issues import DirectoryImportError
from directory.service import import_path
from directory.synthetic import generate
from domain.org import ChangeKind, Directory, Membership, Role
from domain.rubric import RubricVersionConflict, rubric, rubric_from_data, rubric_to_data
from storage.directory import DirectoryStore, fingerprint


def _moved(d: Directory) -> tuple[Directory, str, str, str, str]:
    """A re-organisation: one member moves branch, one unit gets a new leader."""
    m = next(m for m in d.memberships if m.role is Role.MEMBER)
    other = next(u for u in d.units.values() if u.kind.value == "branch" and u.id != m.unit_id)
    memberships = [x for x in d.memberships if x != m] + [Membership(m.person_id, other.id, Role.MEMBER)]
    newcomer = next(p for p in d.people if p != other.leader_id and p not in d.leads and p != m.person_id)
    units = [u.model_copy(update={"leader_id": newcomer}) if u.id == other.id else u for u in d.units.values()]
    memberships = [x for x in memberships if x.person_id != newcomer]
    return Directory.build(units, d.people.values(), memberships), m.person_id, m.unit_id, other.id, newcomer


def test_replace_then_load_is_the_same_directory(engine):
    d = generate(400, seed=3)
    store = DirectoryStore(engine)
    first = store.replace(d, source="gen")
    assert first.summary == {"membership_added": len(d.memberships), "person_added": len(d.people), "unit_added": len(d.units)}
    back = store.load()
    assert fingerprint(back) == fingerprint(d) == first.fingerprint
    again = store.replace(back, source="gen")
    assert again.unchanged and again.summary == {}


def test_reimport_updates_in_place_and_records_what_changed(engine):
    d = generate(300, seed=5)
    store = DirectoryStore(engine)
    store.replace(d, source="v1")
    changed, person, from_unit, to_unit, new_leader = _moved(d)
    result = store.replace(changed, source="v2")
    kinds = {(c.kind, c.unit_id, c.person_id, c.before, c.after) for c in result.changes}
    assert (ChangeKind.PERSON_MOVED, None, person, from_unit, to_unit) in kinds
    assert (ChangeKind.LEADER_REPLACED, to_unit, None, d.units[to_unit].leader_id, new_leader) in kinds
    assert fingerprint(store.load()) == fingerprint(changed)
    history = store.imports()
    assert [h.source for h in history] == ["v2", "v1"]
    assert history[0].summary == result.summary and history[0].changes == result.changes


def test_a_failure_while_writing_leaves_the_old_directory(engine):
    d = generate(300, seed=7)
    store = DirectoryStore(engine)
    store.replace(d, source="v1")
    changed = _moved(d)[0]
    bigger = generate(12_000, seed=8)  # several write chunks

    def explode(done: int, total: int) -> None:
        if done > 0:
            raise RuntimeError("disk full")

    for new in (changed, bigger):
        with pytest.raises(RuntimeError, match="disk full"):
            store.replace(new, source="broken", progress=explode)
        assert fingerprint(store.load()) == fingerprint(d)
    assert [h.source for h in store.imports()] == ["v1"]


def test_bad_input_writes_nothing(engine, tmp_path: Path):
    store = DirectoryStore(engine)
    d = generate(200, seed=9)
    store.replace(d, source="v1")
    write_csv_dir(generate(250, seed=10), tmp_path)
    with (tmp_path / "memberships.csv").open("a", encoding="utf-8") as fh:
        fh.write("P-999999,U-S-HQ,member\n")
    with pytest.raises(DirectoryImportError) as exc:
        import_path(engine, tmp_path)
    assert exc.value.issues[0].file == "memberships.csv" and exc.value.issues[0].field == "person_id"
    assert fingerprint(store.load()) == fingerprint(d)


def test_rubric_versions_are_stored_and_immutable(engine):
    store = DirectoryStore(engine)
    data = rubric_to_data(rubric())
    data["version"] = "2011.test"
    new = rubric_from_data(data)
    assert store.register_rubric(new) is True
    assert store.register_rubric(new) is False
    data["points"][0]["text_zh"] = "改过的"
    with pytest.raises(RubricVersionConflict):
        store.register_rubric(rubric_from_data(data))
    assert [r.fingerprint() for r in store.rubrics()] == [new.fingerprint()]


def test_an_address_is_stored_and_a_changed_one_is_a_change_without_the_address(engine):
    d = generate(60, seed=9)
    store = DirectoryStore(engine)
    before = fingerprint(d)
    store.replace(d, source="v1")
    pid = sorted(d.people)[0]
    with_mail = Directory.build(d.units.values(), [p.model_copy(update={"email": "li@example.org"}) if p.id == pid else p for p in d.people.values()], d.memberships)
    assert fingerprint(with_mail) != before
    result = store.replace(with_mail, source="v2")
    assert [(c.kind, c.person_id, c.field, c.before, c.after) for c in result.changes] == [(ChangeKind.PERSON_CHANGED, pid, "email", None, None)]
    assert store.load().people[pid].email == "li@example.org" and store.load_neighbourhood(pid).people[pid].email == "li@example.org"
    assert store.replace(store.load(), source="v3").unchanged


@pytest.mark.parametrize("seed", [1, 7])
def test_a_page_of_neighbourhoods_read_at_once_gives_every_subject_the_spec_the_whole_directory_gives(engine, seed):
    """A campaign's start activity reads a page of subjects' neighbourhoods in
    one go (``load_neighbourhoods``); each review's spec (display name,
    explanation) must be what the subject's own neighbourhood and the whole
    directory give, and so must the assignment the rules derive there (who
    reviews, why). Pages cut at random through a synthetic organization."""
    import random

    from directory.service import spec_from_assignment
    from domain.assignment import assign_subject
    from domain.procedure import StepDeadlines
    from domain.coverage import plan as plan_reviews

    d = generate(300, seed=seed)
    store = DirectoryStore(engine)
    store.replace(d, source="gen")
    whole = store.load()
    derivation, _ = plan_reviews(whole, rubric())
    assignments = derivation.assignments
    kw = dict(review_id="rv-x", campaign_id="c", supervisor_ids=("office",), deadlines=StepDeadlines())
    rng = random.Random(seed)
    order = list(assignments)
    rng.shuffle(order)
    pages = []
    while order:
        size = rng.randint(1, 60)
        pages.append(order[:size])
        order = order[size:]
    for page in pages:
        union = store.load_neighbourhoods([a.subject_id for a in page] + ["U-NOWHERE", "P-NOBODY"])
        assert "U-NOWHERE" not in union.units and "P-NOBODY" not in union.people
        for a in page:
            assert assign_subject(union, a.subject_id, rubric()) == assign_subject(whole, a.subject_id, rubric()) == a
            expected = spec_from_assignment(a, whole, **kw)
            assert spec_from_assignment(a, union, **kw) == expected
            assert spec_from_assignment(a, store.load_neighbourhood(a.subject_id), **kw) == expected
