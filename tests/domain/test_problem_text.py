"""A review's problems must be real problems (spec §9, 不能只写操行评语): denials
in ordinary phrasing, copies of the same point's achievements and texts of
nothing but punctuation and filler count as no problem, and the review is
refused naming the rubric point. The generators below write their own words
(a subset of ordinary phrasings), not the lexicon's, so a phrasing the lexicon
loses fails here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.commands import parse_command
from domain.errors import CommandRejected
from domain.problem_text import MIN_PROBLEM_CHARS, SIMILARITY_THRESHOLD, NotAProblem, is_copy, normalise, why_not_a_problem
from domain.procedure import Step, StepDeadlines
from domain.review import PRAISE_ONLY, decide, start
from review_builders import CONCRETE_PROBLEM, T0, ReviewRun, drive_to, make_spec, review_cmd
from service import demo

# --------------------------------------------------------------------------
# fixtures: real problems, in the words reviewers use
# --------------------------------------------------------------------------

REAL_PROBLEMS = (
    "学习制度执行不严，集中学习记录不全",
    "民主生活会批评与自我批评不够深入，辣味不足",
    "部分党员参加组织生活不经常，“三会一课”落实不到位",
    "执法文书不规范，案卷归档滞后",
    "窗口办事流程繁琐，群众反映等候时间过长",
    "公开承诺未按期兑现",
    "整改台账建立不及时，个别问题整改不彻底",
    "对下属单位监督检查不够经常，存在以会代管现象",
    "调查研究不够深入，掌握基层情况不全面",
    "没有及时上报安全隐患，导致整改延误",
    "未建立问题清单，整改责任不明确",
    "党费收缴不及时，有两个月未按时缴纳",
    "发展党员程序不规范，培养考察材料缺失",
    "群众来信来访答复超期，满意度不高",
    "基层党支部书记培训不足，业务能力偏弱",
    "对群众反映的问题回应不及时",
    "无明显成效的项目仍在持续投入资金",
    "未及时发现问题隐患，导致同类事故再次发生",
    "问题整改不到位，同类问题反复出现",
    "没有问题意识，工作标准不高",
    "Minutes of branch meetings are missing for three months",
    "Rectification measures from last year were not followed up",
    "No records of the required study sessions were kept",
    "The unit failed to publish its service commitments",
    "Complaints from the public were answered late, often after 30 days",
    "Not enough supervision of subordinate units",
    "No follow-up on problems found in the previous review",
    "Party dues were collected irregularly in the second half of the year",
    "There are no written procedures for handling petitions",
    "Nothing was done about the repeated complaints on waiting times",
    "Issues raised by members were not discussed at the branch meeting",
    "Case files are archived weeks after the case is closed",
)

ACHIEVEMENTS = (
    "组织学习32次，党员参学率95%",
    "完成年度重点任务，群众满意度有所提高",
    "Held monthly study sessions with full attendance",
    "work done and results achieved",
)

# the issue's own examples and the first version's word list
DENIALS = (
    "未发现明显问题", "暂时没有发现什么突出问题", "基本无问题", "无明显不足", "没有大的问题", "不存在重大问题", "问题不明显",
    "问题：无", "一切正常，未发现问题", "目前尚未发现违纪违规问题", "经查，该同志无违纪违规情况", "基本上没有什么不足之处",
    "没什么问题", "未见异常", "问题不大", "总体良好",
    "no significant issues found", "nothing major", "none identified", "no problems at this time",
    "We did not find any significant problems.", "we found no major issues", "There are no obvious problems.",
    "Issues: none", "Nothing to report", "no real issues to speak of", "No concerns were raised", "didn't find anything wrong",
)

PUNCTUATION = ("", " ", "，", "。", "！", "…", "、", ",", ".", "!", "　", "～", "——", "；", "?", " - ", "\n")
punct = st.sampled_from(PUNCTUATION)


def spaced(parts: list[str], draw) -> str:
    """The parts joined with random punctuation and whitespace, before, between and after."""
    out = draw(punct)
    for part in parts:
        out += part + draw(punct)
    return out


# --------------------------------------------------------------------------
# generated denials
# --------------------------------------------------------------------------

ZH_LEADS = ("", "目前", "暂时", "基本", "基本上", "经查", "总体上", "该同志", "这方面", "调查中")
ZH_NEGATIONS = ("无", "没有", "未", "不存在", "暂无", "尚未", "并未", "暂未")
ZH_VERBS = ("", "发现", "存在", "出现", "查出")
ZH_QUALIFIERS = ("明显", "发现", "突出", "重大", "严重", "大的", "什么", "任何", "明显的")
ZH_NOUNS = ("问题", "不足", "短板", "缺点", "差距", "不足之处", "")


@st.composite
def zh_denials(draw) -> str:
    quals = draw(st.lists(st.sampled_from(ZH_QUALIFIERS), max_size=2))
    parts = [draw(st.sampled_from(ZH_LEADS)), draw(st.sampled_from(ZH_NEGATIONS)), draw(st.sampled_from(ZH_VERBS)), *quals, draw(st.sampled_from(ZH_NOUNS))]
    return spaced([p for p in parts if p], draw)


EN_LEADS = ("", "there are", "we found", "currently", "overall", "so far", "we did")
EN_NEGATIONS = ("no", "not any", "none", "nothing")
EN_QUALIFIERS = ("significant", "major", "serious", "obvious", "real", "big", "notable", "particular")
EN_NOUNS = ("issues", "problems", "concerns", "shortcomings", "issue", "problem", "weaknesses", "")
EN_TAILS = ("", "found", "identified", "at this time", "so far", "to report", "were found", "noted", "to speak of")


def random_case(text: str, draw) -> str:
    return "".join(ch.upper() if draw(st.booleans()) else ch for ch in text)


@st.composite
def en_denials(draw) -> str:
    quals = draw(st.lists(st.sampled_from(EN_QUALIFIERS), max_size=2))
    parts = [draw(st.sampled_from(EN_LEADS)), draw(st.sampled_from(EN_NEGATIONS)), *quals, draw(st.sampled_from(EN_NOUNS)), draw(st.sampled_from(EN_TAILS))]
    text = " ".join(p for p in parts if p)
    text = random_case(text, draw)
    if draw(st.booleans()):  # typed on a Chinese keyboard: full-width letters
        text = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)
    return draw(punct) + text + draw(punct)


@settings(max_examples=300)
@given(zh_denials())
def test_generated_chinese_denials_count_as_no_problem(text):
    assert why_not_a_problem(text) in (NotAProblem.DENIAL, NotAProblem.PLACEHOLDER, NotAProblem.TOO_SHORT), text


@settings(max_examples=300)
@given(en_denials())
def test_generated_english_denials_count_as_no_problem(text):
    assert why_not_a_problem(text) is not None, text


@pytest.mark.parametrize("text", DENIALS)
def test_the_ordinary_denials_are_no_problem(text):
    assert why_not_a_problem(text) is not None


@given(st.lists(st.sampled_from(["嗯", "啊", "这个", "um", "uh", "well", "…", "。", "!", "?", "——", " ", "\t", "~", "*", "#"]), max_size=8), punct)
def test_punctuation_and_filler_alone_are_no_problem(parts, tail):
    text = "".join(parts) + tail
    assert why_not_a_problem(text) is not None, text


@pytest.mark.parametrize("text", ["同上", "见上", "待补充", "略", "xxx", "N/A", "tbd", "same as above", "1.", "（一）", "123", "！！！", "啊啊啊啊", ""])
def test_placeholders_are_no_problem(text):
    assert why_not_a_problem(text) in (NotAProblem.EMPTY, NotAProblem.PLACEHOLDER)


# --------------------------------------------------------------------------
# real problems pass, however they are punctuated
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", REAL_PROBLEMS)
def test_real_problems_are_problems(text):
    assert all(why_not_a_problem(text, a) is None for a in ACHIEVEMENTS)


@given(st.sampled_from(REAL_PROBLEMS), st.sampled_from(ACHIEVEMENTS), punct, punct, st.booleans())
def test_real_problems_pass_with_any_punctuation_and_case(text, achievements, before, after, upper):
    text = before + (text.upper() if upper else text) + after
    assert why_not_a_problem(text, achievements) is None, text


@given(st.sampled_from(REAL_PROBLEMS), st.sampled_from(DENIALS))
def test_a_denial_followed_by_a_real_problem_is_a_problem(text, denial):
    assert why_not_a_problem(f"{denial}，但{text}") is None


# --------------------------------------------------------------------------
# copies of the achievements
# --------------------------------------------------------------------------


@given(st.sampled_from(REAL_PROBLEMS), st.data())
def test_the_achievements_copied_as_the_problem_are_no_problem(text, data):
    achievements = text  # the reviewer pasted the same sentence twice
    noisy = data.draw(punct) + random_case(text, data.draw) + data.draw(punct)
    assert why_not_a_problem(noisy, achievements) is NotAProblem.REPEATS_ACHIEVEMENTS


@given(st.sampled_from(REAL_PROBLEMS), st.data())
def test_a_near_copy_of_the_achievements_is_no_problem(text, data):
    """One character changed in a sentence of at least ten letters stays above the threshold."""
    form = normalise(text)
    i = data.draw(st.integers(0, len(form) - 1))
    edited = form[:i] + ("某" if form[i] != "某" else "甲") + form[i + 1 :]
    assert is_copy(edited, form)
    assert why_not_a_problem(edited, text) is NotAProblem.REPEATS_ACHIEVEMENTS


def test_a_piece_of_the_achievements_is_no_problem():
    achievements = "组织学习32次，党员参学率95%，整改了台账记录不完整的问题"
    assert why_not_a_problem("台账记录不完整", achievements) is NotAProblem.REPEATS_ACHIEVEMENTS


def test_sharing_the_rubric_points_name_is_not_a_copy():
    """The demo writes both texts after the point's name (up to 16 characters)."""
    name = "推动中心工作、完成重点任务情况情况"
    assert why_not_a_problem(f"{name}方面制度执行不够经常, 台账记录不完整", f"{name}: 工作扎实, 有明显成效") is None
    assert SIMILARITY_THRESHOLD == pytest.approx(0.8)


@given(st.text(alphabet="制度执行台账记录不完整工作扎实有明显成效ab12", max_size=30), st.text(alphabet="制度执行台账记录不完整工作扎实有明显成效ab12", max_size=30))
def test_is_copy_decides_as_the_full_similarity_ratio_would(problem, achievements):
    """The quick ratios only skip the matching blocks; the verdict is the one
    the full ratio gives (a small alphabet makes near-threshold pairs common)."""
    from difflib import SequenceMatcher

    full = bool(problem) and bool(achievements) and (
        problem in achievements or SequenceMatcher(None, problem, achievements, autojunk=False).ratio() >= SIMILARITY_THRESHOLD)
    assert is_copy(problem, achievements) is full


# --------------------------------------------------------------------------
# the normal form
# --------------------------------------------------------------------------


@given(st.text(max_size=40), punct, punct)
def test_normalise_keeps_only_letters_and_digits_whatever_the_punctuation_around(text, before, after):
    form = normalise(text)
    assert all(ch.isalnum() for ch in form)
    assert normalise(f"{before} {text} {after}") == form


def test_normalise_folds_width_case_punctuation_and_filler():
    assert normalise("ＮＯ　Ｉｓｓｕｅｓ！！") == normalise("no issues") == "noissues"
    assert normalise("嗯，这个，没有问题呢。") == "没有问题"
    assert normalise("1. 学习记录不全") == "学习记录不全"


# --------------------------------------------------------------------------
# through the decider: the rejection names the rubric point
# --------------------------------------------------------------------------


def _review_step() -> ReviewRun:
    return drive_to(Step.REVIEW)


@pytest.mark.parametrize("text", ["未发现明显问题", "暂时没有发现什么突出问题", "基本无问题", "no significant issues found", "nothing major", "……", "嗯"])
def test_decide_refuses_a_hollow_problem_naming_the_point(text):
    run = _review_step()
    pts = run.spec.rubric_points
    with pytest.raises(CommandRejected) as info:
        decide(run.state, review_cmd(pts, problems={pts[0]: [CONCRETE_PROBLEM], pts[2]: [text]}), run.now)
    assert info.value.field == "points.2.problems.0"
    assert info.value.reason.startswith(f"{pts[2]}: ") and PRAISE_ONLY in info.value.reason


def test_decide_refuses_a_problem_that_repeats_the_points_achievements():
    run = _review_step()
    pts = run.spec.rubric_points
    cmd = review_cmd(pts)
    points = list(cmd.points)
    points[1] = c.PointAssessmentInput(code=pts[1], achievements="学习制度落实较好，集中学习记录齐全", problems=["学习制度落实较好，集中学习记录齐全。"], directions="继续保持")
    with pytest.raises(CommandRejected) as info:
        decide(run.state, cmd.model_copy(update={"points": points}), run.now)
    assert info.value.field == "points.1.problems.0" and "repeats the achievements" in info.value.reason and pts[1] in info.value.reason


def test_the_same_text_is_a_problem_under_another_point():
    """Only the same point's achievements count: another point may praise what this one faults."""
    run = _review_step()
    pts = run.spec.rubric_points
    cmd = review_cmd(pts, problems={pts[1]: [f"{pts[0]}: work done and results achieved, but records are missing"]})
    assert decide(run.state, cmd, run.now)


@pytest.mark.parametrize("blank", ["", "   ", "\t\n", "　"])
def test_a_whitespace_only_problem_gets_the_praise_only_message(blank):
    """Through the JSON boundary (as the CLI and the API send it), not pydantic's generic length error."""
    run = _review_step()
    pts = run.spec.rubric_points
    data = review_cmd(pts).model_dump(mode="json")
    data["points"][3]["problems"] = [blank]
    cmd = parse_command(data)  # the shape is fine: the rule is the domain's
    with pytest.raises(CommandRejected) as info:
        decide(run.state, cmd, run.now)
    assert info.value.field == "points.3.problems.0"
    assert PRAISE_ONLY in info.value.reason and pts[3] in info.value.reason
    assert "at least 1 character" not in info.value.reason


def test_the_demo_review_is_accepted():
    run = _review_step()
    evs = decide(run.state, demo.review(run.state.spec), run.now)
    assert evs[0].problems


def test_the_demo_review_runs_to_the_end():
    spec = make_spec()
    run = ReviewRun.begin(spec)
    for cmd in demo.on_time_commands(spec, date(2010, 12, 7)):
        run.advance(hours=1)
        run.do(cmd)
    assert run.state.step is Step.CLOSED


@pytest.mark.parametrize("short", ["差", "不好", "有欠", "bad"])
def test_too_short_is_still_no_problem(short):
    assert len(normalise(short)) < MIN_PROBLEM_CHARS
    assert why_not_a_problem(short) in (NotAProblem.TOO_SHORT, NotAProblem.PLACEHOLDER)


# --------------------------------------------------------------------------
# a step of zero or less is refused at start
# --------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["investigate", "solicit_opinions", "review", "notify", "rectify"])
@pytest.mark.parametrize("duration", [timedelta(0), timedelta(seconds=-1), timedelta(days=-3)])
def test_a_step_of_zero_or_less_is_refused_at_start_naming_the_field(step, duration):
    spec = make_spec(deadlines=StepDeadlines(**{step: duration}))
    with pytest.raises(CommandRejected) as info:
        start(spec, T0)
    assert info.value.field == f"deadlines.{step}"
    assert step in info.value.reason and "longer than zero" in info.value.reason


def test_a_negative_reminder_lead_is_refused_at_start():
    with pytest.raises(CommandRejected) as info:
        start(make_spec(deadlines=StepDeadlines(reminder_lead=timedelta(hours=-1))), T0)
    assert info.value.field == "deadlines.reminder_lead"


def test_the_shortest_positive_step_and_no_reminder_lead_start():
    spec = make_spec(deadlines=StepDeadlines(investigate=timedelta(seconds=1), reminder_lead=timedelta(0)))
    assert len(start(spec, T0)) == 2


def test_events_recorded_with_a_zero_step_still_load():
    """The check is at start, not in the model: a recorded spec of any value must fold."""
    assert StepDeadlines.model_validate({"review": 0}).review == timedelta(0)
