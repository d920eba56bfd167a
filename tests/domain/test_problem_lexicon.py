"""The problem-text rules are data (issue 13, point 1): a bilingual lexicon in
``domain.problem_text.LEXICON``, one tuple of words per slot of the denial
grammar, from which the grammar is built. These tests hold that the lexicon
has both languages, that the denial patterns are the ones built from it, and
that its words decide: a denial using a qualifier or a negation of the lexicon
is refused, and the same text passes once a copy of the lexicon lacks that
word. A qualifier that no longer decided anything (shadowed by another slot,
or never reached by the grammar) would fail here.

The copy is judged by rebuilding the denial patterns from it with the module's
own builder (``_denial_patterns``) and monkeypatching them in; the rebuild from
the unchanged lexicon is first checked to give exactly the module's patterns."""

from __future__ import annotations

import copy
import re

import pytest

from domain import problem_text
from domain.problem_text import LEXICON, NotAProblem, why_not_a_problem

LANGUAGES = ("zh", "en")

# a denial around one qualifier, in each language's ordinary phrasing
QUALIFIED_DENIAL = {"zh": "未发现{}问题", "en": "no {} issues found"}

# the qualifiers the issue names (明显/突出/重大 …) and their English equivalents:
# pinned here, so a word dropped from the lexicon is missed, not silently untested
ISSUE_QUALIFIERS = [("zh", q) for q in ("明显", "突出", "重大", "严重")] + [("en", q) for q in ("significant", "major", "serious", "obvious")]

# the negations the issue names (无/没/未) and the plain English ones, each in a
# denial that no other negation of the lexicon can spell
NEGATION_DENIALS = [
    ("zh", "无", "无明显问题"),
    ("zh", "未", "未发现明显问题"),
    ("zh", "没", "没发现明显问题"),
    ("en", "no", "no significant issues found"),
    ("en", "nothing", "nothing major"),
    ("en", "none", "none identified"),
    ("en", "never", "we never found significant issues"),
    ("en", "didnt", "we didn't find any significant issues"),
]


def patterns_of(lexicon) -> list[str]:
    return [p.pattern for lang in LANGUAGES for p in problem_text._denial_patterns(lexicon[lang], zh=lang == "zh")]


def without(lang: str, slot: str, word: str):
    lexicon = copy.deepcopy(LEXICON)
    assert word in lexicon[lang][slot]
    lexicon[lang][slot] = tuple(w for w in lexicon[lang][slot] if w != word)
    return lexicon


def judged_with(lexicon, monkeypatch) -> None:
    """From now on, denials are the patterns built from ``lexicon``."""
    monkeypatch.setattr(problem_text, "_DENIALS", [re.compile(p) for p in patterns_of(lexicon)])


def test_the_lexicon_has_both_languages_with_the_same_slots_and_words_in_each():
    """Chinese and English denials are read by one grammar: each language fills
    the same slots, and the slots a denial needs are not empty."""
    assert set(LEXICON) == set(LANGUAGES)
    assert LEXICON["zh"].keys() == LEXICON["en"].keys()
    for lang in LANGUAGES:
        for slot in ("negation", "qualifier", "noun", "verb", "praise", "placeholder"):
            words = LEXICON[lang][slot]
            assert words and all(isinstance(w, str) and w.strip() == w and w for w in words), (lang, slot)


def test_the_denial_patterns_are_built_from_the_lexicon():
    """What the tests below rebuild from a copy is what the module uses: the
    patterns built from the lexicon as it stands are exactly the module's."""
    assert patterns_of(LEXICON) == [p.pattern for p in problem_text._DENIALS]


@pytest.mark.parametrize(("lang", "qualifier"), ISSUE_QUALIFIERS)
def test_the_qualifiers_the_issue_names_are_in_the_lexicon(lang, qualifier):
    assert qualifier in LEXICON[lang]["qualifier"]
    assert why_not_a_problem(QUALIFIED_DENIAL[lang].format(qualifier)) is NotAProblem.DENIAL


@pytest.mark.parametrize(("lang", "qualifier"), [(lang, q) for lang in LANGUAGES for q in LEXICON[lang]["qualifier"]])
def test_every_qualifier_decides_its_denial(lang, qualifier, monkeypatch):
    """明显/突出/重大 and "significant"/"major" are why 未发现明显问题 and "no
    significant issues found" count as no problem: each qualifier of the
    lexicon, and only it, makes its denial a denial."""
    text = QUALIFIED_DENIAL[lang].format(qualifier)
    assert why_not_a_problem(text) is NotAProblem.DENIAL, text
    judged_with(without(lang, "qualifier", qualifier), monkeypatch)
    assert why_not_a_problem(text) is None, f"{text!r} is still refused without the qualifier {qualifier!r}"


@pytest.mark.parametrize(("lang", "negation", "text"), NEGATION_DENIALS)
def test_the_named_negations_decide_their_denials(lang, negation, text, monkeypatch):
    """无/没/未 and "no"/"none"/"never" are data too: without the word, its denial reads as a problem."""
    assert why_not_a_problem(text) is NotAProblem.DENIAL, text
    judged_with(without(lang, "negation", negation), monkeypatch)
    assert why_not_a_problem(text) is None, f"{text!r} is still refused without the negation {negation!r}"


@pytest.mark.parametrize(("lang", "qualifier", "text"), [("zh", "惊人", "未发现惊人问题"), ("en", "shocking", "no shocking issues found")])
def test_a_phrasing_added_to_the_lexicon_is_refused_without_touching_the_grammar(lang, qualifier, text, monkeypatch):
    """The office extends the data, not the regular expressions."""
    assert why_not_a_problem(text) is None
    extended = copy.deepcopy(LEXICON)
    extended[lang]["qualifier"] += (qualifier,)
    judged_with(extended, monkeypatch)
    assert why_not_a_problem(text) is NotAProblem.DENIAL
