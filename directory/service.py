"""What the rest of Pingyi asks of the directory: load the example on first
start, turn a subject id into the ``ReviewSpec`` a review starts with, list a
period's assignments, plan a period, import a file.

A review copies the directory's facts into its ``ReviewSpec`` when it starts;
a later re-import changes future reviews only. Changing a running review's
reviewer is an explicit supervisor command (``reassign_reviewer``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from sqlalchemy import Engine

from config.settings import get_settings
from directory.csv_files import MEMBERSHIPS_FILE, PEOPLE_FILE, UNITS_FILE, read_csv_report
from directory.xlsx_file import read_xlsx_report
from directory.example import EXAMPLE_SOURCE, build_example
from directory.yaml_file import read_yaml
from domain import events as e
from domain.assignment import Assignment, AssignmentView, Blocked, assign_subject, explain
from domain.coverage import PlanRules, PlanSummary, plan
from domain.errors import CommandRejected
from domain.org import Directory, is_person_id, is_unit_id
from domain.procedure import StepDeadlines, SubjectKind
from domain.rubric import CURRENT_RUBRIC_VERSION, RUBRICS, register_rubric, rubric
from storage.directory import DirectoryStore, ImportResult, Progress


def load_example(engine: Engine) -> None:
    """Load the shipped example organization if the directory is empty. Never
    overwrites a directory someone imported; a second call is one query."""
    store = DirectoryStore(engine)
    if store.is_empty():
        store.replace(build_example(), source=EXAMPLE_SOURCE)


class DirectoryFile(NamedTuple):
    """What was read and how: ``read_as`` names, per file or sheet, the
    encoding or sheet it was read from, for the import report."""

    directory: Directory
    format: str  # "yaml", "csv" or "xlsx"
    read_as: dict[str, str]


EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def read_directory_source(path: Path) -> DirectoryFile:
    """A YAML file, an Excel workbook (sheets units, people, memberships), or
    a folder holding units.csv, people.csv and memberships.csv (or one of
    those files). Raises ``DirectoryImportError`` naming where each problem
    is, ``ValueError`` for a path that is none of these."""
    suffix = path.suffix.lower()
    if path.is_dir():
        d, enc = read_csv_report(path / UNITS_FILE, path / PEOPLE_FILE, path / MEMBERSHIPS_FILE)
        return DirectoryFile(d, "csv", enc)
    if suffix in (".yaml", ".yml"):
        return DirectoryFile(read_yaml(path), "yaml", {path.name: "UTF-8"})
    if suffix in EXCEL_SUFFIXES:
        d, sheets = read_xlsx_report(path)
        return DirectoryFile(d, "xlsx", sheets)
    if suffix == ".csv":
        folder = path.parent
        d, enc = read_csv_report(folder / UNITS_FILE, folder / PEOPLE_FILE, folder / MEMBERSHIPS_FILE)
        return DirectoryFile(d, "csv", enc)
    raise ValueError(f"{path}: expected a .yaml file, an Excel workbook (.xlsx), or a folder with units.csv, people.csv and memberships.csv")


def read_directory_file(path: Path) -> Directory:
    return read_directory_source(path).directory


def import_path(engine: Engine, path: Path, *, progress: Progress | None = None) -> ImportResult:
    """Validate the whole input first (nothing is written if any of it is
    bad), then update the stored directory in place."""
    got = read_directory_source(path)
    result = DirectoryStore(engine).replace(got.directory, source=str(path), progress=progress)
    return result.model_copy(update={"read_as": got.read_as})


def load_rubrics(engine: Engine) -> list[str]:
    """Make every stored rubric version known to this process; returns their versions."""
    return [register_rubric(rb).version for rb in DirectoryStore(engine).rubrics()]


def review_spec_for(
    engine: Engine,
    subject_id: str,
    *,
    review_id: str,
    campaign_id: str,
    supervisor_ids: tuple[str, ...],
    deadlines: StepDeadlines,
    rubric_version: str = CURRENT_RUBRIC_VERSION,
) -> e.ReviewSpec:
    """The facts a review of this subject starts with, from the directory as
    it is now. Reads only the subject's neighbourhood, so it costs the same
    for ten subjects or a hundred thousand.

    Rejections name ids only (failure messages travel unencrypted)."""
    if not (is_unit_id(subject_id) or is_person_id(subject_id)):
        raise CommandRejected("subject_id", f"{subject_id!r} is neither a unit id (U-…) nor a person id (P-…)")
    if rubric_version not in RUBRICS:
        load_rubrics(engine)
    try:
        rb = rubric(rubric_version)
    except KeyError as exc:
        raise CommandRejected("rubric_version", str(exc.args[0])) from None
    d = DirectoryStore(engine).load_neighbourhood(subject_id)
    if subject_id not in d.units and subject_id not in d.people:
        raise CommandRejected("subject_id", f"{subject_id} is not in the directory")
    got = assign_subject(d, subject_id, rb)
    if got is None:
        raise CommandRejected("subject_id", _not_a_subject(d, subject_id))
    if isinstance(got, Blocked):
        where = got.unit_id or got.person_id or subject_id
        raise CommandRejected("reviewer_id", f"{subject_id} has no reviewer: {got.reason.value} ({where}); see `reviewctl directory plan`")
    return spec_from_assignment(got, d, review_id=review_id, campaign_id=campaign_id, supervisor_ids=supervisor_ids, deadlines=deadlines)


def _not_a_subject(d: Directory, subject_id: str) -> str:
    if is_unit_id(subject_id):
        u = d.units[subject_id]
        if u.external:
            return f"{subject_id} belongs to another authority and is not reviewed here"
        return f"{subject_id} is the top of the directory and is reviewed outside it"
    led = d.leads.get(subject_id, [])
    if led:
        return f"{subject_id} is reviewed together with the organization they lead ({', '.join(sorted(led))}); start a review of that unit"
    return f"{subject_id} belongs only to another authority's organization"


def spec_from_assignment(a: Assignment, d: Directory, *, review_id: str, campaign_id: str,
                         supervisor_ids: tuple[str, ...], deadlines: StepDeadlines) -> e.ReviewSpec:
    if a.kind is SubjectKind.ORGANIZATION:
        display = d.unit_name(a.subject_id)
    else:
        display = d.name_of(a.subject_id)
    subject = e.Subject(kind=a.kind, subject_id=a.subject_id, unit_id=a.unit_id, leader_id=a.leader_id, display_name=display)
    return e.ReviewSpec(
        review_id=review_id,
        campaign_id=campaign_id,
        subject=subject,
        level=a.level,
        unit_category=a.category,
        tier=a.tier,
        reviewer_id=a.reviewer_id,
        co_reviewer_ids=a.co_reviewer_ids,
        supervisor_ids=supervisor_ids,
        rubric_version=a.rubric_version,
        rubric_points=a.rubric_points,
        deadlines=deadlines,
        explanation=explain(a, d).text(),
    )


def plan_rules() -> PlanRules:
    """The plan's rules as this installation sets them (``PINGYI_MIN_BRANCH_MEMBERS``)."""
    return PlanRules(min_branch_members=get_settings().min_branch_members)


def plan_period(engine: Engine, period: str = "", rules: PlanRules | None = None) -> tuple[Directory, list[Assignment], PlanSummary]:
    d = DirectoryStore(engine).load()
    derivation, summary = plan(d, rubric(), period, rules or plan_rules())
    return d, derivation.assignments, summary


def known_people(engine: Engine, person_ids: Iterable[str]) -> set[str]:
    """Which of these ids name a person in the directory. The application
    layer refuses a reviewer, co-reviewer or subject the directory does not
    know before anything reaches a review's history."""
    return DirectoryStore(engine).known_people(person_ids)


def person_exists(engine: Engine, person_id: str) -> bool:
    return bool(known_people(engine, [person_id]))


def unknown_people(engine: Engine, person_ids: Iterable[str]) -> list[str]:
    """The ids of ``person_ids`` the directory does not know, in the order given
    (each once): what a refusal names."""
    ids = list(dict.fromkeys(person_ids))
    known = known_people(engine, ids)
    return [pid for pid in ids if pid not in known]


def iter_assignments(engine: Engine, *, kind: SubjectKind | None = None, tier: int | None = None) -> Iterator[AssignmentView]:
    """Every assignment of the current directory, organizations first, with
    names and explanations (the demo picks a small subject from these)."""
    d = DirectoryStore(engine).load()
    derivation, _ = plan(d, rubric())
    for a in derivation.assignments:
        if (kind is None or a.kind is kind) and (tier is None or a.tier == tier):
            yield AssignmentView.of(a, d)
