"""Command text the log can store on every engine: a NUL (U+0000) anywhere in
a command is refused by ``parse_command``, naming the field, because
PostgreSQL's text type cannot hold it and an accepted command that its
append then refuses would leave the review's activity retrying forever."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.commands import parse_command
from domain.errors import CommandRejected
from domain.strings import nul_field

FINDINGS = {
    "kind": "record_findings",
    "actor_id": "p-reviewer",
    "reason": "on site",
    "findings": [{"point_code": "A1", "summary": "学习记录不全", "evidence": [{"kind": "site_visit", "reference": "visit 1"}]}],
}


def with_text(path: tuple, text: str) -> dict:
    import copy

    data = copy.deepcopy(FINDINGS)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = text
    return data


def test_the_clean_command_parses():
    assert parse_command(FINDINGS).findings[0].summary == "学习记录不全"


@pytest.mark.parametrize("path,field", [
    (("reason",), "reason"),
    (("actor_id",), "actor_id"),
    (("findings", 0, "summary"), "findings.0.summary"),
    (("findings", 0, "evidence", 0, "reference"), "findings.0.evidence.0.reference"),
])
def test_a_nul_anywhere_is_refused_naming_the_field(path, field):
    with pytest.raises(CommandRejected) as info:
        parse_command(with_text(path, "before\x00after"))
    assert info.value.field == field and "U+0000" in info.value.reason


def test_other_control_characters_are_text_like_any_other():
    assert parse_command(with_text(("reason",), "line\nnext\ttab\x01")).reason == "line\nnext\ttab\x01"


CLEAN_TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=5)
JSON_SHAPED = st.recursive(CLEAN_TEXT, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CLEAN_TEXT, inner, max_size=3), max_leaves=12)


def string_leaves(value, path=()):
    """Every string value's path, in order."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from string_leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from string_leaves(v, (*path, i))


@given(JSON_SHAPED, st.data())
def test_nul_field_names_the_string_that_holds_the_nul(value, data):
    assert nul_field(value) is None
    leaves = [p for p in string_leaves(value) if p]
    if not leaves:
        return
    path = data.draw(st.sampled_from(leaves))
    target = value
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = target[path[-1]] + "\x00"
    assert nul_field(value) == ".".join(str(k) for k in path)
