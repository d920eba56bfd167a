"""A campaign: one round of reviews over a scope of the hierarchy (spec §5, §7).

The office never runs the procedure one review at a time: it launches a round
("every secretary reviews, every organization and every member is
reviewed"), at least every half year for organizations and their secretaries
and once more at year end for everyone, sometimes as a random spot check or a
thematic round. This module holds what such a round is and which subjects it
covers, without any I/O:

- ``CampaignSpec``: the period, the round, the scope (whole organization or a
  subtree, levels A/B/C), the method, step deadlines, a theme text, and for a
  random round the sample (size or fraction, optional strata, the seed);
- ``plan_campaign(directory, assignments, gaps, spec)``: the dry run, the subjects
  with their reviewers, the counts per tier × level and every directory gap in
  scope; its ``plan_id`` is the hash of exactly that content, so a launch that
  names the id starts what was shown and nothing else;
- ``draw``: the reproducible sample, a function of the candidates and the seed
  alone, which ``reviewctl audit redraw`` reruns from the log.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from datetime import date, datetime
from enum import StrEnum
from typing import Callable, Iterable, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain import events as ev
from domain.assignment import Assignment
from domain.coverage import Gap, count_by_tier_level
from domain.errors import CommandRejected
from domain.org import Directory
from domain.procedure import ReviewMethod, Role, StepDeadlines, SubjectKind
from domain.rubric import SubjectLevel

CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
T = TypeVar("T")
PERIOD = re.compile(r"^(?P<year>20[0-9]{2})-(?P<part>H1|H2|Y)$")


class Round(StrEnum):
    """Who must be reviewed (spec §7): each organization and its secretary at
    least every half year; everyone at year end."""

    HALF_YEARLY = "half_yearly"
    YEAR_END = "year_end"

    def covers(self, kind: SubjectKind) -> bool:
        return self is Round.YEAR_END or kind is SubjectKind.ORGANIZATION


class Scope(BaseModel):
    """The whole organization (``unit_id`` None) or the subtree under one unit,
    and the subject levels included."""

    model_config = ConfigDict(frozen=True)

    unit_id: str | None = None
    levels: tuple[SubjectLevel, ...] = (SubjectLevel.A, SubjectLevel.B, SubjectLevel.C)

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: tuple[SubjectLevel, ...]) -> tuple[SubjectLevel, ...]:
        if not v:
            raise ValueError("at least one level (A, B or C)")
        return tuple(sorted(set(v)))


class Sample(BaseModel):
    """A random spot check: ``size`` subjects or a ``fraction`` of them, drawn
    per stratum (tier or unit category) in proportion, from ``seed``."""

    model_config = ConfigDict(frozen=True)

    size: int | None = Field(default=None, ge=1)
    fraction: float | None = Field(default=None, gt=0, le=1)
    stratify_by: Literal["tier", "category"] | None = None
    seed: int = Field(ge=0, lt=2**63)

    @model_validator(mode="after")
    def _one_of(self) -> "Sample":
        if (self.size is None) == (self.fraction is None):
            raise ValueError("size: give exactly one of size and fraction")
        return self


class CampaignSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: str
    period: str  # 2026-H1, 2026-H2, 2026-Y
    round: Round
    scope: Scope = Scope()
    method: ReviewMethod
    deadlines: StepDeadlines = StepDeadlines()
    theme: str = ""
    sample: Sample | None = None

    @field_validator("campaign_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not CAMPAIGN_ID.match(v):
            raise ValueError("lower-case letters, digits and '-', at most 48, starting with a letter or digit")
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        if not PERIOD.match(v):
            raise ValueError("YYYY-H1, YYYY-H2 or YYYY-Y (the year-end round)")
        return v

    @model_validator(mode="after")
    def _method_needs(self) -> "CampaignSpec":
        if self.method is ReviewMethod.RANDOM and self.sample is None:
            raise ValueError("sample: a random round needs a sample (size or fraction, and a seed)")
        if self.method is not ReviewMethod.RANDOM and self.sample is not None:
            raise ValueError("sample: only a random round draws a sample")
        if self.method is ReviewMethod.THEMATIC and not self.theme.strip():
            raise ValueError("theme: a thematic round needs its theme")
        return self


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day a period covers (inclusive)."""
    m = PERIOD.match(period)
    if m is None:
        raise CommandRejected("period", f"{period!r}: expected YYYY-H1, YYYY-H2 or YYYY-Y")
    year, part = int(m["year"]), m["part"]
    if part == "H1":
        return date(year, 1, 1), date(year, 6, 30)
    if part == "H2":
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


class PlanEntry(BaseModel):
    """One subject of a campaign with everything its review starts from."""

    model_config = ConfigDict(frozen=True)

    subject_id: str
    kind: SubjectKind
    unit_id: str
    leader_id: str | None
    reviewer_id: str
    via_unit_id: str
    basis: str
    level: SubjectLevel
    tier: int
    category: str
    rubric_version: str
    rubric_points: tuple[str, ...]
    co_reviewer_ids: tuple[str, ...] = ()
    guide_unit_id: str | None = None

    @classmethod
    def of(cls, a: Assignment) -> "PlanEntry":
        return cls(
            subject_id=a.subject_id, kind=a.kind, unit_id=a.unit_id, leader_id=a.leader_id, reviewer_id=a.reviewer_id, via_unit_id=a.via_unit_id,
            basis=a.basis.value, level=a.level, tier=a.tier, category=a.category.value, rubric_version=a.rubric_version,
            rubric_points=a.rubric_points, co_reviewer_ids=a.co_reviewer_ids, guide_unit_id=a.guide_unit_id,
        )


class CampaignPlan(BaseModel):
    """The dry run: what a launch with this ``plan_id`` starts."""

    model_config = ConfigDict(frozen=True)

    spec: CampaignSpec
    plan_id: str
    entries: tuple[PlanEntry, ...]
    candidates: int  # subjects in scope before a random draw
    by_tier_level: dict[int, dict[str, int]]
    gaps: tuple[Gap, ...]

    @property
    def total(self) -> int:
        return len(self.entries)


def review_id_for(campaign_id: str, subject_id: str) -> str:
    """The review's workflow id: the same for the same campaign and subject
    every time, so a retried or repeated start finds the review it started
    (ids only: the codec does not cover workflow ids)."""
    return f"rv-{campaign_id}-{subject_id}"


def in_scope(d: Directory, spec: CampaignSpec) -> tuple[set[str] | None, str | None]:
    """The units of the scope (None: all), or a rejection naming the field."""
    if spec.scope.unit_id is None:
        return None, None
    if spec.scope.unit_id not in d.units:
        return None, f"{spec.scope.unit_id} is not in the directory"
    return set(d.subtree(spec.scope.unit_id)), None


def _stratum(e: PlanEntry, by: str | None) -> str:
    if by == "tier":
        return str(e.tier)
    if by == "category":
        return e.category
    return ""


def draw(candidates: Iterable[PlanEntry], sample: Sample) -> list[PlanEntry]:
    """The spot check's subjects: a function of the candidates and the seed
    alone (candidates sorted by subject id, strata by name, one
    ``random.Random(seed)`` drawing in that order), so the same candidates and
    seed give the same subjects on any machine. Stratified draws allocate the
    total in proportion to stratum size (largest remainder, ties by name)."""
    return _draw(list(candidates), sample, key=lambda e: _stratum(e, sample.stratify_by))


def _draw(candidates: list[T], sample: Sample, key: Callable[[T], str]) -> list[T]:
    ordered = sorted(candidates, key=lambda e: e.subject_id)  # type: ignore[attr-defined]
    n = len(ordered)
    want = sample.size if sample.size is not None else round(n * (sample.fraction or 0))
    want = max(0, min(n, want))
    strata: dict[str, list[T]] = defaultdict(list)
    for e in ordered:
        strata[key(e)].append(e)
    names = sorted(strata)
    quotas = {k: want * len(strata[k]) // n for k in names}
    rest = want - sum(quotas.values())
    for k in sorted(names, key=lambda k: (-(want * len(strata[k]) % n), k))[:rest]:
        quotas[k] += 1
    rng = random.Random(sample.seed)
    picked: list[T] = []
    for k in names:
        picked += rng.sample(strata[k], quotas[k])
    return sorted(picked, key=lambda e: e.subject_id)  # type: ignore[attr-defined]


def plan_hash(spec: CampaignSpec, entries: Iterable[PlanEntry], gaps: Iterable[Gap]) -> str:
    """SHA-256 over the canonical JSON of the spec, every entry and every gap:
    two plans share an id only if a launch of either starts the same reviews."""
    h = hashlib.sha256()
    h.update(json.dumps(spec.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    for e in entries:
        h.update(b"\n" + json.dumps(e.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    h.update(b"\ngaps")
    for g in gaps:
        h.update(b"\n" + json.dumps(g.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    return h.hexdigest()[:32]


def candidates_of(d: Directory, assignments: Iterable[Assignment], spec: CampaignSpec) -> list[PlanEntry]:
    """Every subject of the scope and round with a reviewer, by subject id
    (what a random round draws from)."""
    units, problem = in_scope(d, spec)
    if problem:
        raise CommandRejected("scope.unit_id", problem)
    levels = set(spec.scope.levels)
    picked = (a for a in assignments if (units is None or a.unit_id in units) and spec.round.covers(a.kind) and a.level in levels)
    return sorted((PlanEntry.of(a) for a in picked), key=lambda e: e.subject_id)


def plan_campaign(d: Directory, assignments: Iterable[Assignment], gaps: Iterable[Gap], spec: CampaignSpec) -> CampaignPlan:
    """The subjects a launch of ``spec`` over this directory starts, sorted by
    subject id, and the gaps that leave subjects in scope without a reviewer."""
    candidates = candidates_of(d, assignments, spec)
    units, _ = in_scope(d, spec)
    entries = draw(candidates, spec.sample) if spec.sample is not None else candidates
    in_gaps = tuple(g for g in gaps if units is None or any(u in units for u in _units_of_gap(d, g)))
    counts = count_by_tier_level(entries)  # type: ignore[arg-type]  (reads .tier and .level only)
    return CampaignPlan(spec=spec, plan_id=plan_hash(spec, entries, in_gaps), entries=tuple(entries), candidates=len(candidates), by_tier_level=counts, gaps=in_gaps)


def _units_of_gap(d: Directory, g: Gap) -> list[str]:
    """The units a gap touches: its unit, its person's units, its subjects'."""
    out = [g.unit_id] if g.unit_id else []
    for pid in filter(None, (g.person_id, *g.subject_ids)):
        if pid in d.units:
            out.append(pid)
        else:
            out += d.leads.get(pid, []) + d.teams_of.get(pid, []) + d.member_of.get(pid, [])
    return out


# --------------------------------------------------------------------------
# The campaign's own facts, stream ``campaign-<id>`` of the audit log
# --------------------------------------------------------------------------


def stream_of(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


@ev.event("campaign.launched")
class CampaignLaunched(ev.DomainEvent):
    spec: CampaignSpec
    plan_id: str
    total: int
    candidates: int
    by_tier_level: dict[int, dict[str, int]]
    gaps: int


@ev.event("campaign.sample_drawn")
class SampleDrawn(ev.DomainEvent):
    """Everything a redraw needs, from the log alone: the candidates the draw
    chose from (with their stratum) and the seed; the subjects it drew."""

    sample: Sample
    candidates: list[tuple[str, str]]  # (subject id, stratum)
    drawn: list[str]


@ev.event("campaign.paused")
class CampaignPaused(ev.DomainEvent):
    pass


@ev.event("campaign.resumed")
class CampaignResumed(ev.DomainEvent):
    pass


@ev.event("campaign.cancelled")
class CampaignCancelled(ev.DomainEvent):
    pass


def launch_events(plan: CampaignPlan, candidates: list[PlanEntry], now: datetime, actor_id: str) -> list[ev.DomainEvent]:
    """What a launch records: the plan's hash and counts, and for a random
    round the draw (candidates with their strata, the seed, the subjects)."""
    meta = dict(occurred_at=now, actor_id=actor_id, actor_role=Role.SUPERVISOR)
    out: list[ev.DomainEvent] = [
        CampaignLaunched(**meta, spec=plan.spec, plan_id=plan.plan_id, total=plan.total, candidates=plan.candidates, by_tier_level=plan.by_tier_level, gaps=len(plan.gaps))
    ]
    if plan.spec.sample is not None:
        by = plan.spec.sample.stratify_by
        out.append(SampleDrawn(**meta, sample=plan.spec.sample, candidates=[(e.subject_id, _stratum(e, by)) for e in candidates], drawn=[e.subject_id for e in plan.entries]))
    return out


def redraw(drawn: SampleDrawn) -> list[str]:
    """The draw rerun from its recorded candidates and seed: equal to
    ``drawn.drawn`` unless the log was altered."""
    stand_ins = [_Stratified(subject_id, stratum) for subject_id, stratum in drawn.candidates]
    return [e.subject_id for e in _draw(stand_ins, drawn.sample, key=lambda e: e.stratum)]


class _Stratified:
    __slots__ = ("subject_id", "stratum")

    def __init__(self, subject_id: str, stratum: str) -> None:
        self.subject_id, self.stratum = subject_id, stratum
