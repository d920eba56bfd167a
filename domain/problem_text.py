"""When a problem written in step 3 is no problem at all.

The spec (§9) wants real problems: 不能只写操行评语，说好话，说不痛不痒的话.
A reviewer who has nothing critical to say tends to write it anyway, in one of
three shapes, and each of them counts as *no problem*:

1. a **denial** in ordinary phrasing: 未发现明显问题, 暂时没有发现什么突出问题,
   基本无问题, 问题不明显, "no significant issues found", "nothing major",
   "none identified", "no problems at this time", or praise (良好, "all good");
2. a **repeat of the achievements** written for the same rubric point, or a
   near copy of them (:data:`SIMILARITY_THRESHOLD`, or the problem is a piece
   of the achievements text);
3. **nothing but punctuation and filler** (……, 嗯, "um", 同上, "n/a", "xxx").

The words are data (:data:`LEXICON`), so the office can add a phrasing
without touching the grammar; every rule reads text through the one normal
form :func:`normalise`. The grammar is deliberately anchored at both ends
(``fullmatch``): 未发现问题 is a denial, but 未及时发现问题隐患 (failing to spot
hazards in time) is a real problem, and so is 无明显成效 (no visible results).
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from enum import StrEnum

SIMILARITY_THRESHOLD = 0.8
"""A problem whose normal form matches the same point's achievements at least
this closely (``difflib.SequenceMatcher.ratio``: 2 x matched / total length)
is a copy of them. 0.8 lets a one- or two-character edit of a ten-character
sentence through as a copy, while two sentences that share only the rubric
point's name (often 16 characters) stay well below it."""

MIN_PROBLEM_CHARS = 4
"""Fewer letters than this (after :func:`normalise`) cannot name a problem,
its weak link and where it shows (差, 不好, "bad")."""

MAX_DENIAL_CHARS = 120
"""Denials are short; the grammar is only tried on normal forms up to this
length, which also bounds the regular expressions' work on long texts."""


# --------------------------------------------------------------------------
# the lexicon: data, extendable; each list is one slot of the grammar below
# --------------------------------------------------------------------------

LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        # who or where, hedges of time and degree: 目前, 基本, 经查, 该同志 …
        "lead": (
            "本人", "该同志", "该单位", "该党组织", "该支部", "该班子", "领导班子", "班子成员", "班子", "本单位", "我单位",
            "在此方面", "在这方面", "这方面", "此方面", "该方面", "本方面", "这一点", "此项", "本项", "该项", "这一项", "本条", "此条",
            "在这个方面", "在工作中", "工作中", "对此", "经查", "经调查", "经核查", "经检查", "经了解", "经审查", "经调研", "经走访", "经座谈", "经核实",
            "调查中", "检查中", "调研中", "点评中", "走访中", "座谈中", "调查期间", "检查期间", "本次调查", "本次检查",
            "目前", "暂时", "当前", "现阶段", "截至目前", "截止目前", "迄今", "至今", "到目前为止", "目前为止", "近期", "今年", "本年度",
            "基本上", "基本", "总体上", "总体来看", "总体", "总的来看", "总的来说", "整体上", "整体来看", "整体", "大体上", "大体",
            "一直", "始终", "均", "都", "也", "并", "尚", "还", "仍", "从来", "从", "本次", "此次", "本轮", "这次",
            "我们", "我", "大家", "群众", "党员", "同志们", "日常", "平时", "在", "其", "他", "她", "暂",
        ),
        # the negation itself
        "negation": (
            "并不存在", "不存在", "并没有", "都没有", "没有", "没", "暂无", "暂未", "尚无", "尚未", "并无", "并未", "从未", "从无",
            "未曾", "未见", "不见", "毫无", "绝无", "查无", "别无", "看不出", "找不到", "挑不出", "说不出", "谈不上", "无", "未",
        ),
        # what was (not) done: 发现, 存在, 查出 …
        "verb": (
            "发现", "查出", "查到", "查实", "检查出", "看到", "看出", "见到", "发生", "出现", "存在", "有", "反映", "反映出",
            "察觉", "暴露", "暴露出", "找到", "找出", "收到", "听到", "提出", "指出", "挑出",
        ),
        # qualifiers of degree or kind around the negation: 明显, 突出, 重大 … (an optional 的 follows each)
        "qualifier": (
            "明显", "突出", "重大", "严重", "较大", "很大", "太大", "多大", "大", "什么样", "什么", "啥", "任何", "显著", "特别",
            "实质性", "原则性", "根本性", "方向性", "其他", "其它", "别的", "值得一提", "需要指出", "需要整改", "应当整改", "须整改",
            "具体", "一般", "太多", "很多", "过多", "多少", "重要", "主要", "明确", "确切", "新",
        ),
        # the thing denied
        "noun": (
            "问题", "不足之处", "不足", "发现", "缺点", "缺陷", "短板", "差距", "毛病", "瑕疵", "错误", "失误", "过错", "过失", "隐患",
            "漏洞", "弱项", "薄弱环节", "异常", "违纪违规", "违规违纪", "违法违纪", "违纪", "违规", "违法", "情况", "现象",
            "批评意见", "意见", "投诉", "不良反映", "负面反映", "反映", "不良记录", "负面情况", "负面", "苗头", "倾向", "弊端",
            "疏漏", "纰漏", "不妥之处", "不当之处", "不妥", "不当", "偏差", "可挑剔", "可指摘", "需要改进的地方", "需改进之处", "改进之处",
        ),
        "join": ("以及", "或者", "和", "或", "与", "及", "等"),
        "tail": (
            "之处", "的地方", "地方", "情况", "现象", "方面", "等等", "等", "存在", "发生", "出现", "可言", "了", "的", "啊", "呢", "吧",
        ),
        # the same thing said the other way round: 问题不明显, 问题不大, 问题较少
        "after_noun": ("不大", "不多", "较少", "很少", "极少", "甚少", "没什么", "没啥"),
        "praise": (
            "很好", "较好", "良好", "优秀", "不错", "很不错", "挺好", "还好", "还行", "可以", "正常", "一切正常", "一切良好",
            "表现良好", "表现很好", "表现优秀", "表现突出", "完美", "满意", "无可挑剔", "无懈可击", "合格", "达标", "好",
        ),
        # placeholders: the whole text stands for "nothing written"
        "placeholder": (
            "同上", "略", "见上", "如上", "详见上文", "待补充", "待定", "待填写", "暂缺", "空", "未填", "不详", "不适用",
            "无可奉告", "无意见", "没意见", "无",
        ),
        # filler: a clause made only of these says nothing (这个, 就是, 然后 …)
        "filler": ("嗯", "嗯嗯", "啊", "呃", "额", "哦", "唉", "哎", "这个", "那个", "就是", "然后", "总之", "等等", "等"),
        # particles stripped from either end of a clause
        "particle": tuple("嗯啊呢吧哦呀嘛呃额唉哎啦咯哟"),
    },
    "en": {
        "lead": (
            "thereis", "thereare", "therewas", "therewere", "therehasbeen", "therehavebeen", "thereseemtobe", "thereseemstobe",
            "thereappeartobe", "thereappearstobe", "there", "we", "i", "they", "it", "thereviewers", "thereviewer", "theteam", "theunit",
            "themember", "thesubject", "theleader", "thebranch", "thecommittee", "thispoint", "thisarea", "thisunit", "thismember",
            "thisbranch", "overall", "generally", "basically", "essentially", "currently", "presently", "atpresent", "atthistime",
            "atthemoment", "sofar", "todate", "asyet", "fornow", "inthisarea", "onthispoint", "fortunately", "happily",
            "uponreview", "onreview", "afterreview", "afterinvestigation", "oninspection", "afterinspection", "afterchecking",
            "found", "find", "identified", "saw", "see", "observed", "noted", "detected", "have", "has", "had", "did", "do", "does",
            "could", "can", "would", "will", "was", "were", "is", "are", "seems", "seem", "appears", "appear", "tobe", "be",
            "well", "so", "just", "really", "actually", "honestly", "frankly", "truly",
        ),
        "negation": (
            "notany", "hardlyany", "nothing", "none", "not", "no", "nil", "zero", "never", "without", "didnt", "dont", "doesnt",
            "havent", "hasnt", "hadnt", "cant", "cannot", "couldnt", "wasnt", "werent", "isnt", "arent", "wont",
        ),
        "verb": (
            "find", "found", "see", "seen", "identify", "identified", "observe", "observed", "note", "noted", "detect", "detected",
            "discover", "discovered", "notice", "noticed", "spot", "spotted", "raise", "raised", "report", "reported", "have", "has",
            "exist", "exists", "existed", "is", "are", "was", "were", "comeup", "cameup",
        ),
        "qualifier": (
            "any", "significant", "major", "serious", "notable", "noteworthy", "obvious", "apparent", "evident", "real",
            "particular", "big", "large", "material", "substantial", "substantive", "glaring", "critical", "important", "specific",
            "further", "other", "remaining", "outstanding", "great", "grave", "severe", "visible", "remarkable", "clear", "known",
            "new", "more", "much", "special", "relevant", "such", "actual",
        ),
        "noun": (
            "issues", "issue", "problems", "problem", "concerns", "concern", "shortcomings", "shortcoming", "weaknesses", "weakness",
            "weakpoints", "deficiencies", "deficiency", "defects", "defect", "flaws", "flaw", "faults", "fault", "gaps", "gap",
            "errors", "error", "mistakes", "mistake", "irregularities", "irregularity", "findings", "finding", "risks", "risk",
            "violations", "violation", "lapses", "lapse", "failings", "failing", "anythingwrong", "anything", "something",
            "matters", "matter", "areasforimprovement", "areaforimprovement", "areasofconcern", "areaofconcern", "roomforimprovement",
            "complaints", "complaint",
        ),
        "join": ("and", "or", "nor"),
        "tail": (
            "wasfound", "werefound", "isfound", "arefound", "hasbeenfound", "havebeenfound", "beenfound",
            "found", "identified", "observed", "noted", "detected", "discovered", "noticed", "spotted", "seen", "reported", "raised",
            "recorded", "uncovered", "was", "were", "is", "are", "hasbeen", "havebeen", "been", "exist", "exists", "remain", "remains",
            "tospeakof", "tonote", "toreport", "tomention", "toflag", "ofnote", "worthmentioning", "worthnoting", "atthistime",
            "atthemoment", "atpresent", "fornow", "sofar", "todate", "asyet", "yet", "currently", "presently", "here", "inthisarea",
            "inthisrespect", "inthisregard", "onthispoint", "forthispoint", "whatsoever", "atall", "inparticular", "thatwefound",
            "duringthereview", "duringtheinvestigation", "duringtheinspection", "inthereview", "toimprove", "tobeimproved", "tofix",
            "tocorrect", "toaddress", "tobeaddressed", "ofconcern", "forconcern", "needingattention", "requiringattention", "wrong",
        ),
        "after_noun": ("none", "nil", "nothing", "notfound", "notidentified", "notapplicable"),
        "praise": (
            "good", "fine", "ok", "okay", "allgood", "allfine", "allok", "excellent", "great", "satisfactory", "perfect", "welldone",
            "verygood", "verywell", "everythingisfine", "everythingfine", "everythingok", "everythingisok", "everythingisgood",
            "looksgood", "looksfine", "nocomment", "nocomments", "noremarks",
        ),
        "placeholder": (
            "na", "nil", "null", "none", "tbd", "tba", "xxx", "xx", "x", "sameasabove", "seeabove", "asabove", "ditto",
            "notapplicable", "blank", "empty",
        ),
        "filler": ("um", "umm", "uh", "er", "erm", "hmm", "mm", "ah", "oh", "eh", "etc"),
        "particle": (),
    },
}


# --------------------------------------------------------------------------
# the one normal form
# --------------------------------------------------------------------------

_FILLER = frozenset(LEXICON["zh"]["filler"] + LEXICON["en"]["filler"])
_PARTICLES = "".join(LEXICON["zh"]["particle"])
_ENUMERATION = re.compile(r"^\W*(?:[(\[]?(?:\d{1,3}|[一二三四五六七八九十]{1,3}|[a-z])[)\]]|(?:\d{1,3}|[一二三四五六七八九十]{1,3})[、.:])\s*")


def normalise(text: str) -> str:
    """The form every rule compares: NFKC (full-width letters and punctuation
    become ASCII), casefolded, a leading enumeration (``1.``, ``(二)``) dropped,
    punctuation, symbols, stray combining marks and whitespace removed, and filler words and the
    particles at either end of a word group (嗯, 呢, "um") dropped. English
    words are joined without spaces, so "no  issues" and "no issues" are one
    form. The result holds only letters and digits."""
    s = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    s = _ENUMERATION.sub("", s)
    # punctuation, symbols, separators, controls split words; a combining mark
    # left alone by NFKC (a bare accent) is dropped
    spaced = "".join(" " if (cat := unicodedata.category(ch)[0]) in "PSZC" else "" if cat == "M" else ch for ch in s)
    kept = []
    for word in spaced.split():
        word = word.strip(_PARTICLES) if _PARTICLES else word
        if word and word not in _FILLER:
            kept.append(word)
    return "".join(kept)


# --------------------------------------------------------------------------
# the grammar, built from the lexicon
# --------------------------------------------------------------------------


def _segments(word: str, parts: frozenset[str]) -> bool:
    """``word`` can be written as two or more of ``parts``."""
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        ok[end] = any(ok[start] and word[start:end] in parts and (start, end) != (0, len(word)) for start in range(end))
    return ok[-1]


def _any(words) -> str:
    """An alternation of ``words``, for use under ``*``/``+``: a word that is a
    sequence of the others ("thereare" = "there" + "are") is left out, since
    the repetition matches it anyway, and two ways of cutting one text would
    make a failing match try both at every repeat (exponential backtracking).
    Longest first, so 不足之处 is tried before 不足."""
    unique = frozenset(words)
    kept = [w for w in unique if not _segments(w, unique - {w})]
    return "(?:" + "|".join(re.escape(w) for w in sorted(kept, key=len, reverse=True)) + ")"


def _denial_patterns(lex: dict[str, tuple[str, ...]], *, zh: bool) -> list[re.Pattern[str]]:
    lead, neg, verb, tail = _any(lex["lead"]), _any(lex["negation"]), _any(lex["verb"]), _any(lex["tail"])
    qual = f"(?:{_any(lex['qualifier'])}{'的?' if zh else ''})"
    nouns = f"{_any(lex['noun'])}(?:{_any(lex['join'])}?{_any(lex['noun'])})*"
    verb_or_qual = _any(lex["verb"] + lex["qualifier"]) + ("的?" if zh else "")
    forward = f"{lead}*{neg}(?:{verb_or_qual})*(?:{nouns})?{tail}*"
    if zh:
        # 问题不明显 / 存在问题暂无 / 不足之处暂未发现 / 问题不大
        backward = f"{lead}*(?:存在的?|发现的?|主要)?{nouns}{lead}*(?:{neg}{verb}*{qual}*|不{qual}|{_any(lex['after_noun'])}){tail}*"
    else:
        # "issues: none", "problems not found"
        backward = f"{lead}*{qual}*{nouns}{tail}*{_any(lex['after_noun'])}{tail}*"
    praise = f"{lead}*(?:各方面|方方面面|工作)?{lead}*{_any(lex['praise'])}+{tail}*" if zh else f"{lead}*{_any(lex['praise'])}+{tail}*"
    return [re.compile(forward), re.compile(backward), re.compile(praise)]


_DENIALS = [p for lang in ("zh", "en") for p in _denial_patterns(LEXICON[lang], zh=lang == "zh")]
# hedges, scope and filler alone, in either language or both ("well",
# "currently", 目前, 这个 um): nothing said
_HEDGES = re.compile(_any([w for lang in ("zh", "en") for slot in ("lead", "filler") for w in LEXICON[lang][slot]]) + "+")
_PLACEHOLDERS = frozenset(LEXICON["zh"]["placeholder"] + LEXICON["en"]["placeholder"])
_CLAUSE_BREAK = re.compile(r"[,.;:!?。、…\n\r]+")


class NotAProblem(StrEnum):
    """Why a problem text counts as no problem."""

    EMPTY = "it is empty or only punctuation and filler"
    PLACEHOLDER = "it is a placeholder, not a problem"
    DENIAL = "it says there is no problem, or only praises"
    TOO_SHORT = f"it is too short to name a problem (at least {MIN_PROBLEM_CHARS} letters)"
    REPEATS_ACHIEVEMENTS = "it repeats the achievements of the same point"


def _hollow(form: str) -> NotAProblem | None:
    """A normal form that says nothing: placeholder, filler, denial or praise."""
    if not form:
        return NotAProblem.EMPTY
    if form in _PLACEHOLDERS or len(set(form)) == 1 or not any(ch.isalpha() for ch in form):
        return NotAProblem.PLACEHOLDER
    if len(form) <= MAX_DENIAL_CHARS:
        if _HEDGES.fullmatch(form):
            return NotAProblem.EMPTY
        if any(p.fullmatch(form) for p in _DENIALS):
            return NotAProblem.DENIAL
    return None


def is_copy(problem_form: str, achievements_form: str) -> bool:
    """The problem repeats the achievements: equal, a piece of them, or at
    least :data:`SIMILARITY_THRESHOLD` alike."""
    if not problem_form or not achievements_form:
        return False
    if problem_form in achievements_form:
        return True
    # the two quick ratios are upper bounds of ratio(): most pairs are told
    # apart by them without the matching blocks, which cost the most of a
    # review's own rules in the worker (the validator and the handler decide)
    m = SequenceMatcher(None, problem_form, achievements_form, autojunk=False)
    return m.real_quick_ratio() >= SIMILARITY_THRESHOLD and m.quick_ratio() >= SIMILARITY_THRESHOLD and m.ratio() >= SIMILARITY_THRESHOLD


def why_not_a_problem(text: str, achievements: str = "") -> NotAProblem | None:
    """None when ``text`` names a problem; otherwise why it counts as none.
    A text of several clauses counts as none only when every clause is hollow
    (一切正常，未发现问题); one real clause makes it a problem."""
    form = normalise(text)
    hollow = _hollow(form)
    if hollow is not None:
        return hollow
    clauses = [f for f in (normalise(part) for part in _CLAUSE_BREAK.split(unicodedata.normalize("NFKC", text))) if f]
    verdicts = [_hollow(f) for f in clauses]
    if len(clauses) > 1 and all(verdicts):
        return NotAProblem.DENIAL if NotAProblem.DENIAL in verdicts else NotAProblem.PLACEHOLDER
    if len(form) < MIN_PROBLEM_CHARS:
        return NotAProblem.TOO_SHORT
    if is_copy(form, normalise(achievements)):
        return NotAProblem.REPEATS_ACHIEVEMENTS
    return None
