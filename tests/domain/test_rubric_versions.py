"""The rubric as versioned data: the existing API unchanged, the level rule,
and new versions that never change old ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.org import UnitKind
from domain.rubric import (
    CURRENT_RUBRIC_VERSION, RUBRICS, RubricVersionConflict, SubjectLevel, UnitCategory, register_rubric, rubric,
    rubric_from_data, rubric_to_data,
)


def test_three_levels_of_five_mandatory_points_with_stable_codes():
    rb = rubric(CURRENT_RUBRIC_VERSION)
    for level in SubjectLevel:
        codes = [p.code for p in rb.mandatory_points(level)]
        assert codes == [f"{level.value}{i}" for i in range(1, 6)]
        assert all(rb.point(c).text_zh and rb.point(c).text_en for c in codes)


def test_focus_points_apply_to_organizations_not_members():
    rb = rubric()
    le = [p.code for p in rb.points_for(SubjectLevel.A, UnitCategory.LAW_ENFORCEMENT)]
    assert le[:5] == ["A1", "A2", "A3", "A4", "A5"] and set(le[5:]) == {p.code for p in rb.points if p.category is UnitCategory.LAW_ENFORCEMENT}
    assert [p.code for p in rb.points_for(SubjectLevel.C, UnitCategory.LAW_ENFORCEMENT)] == ["C1", "C2", "C3", "C4", "C5"]
    assert rb.points_for(SubjectLevel.B, UnitCategory.OTHER) == rb.mandatory_points(SubjectLevel.B)


@pytest.mark.parametrize("kind,level", [(UnitKind.PARTY_GROUP, "A"), (UnitKind.PARTY_COMMITTEE, "A"),
                                        (UnitKind.GENERAL_BRANCH, "B"), (UnitKind.BRANCH, "B")])
def test_the_level_follows_from_the_kind_of_organization(kind, level):
    assert rubric().level_of_unit(kind) == SubjectLevel(level)
    assert rubric().member_level is SubjectLevel.C


def test_every_unit_kind_has_a_level():
    assert {k.value for k in UnitKind} == set(rubric().level_by_kind)
    with pytest.raises(KeyError, match="no level for unit kind"):
        rubric().level_of_unit("club")


def _revised(version: str, **changes) -> dict:
    data = rubric_to_data(rubric())
    data["version"] = version
    data.update(changes)
    return data


def test_a_changed_rubric_is_a_new_version_and_the_old_one_stays(monkeypatch):
    monkeypatch.setattr("domain.rubric.RUBRICS", dict(RUBRICS))
    from domain import rubric as mod

    before = rubric().fingerprint()
    data = _revised("2011.1")
    data["points"] = [p for p in data["points"] if p["code"] != "WS3"]
    new = register_rubric(rubric_from_data(data))
    assert mod.rubric("2011.1") is new and "WS3" not in {p.code for p in new.points}
    assert mod.rubric(CURRENT_RUBRIC_VERSION).fingerprint() == before
    assert mod.rubric(CURRENT_RUBRIC_VERSION).point("WS3") is not None
    assert register_rubric(rubric_from_data(data)) is new  # the same content again is harmless
    data["points"][0]["text_en"] = "changed wording"
    with pytest.raises(RubricVersionConflict, match="needs a new version"):
        register_rubric(rubric_from_data(data))
    assert mod.rubric("2011.1") is new


def test_the_round_trip_through_plain_data_keeps_the_fingerprint():
    assert rubric_from_data(rubric_to_data(rubric())).fingerprint() == rubric().fingerprint()


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["points"].append(dict(d["points"][0])), "unique"),
    (lambda d: d.update(points=[p for p in d["points"] if p.get("level") != "C"]), "level C"),
    (lambda d: d["points"][0].update(code="a-1"), "point code"),
    (lambda d: d["points"][0].update(category="other"), "not both or neither"),
    (lambda d: d["points"][0].update(text_zh=""), "text_zh"),
    (lambda d: d.update(version="new version!"), "version"),
])
def test_a_malformed_rubric_is_refused_naming_the_problem(mutate, message):
    data = _revised("2012.1")
    mutate(data)
    with pytest.raises(ValidationError, match=message):
        rubric_from_data(data)
