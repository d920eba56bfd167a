"""The review rubric (点评内容) as data: 3 subject levels x 5 mandatory points
(规定动作, "逐条点评，全部落实") plus focus points per unit category (分类指导).

Kept as data, not code, because the spec says the administrator must be able to
change it; every review records the rubric version it started with.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SubjectLevel(StrEnum):
    """A = leading group + its principal leader, B = basic-level organization + its
    secretary, C = member (spec §4)."""

    A = "A"
    B = "B"
    C = "C"


class UnitCategory(StrEnum):
    LAW_ENFORCEMENT = "law_enforcement"
    TECHNICAL_INSTITUTION = "technical_institution"
    WINDOW_SERVICE = "window_service"
    OTHER = "other"


POINT_CODE = re.compile(r"^[A-Z]{1,3}[0-9]{1,2}$")


class RubricPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    level: SubjectLevel | None = None  # mandatory point of this level
    category: UnitCategory | None = None  # focus point of this category

    @field_validator("code")
    @classmethod
    def _stable_code(cls, v: str) -> str:
        # codes are stored in every review and cited in findings: they must stay short and plain
        if not POINT_CODE.match(v):
            raise ValueError(f"point code {v!r} must look like A1, B5, LE2 (1-3 capitals, 1-2 digits)")
        return v

    @model_validator(mode="after")
    def _level_or_category(self) -> "RubricPoint":
        if (self.level is None) == (self.category is None):
            raise ValueError(f"point {self.code} must be either mandatory for a level or a focus point of a category, not both or neither")
        return self

    @property
    def mandatory(self) -> bool:
        return self.level is not None

    def text(self, lang: str = "zh") -> str:
        return self.text_en if lang.startswith("en") else self.text_zh


# The level rule (spec §4: "the level of a subject follows from what it is"):
# a leading party group or party committee with its principal leader is level A,
# a basic-level organization (general branch, branch) with its secretary is
# level B, a person reviewed on their own is level C. Keys are the values of
# ``domain.org.UnitKind``; kept here, in the versioned rubric, because changing
# which organizations count as "leading" changes what their reviews must cover.
DEFAULT_LEVEL_BY_KIND: dict[str, SubjectLevel] = {
    "party_group": SubjectLevel.A,
    "party_committee": SubjectLevel.A,
    "general_branch": SubjectLevel.B,
    "branch": SubjectLevel.B,
}


class Rubric(BaseModel):
    """One version of the rubric. Focus points apply to the levels listed in
    ``focus_levels`` (Interpretation: category focus concerns units, so levels A
    and B; members are reviewed on the five member points only).

    A version is immutable once registered: reviews store the version and the
    point codes they started with, so changing a rubric means a new version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
    points: tuple[RubricPoint, ...]
    focus_levels: tuple[SubjectLevel, ...] = (SubjectLevel.A, SubjectLevel.B)
    level_by_kind: dict[str, SubjectLevel] = Field(default_factory=lambda: dict(DEFAULT_LEVEL_BY_KIND))
    member_level: SubjectLevel = SubjectLevel.C

    @model_validator(mode="after")
    def _complete(self) -> "Rubric":
        codes = [p.code for p in self.points]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"point codes must be unique; repeated: {', '.join(dupes)}")
        missing = [lv.value for lv in SubjectLevel if not any(p.level == lv for p in self.points)]
        if missing:
            raise ValueError(f"every level needs its mandatory points (规定动作); none for level {', '.join(missing)}")
        return self

    def level_of_unit(self, kind: str) -> SubjectLevel:
        """The level of an organization subject of this kind (with its leader)."""
        try:
            return self.level_by_kind[str(kind)]
        except KeyError:
            raise KeyError(f"rubric {self.version} has no level for unit kind {kind!r}; known: {sorted(self.level_by_kind)}") from None

    def fingerprint(self) -> str:
        """Content hash: two rubrics with the same version must have the same one."""
        canonical = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def point(self, code: str) -> RubricPoint | None:
        return next((p for p in self.points if p.code == code), None)

    def mandatory_points(self, level: SubjectLevel) -> list[RubricPoint]:
        return [p for p in self.points if p.level == level]

    def focus_points(self, level: SubjectLevel, category: UnitCategory) -> list[RubricPoint]:
        if level not in self.focus_levels:
            return []
        return [p for p in self.points if p.category == category]

    def points_for(self, level: SubjectLevel, category: UnitCategory) -> list[RubricPoint]:
        """Every point a review of this subject must cover, mandatory first."""
        return self.mandatory_points(level) + self.focus_points(level, category)


def _p(code: str, zh: str, en: str, level: str | None = None, category: str | None = None) -> RubricPoint:
    return RubricPoint(
        code=code,
        text_zh=zh,
        text_en=en,
        level=SubjectLevel(level) if level else None,
        category=UnitCategory(category) if category else None,
    )


RUBRIC_2010 = Rubric(
    version="2010.1",
    points=(
        _p("A1", "组织领导本单位创先争优活动情况", "Organizing and leading the unit's campaign", "A"),
        _p("A2", "履行党建工作责任情况", "Fulfilling party-building responsibility", "A"),
        _p("A3", "加强领导班子和队伍建设情况", "Building the leadership team and the workforce", "A"),
        _p("A4", "反腐倡廉建设情况", "Anti-corruption and integrity (反腐倡廉)", "A"),
        _p("A5", "推动中心工作、完成重点任务情况", "Driving the central work and completing key tasks", "A"),
        _p("B1", "开展创先争优活动情况", "Campaign activities carried out", "B"),
        _p("B2", "建设学习型党组织情况", "Building a learning-oriented organization", "B"),
        _p("B3", "作风建设和反腐倡廉情况", "Work style and integrity", "B"),
        _p("B4", "公开承诺、亮诺、践诺情况", "Public commitments made, displayed and fulfilled (承诺、亮诺、践诺)", "B"),
        _p("B5", "服务群众、为群众办实事解难事情况", "Serving the people and solving their problems", "B"),
        _p("C1", "参加创先争优活动情况", "Taking part in the campaign", "C"),
        _p("C2", "立足岗位创先争优情况", "Striving for excellence in one's own post", "C"),
        _p("C3", "履行承诺情况", "Fulfilling one's commitments", "C"),
        _p("C4", "个人学习和实践情况", "Personal learning and practice", "C"),
        _p("C5", "服务群众情况", "Serving the people", "C"),
        _p("LE1", "依法治检情况", "Law-based inspection (依法治检)", category="law_enforcement"),
        _p("LE2", "打击假冒伪劣情况", "Fighting counterfeit and shoddy goods", category="law_enforcement"),
        _p("LE3", "维护企业和消费者合法权益情况", "Protecting the rights of enterprises and consumers", category="law_enforcement"),
        _p("LE4", "文明执法、廉洁执法情况", "Civil and clean enforcement", category="law_enforcement"),
        _p("TI1", "科技兴检情况", "Technology-driven inspection (科技兴检)", category="technical_institution"),
        _p("TI2", "公共技术服务平台建设情况", "Public technical service platforms", category="technical_institution"),
        _p("TI3", "检验检测工作整顿情况", "Rectification of inspection and testing work", category="technical_institution"),
        _p("TI4", "技术能力建设情况", "Technical capacity", category="technical_institution"),
        _p("TI5", "服务经济发展情况", "Serving economic development", category="technical_institution"),
        _p("WS1", "服务态度、服务效率和服务质量", "Service attitude, efficiency and quality", category="window_service"),
        _p("WS2", "窗口形象", "The window's image", category="window_service"),
        _p("WS3", "为群众办实事情况", "Doing practical things for the public", category="window_service"),
    ),
)

RUBRICS: dict[str, Rubric] = {RUBRIC_2010.version: RUBRIC_2010}
CURRENT_RUBRIC_VERSION = RUBRIC_2010.version


def rubric(version: str = CURRENT_RUBRIC_VERSION) -> Rubric:
    try:
        return RUBRICS[version]
    except KeyError:
        raise KeyError(f"unknown rubric version {version!r}; known: {sorted(RUBRICS)}") from None


class RubricVersionConflict(ValueError):
    """Someone tried to change a rubric without giving it a new version."""


def rubric_from_data(data: Mapping[str, Any]) -> Rubric:
    """A rubric from plain data (an administrator's YAML file, a stored row);
    raises pydantic's ValidationError naming the offending field."""
    return Rubric.model_validate(dict(data))


def rubric_to_data(r: Rubric) -> dict[str, Any]:
    """The plain-data form ``rubric_from_data`` reads: a starting point for a new version."""
    return r.model_dump(mode="json", exclude_none=True)


def register_rubric(r: Rubric) -> Rubric:
    """Make a rubric version known to this process. Registering the same content
    twice is harmless; different content under a known version is refused,
    because running reviews rely on their version never changing."""
    known = RUBRICS.get(r.version)
    if known is not None:
        if known.fingerprint() != r.fingerprint():
            raise RubricVersionConflict(f"rubric version {r.version!r} already exists with different content; a changed rubric needs a new version")
        return known
    RUBRICS[r.version] = r
    return r
