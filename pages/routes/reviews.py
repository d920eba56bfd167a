"""One page per review, with the forms of its current step for the principal's
roles on it. Every form is a plain POST that sends one command through the
application layer and redirects back (post/redirect/get); a rejected command
shows the form again with the error beside the field it names. htmx adds the
live check of the review form (``/review/check``), which asks the same rules
without recording anything."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from app.errors import AppError, BadInput
from app.evidence import ACCEPTED, MAX_BYTES, ReadEvidenceInput, StoreEvidenceInput, read_evidence, store_evidence
from app.reviews import SendCommandInput, ShowReviewInput, command_kinds, send_command, show_review
from app.drafts import check_command
from domain.procedure import FIVE_STEPS
from domain.rubric import rubric
from pages.error_text import text_of
from pages.i18n import gettext as _
from pages.i18n import pick
from pages.rendering import render
from pages.web import Ctx, Who, error_page, form_dict, notice_of, see_other, split_index, temporal_ui_url

router = APIRouter()


def safe_back(target: str | None) -> str | None:
    """A page of ours to return to after a supervisor action (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None

EVIDENCE_KINDS = ["documents", "site_visit", "subject_report"]
CHANNELS = ["symposium", "opinion_form", "opinion_letter", "interview"]
GROUPS = ["members", "public", "service_recipients", "supervising_department", "related_units"]
METHODS = ["individual", "concentrated", "on_site", "random", "thematic"]
OUTCOMES = ["satisfactory", "needs_more_work"]
MEASURE_STATUSES = ["not_started", "in_progress", "done"]


# --------------------------------------------------------------------------
# showing the page
# --------------------------------------------------------------------------


async def _acts(ctx, who, view) -> set[str]:
    """The command kinds the principal may send at the review's step."""
    if view.finished:
        return set()
    roles = set(view.your_roles)
    kinds = (await command_kinds(ctx, who)).kinds
    return {k.kind for k in kinds if roles & set(k.roles) and (k.steps is None or view.step in k.steps)}


def _points(view) -> list:
    rb = rubric(view.spec.rubric_version)
    return [p for p in (rb.point(code) for code in view.spec.rubric_points) if p is not None]


async def review_page(request: Request, ctx, who, review_id: str, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
                      active: str | None = None, status_code: int = 200, check=None) -> Response:
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
        acts = await _acts(ctx, who, view)
    except AppError as err:
        return error_page(request, err)
    points = _points(view)
    rb = rubric(view.spec.rubric_version)
    step_index = FIVE_STEPS.index(view.step) if view.step in FIVE_STEPS else len(FIVE_STEPS)
    done = [s.value for s in FIVE_STEPS[:step_index]] if view.step != "cancelled" else [s for s in view.step_started_at if s != view.step]
    uncovered: list[str] = []
    if errors and errors.get("measures"):
        raw = errors.get("_measures_raw", "")
        uncovered = re.findall(r"\bP[0-9]+\b", raw)
    supervises = "supervisor" in view.your_roles
    ctx_vars: dict[str, Any] = {
        "view": view,
        "points": points,
        "point_text": lambda code: pick(rb.point(code).text_en, rb.point(code).text_zh) if rb.point(code) else code,
        "covered": sorted({f.point_code for f in view.findings}),
        "acts": acts,
        "errors": {k: v for k, v in (errors or {}).items() if not k.startswith("_")},
        "form": form or {},
        "active": active,
        "check": check,
        "now": datetime.now(timezone.utc),
        "five_steps": [s.value for s in FIVE_STEPS],
        "done_steps": done,
        "subject_name": view.spec.subject.display_name or view.spec.subject.subject_id,
        "people": {},
        "links": [],
        "evidence_kinds": EVIDENCE_KINDS,
        "channels": CHANNELS,
        "groups": GROUPS,
        "methods": METHODS,
        "outcomes": OUTCOMES,
        "measure_statuses": MEASURE_STATUSES,
        "uncovered": uncovered,
        "default_owner": who.person_id or "",
        "max_upload_mb": MAX_BYTES // (1024 * 1024),
        "upload_accept": ACCEPTED,
        "supervises": supervises,
        "open_steps": [s.value for s in FIVE_STEPS[step_index:]] if step_index < len(FIVE_STEPS) else [],
        "temporal_url": temporal_ui_url(ctx, review_id) if supervises or who.auditor else None,
        "notice": notice_of(request),
        "back": safe_back(request.query_params.get("back") or (form or {}).get("back")),
    }
    if who.auditor:
        ctx_vars["links"].append({"href": f"/audit/reviews/{quote(review_id)}", "label": _("Timeline and audit")})
    return render(request, "review.html", ctx_vars, status_code=status_code)


@router.get("/reviews/{review_id}")
async def show(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    return await review_page(request, ctx, who, review_id)


# --------------------------------------------------------------------------
# sending a command from a form
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """The one command a form sends, and where a rejection naming one of the
    command's fields is shown on the form (``to_form``: the command's field
    path to the form's field name)."""

    kind: str
    fields: dict[str, Any]
    reason: str | None = None
    to_form: Callable[[str | None], str] | None = None
    back: str | None = None  # a page of ours to return to instead of the review


class Refused(Exception):
    """The form cannot become a command (nothing filled in, not a number, an
    upload refused): shown beside ``field``, nothing sent."""

    def __init__(self, field: str, message: str, *, status: int = 422, raw: str | None = None) -> None:
        super().__init__(message)
        self.field, self.message, self.status, self.raw = field, message, status, raw


Build = Callable[[Any, Any], Awaitable[Outgoing]]


async def _submit(request: Request, ctx, who, review_id: str, build: Build, *, anchor: str, needs_view: bool = False) -> Response:
    """What every form of the page does: read the form, let ``build`` turn it
    (and, with ``needs_view``, the review as the principal sees it) into one
    command, send it through the application layer; on success back to the
    page (post/redirect/get), on a refusal or a rejection the page again with
    the error beside its field, for an unknown review or a principal without
    access the error page."""
    form = await request.form()
    shown = form_dict(form)
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id)) if needs_view else None
    except AppError as err:
        return error_page(request, err)
    try:
        out = await build(form, view)
    except Refused as no:
        errors = {no.field: no.message, **({"_measures_raw": no.raw} if no.raw else {})}
        return await review_page(request, ctx, who, review_id, errors=errors, form=shown, status_code=no.status)
    try:
        await send_command(ctx, who, SendCommandInput(review_id=review_id, kind=out.kind, reason=out.reason, fields=out.fields))
    except AppError as err:
        if err.status in (401, 404) or (err.status == 403 and err.field != "actor_id"):
            return error_page(request, err)
        errors = {out.to_form(err.field) if out.to_form else (err.field or "form"): text_of(err)}
        if err.field == "measures":
            errors["_measures_raw"] = err.message
        return await review_page(request, ctx, who, review_id, errors=errors, form=shown, active=out.kind, status_code=err.status)
    return see_other(out.back or f"/reviews/{quote(review_id)}{anchor}", "sent")


def _text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _indexed(list_name: str, names: list[str], part_of: Callable[[str], str], fallback: str):
    """``to_form`` for a list the form shows one fieldset per item of:
    ``<list_name>.<i>.<rest>`` -> the form's ``part_of(rest)`` of item
    ``names[i]``; any other field -> itself (or ``fallback``)."""

    def to_form(field: str | None) -> str:
        hit = split_index(field)
        if hit and hit[0] == list_name and hit[1] < len(names):
            return part_of(names[hit[1]], hit[2])
        return field or fallback

    return to_form


# ---- step 1: findings ----------------------------------------------------


@router.post("/reviews/{review_id}/findings")
async def record_findings(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        findings: list[dict[str, Any]] = []
        sent: list[str] = []
        for code in view.spec.rubric_points:
            summary, reference = _text(form, f"f.{code}.summary"), _text(form, f"f.{code}.reference")
            kind = _text(form, f"f.{code}.evidence_kind") or "documents"
            upload = form.get(f"f.{code}.file")
            has_file = isinstance(upload, UploadFile) and bool(upload.filename)
            if not (summary or reference or has_file):
                continue
            evidence = [{"kind": kind, "reference": reference}] if reference else []
            if has_file:
                data = await upload.read(MAX_BYTES + 1)
                try:
                    stored = await store_evidence(ctx, who, StoreEvidenceInput(review_id=review_id, filename=upload.filename or "", data=data))
                except AppError as err:
                    raise Refused(f"f.{code}.file", text_of(err), status=err.status) from None
                evidence.append({"kind": kind, "reference": stored.reference})
            findings.append({"point_code": code, "summary": summary, "evidence": evidence})
            sent.append(code)
        if not findings:
            raise Refused("findings", _("Fill in the finding of at least one point."))
        part = lambda code, rest: f"f.{code}.reference" if rest.startswith("evidence") else f"f.{code}.summary"  # noqa: E731
        return Outgoing("record_findings", {"findings": findings}, to_form=_indexed("findings", sent, part, "findings"))

    return await _submit(request, ctx, who, review_id, build, anchor="#investigate", needs_view=True)


@router.get("/reviews/{review_id}/evidence/{sha256}")
async def evidence_file(request: Request, review_id: str, sha256: str, ctx: Ctx, who: Who) -> Response:
    try:
        got = await read_evidence(ctx, who, ReadEvidenceInput(review_id=review_id, sha256=sha256))
    except AppError as err:
        return error_page(request, err)
    except ValueError:
        return error_page(request, BadInput("not a SHA-256 digest", field="sha256"))
    name = got.file.filename or sha256[:12]
    return Response(got.data, media_type=got.file.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    })


# ---- commands without fields ---------------------------------------------

PLAIN_KINDS = {"close_investigation": "#investigate", "close_opinion_solicitation": "#opinions"}


@router.post("/reviews/{review_id}/do/{kind}")
async def plain_command(request: Request, review_id: str, kind: str, ctx: Ctx, who: Who) -> Response:
    if kind not in PLAIN_KINDS:
        return error_page(request, BadInput(f"{kind!r} is not sent from this form", field="kind"))

    async def build(form, view) -> Outgoing:  # the error goes beside the button, whatever field it names
        return Outgoing(kind, {}, to_form=lambda f: kind if f in (None, "kind", "actor_id", "findings") else f)

    return await _submit(request, ctx, who, review_id, build, anchor=PLAIN_KINDS[kind])


# ---- step 2: opinions ----------------------------------------------------


@router.post("/reviews/{review_id}/opinions")
async def record_opinions(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        try:
            respondents = int(_text(form, "respondents") or "1")
        except ValueError:
            raise Refused("respondents", _("Give a whole number.")) from None
        opinion = {"channel": form.get("channel"), "respondent_group": form.get("respondent_group"), "summary": _text(form, "summary"), "respondents": respondents}
        return Outgoing("record_opinions", {"opinions": [opinion]}, to_form=_indexed("opinions", ["0"], lambda _i, rest: rest or "opinions", "opinions"))

    return await _submit(request, ctx, who, review_id, build, anchor="#opinions")


# ---- step 3: the review --------------------------------------------------


def _review_fields(form, codes) -> tuple[dict[str, Any], list[str]]:
    points: list[dict[str, Any]] = []
    sent: list[str] = []
    for code in codes:
        ach = _text(form, f"p.{code}.achievements")
        probs = [line.strip() for line in (form.get(f"p.{code}.problems") or "").splitlines() if line.strip()]
        dirs = _text(form, f"p.{code}.directions")
        if not (ach or probs or dirs):
            continue
        points.append({"code": code, "achievements": ach, "problems": probs, "directions": dirs})
        sent.append(code)
    fields: dict[str, Any] = {"points": points, "summary": _text(form, "summary")}
    if form.get("method"):
        fields["method"] = form.get("method")
    return fields, sent


def _review_part(code: str, rest: str) -> str:
    part = rest.split(".", 1)[0] if rest else "achievements"
    return f"p.{code}.{part if part in ('achievements', 'problems', 'directions') else 'achievements'}"


def _review_to_form(sent: list[str]):
    return _indexed("points", sent, _review_part, "points")


@router.post("/reviews/{review_id}/review")
async def submit_review(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        fields, sent = _review_fields(form, view.spec.rubric_points)
        if not fields.get("points"):
            raise Refused("points", _("Fill in the review of every point."))
        return Outgoing("submit_review", fields, to_form=_review_to_form(sent))

    return await _submit(request, ctx, who, review_id, build, anchor="#review", needs_view=True)


@router.post("/reviews/{review_id}/review/check")
async def check_review(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    """The live check (htmx): the same rules as submitting, nothing recorded.
    Answers the fragment that replaces the form's check box."""
    form = await request.form()
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
        fields, sent = _review_fields(form, view.spec.rubric_points)
        result = await check_command(ctx, who, SendCommandInput(review_id=review_id, kind="submit_review", fields=fields))
    except AppError as err:
        return render(request, "review_check.html", {"check": {"ok": False, "message": text_of(err)}, "errors": {}})
    if result.ok:
        return render(request, "review_check.html", {"check": {"ok": True, "message": ""}, "errors": {}})
    err = BadInput(result.message, field=result.field, message_zh=result.message_zh)
    where = _review_to_form(sent)(result.field)
    label = _where_label(where, view)
    text = text_of(err)
    return render(request, "review_check.html", {"check": {"ok": False, "message": f"{label}: {text}" if label else text}, "errors": {}})


def _where_label(form_field: str, view) -> str:
    parts = form_field.split(".")
    if len(parts) == 3 and parts[0] == "p":
        names = {"achievements": _("Achievements"), "problems": _("Problems"), "directions": _("Direction of effort")}
        return f"{parts[1]} · {names.get(parts[2], '')}"
    if form_field == "method":
        return _("Method of the review")
    return ""


# ---- step 4: circulation -------------------------------------------------


@router.post("/reviews/{review_id}/circulation")
async def confirm_circulation(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        return Outgoing("confirm_circulation", {"scope": _text(form, "scope"), "means": _text(form, "means")})

    return await _submit(request, ctx, who, review_id, build, anchor="#notify")


# ---- step 5: plan, decision, progress, report-back, evaluation -----------

MEASURE_PARTS = {"action": "action", "owner_id": "owner_id", "due_date": "due_date", "expected_evidence": "evidence"}  # command field -> form field


def _measure_part(problem_id: str, rest: str) -> str:
    return f"m.{problem_id}.{MEASURE_PARTS.get(rest.split('.', 1)[0], 'action')}"


@router.post("/reviews/{review_id}/plan")
async def submit_plan(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        measures: list[dict[str, Any]] = []
        sent: list[str] = []
        for prob in view.problems:
            key = f"m.{prob.problem_id}"
            action, due, evidence = _text(form, f"{key}.action"), _text(form, f"{key}.due_date"), _text(form, f"{key}.evidence")
            if not (action or due or evidence):
                continue
            measures.append({"problem_ids": [prob.problem_id], "action": action, "owner_id": _text(form, f"{key}.owner_id"), "due_date": due or None,
                             "expected_evidence": evidence})
            sent.append(prob.problem_id)
        if not measures:
            ids = [p.problem_id for p in view.problems]
            raise Refused("measures", _("Every problem needs a rectification measure; none yet for %(ids)s", ids=", ".join(ids)), raw=" ".join(ids))
        return Outgoing("submit_rectification_plan", {"measures": measures}, to_form=_indexed("measures", sent, _measure_part, "measures"))

    return await _submit(request, ctx, who, review_id, build, anchor="#rectify", needs_view=True)


@router.post("/reviews/{review_id}/plan-decision")
async def decide_plan(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        kind = "accept_rectification_plan" if form.get("decision") == "accept" else "return_rectification_plan"
        return Outgoing(kind, {}, reason=_text(form, "reason") or None, to_form=lambda f: "reason" if f == "reason" else (f or "form"))

    return await _submit(request, ctx, who, review_id, build, anchor="#rectify")


@router.post("/reviews/{review_id}/progress")
async def report_progress(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        ids = [ms.measure_id for ms in view.measures]
        items = [{"measure_id": mid, "status": form.get(f"r.{mid}.status") or "not_started", "note": _text(form, f"r.{mid}.note")} for mid in ids]
        part = lambda mid, rest: f"r.{mid}.{'note' if rest.startswith('note') else 'status'}"  # noqa: E731
        if form.get("action") == "report_back":
            return Outgoing("report_back", {"summary": _text(form, "summary"), "results": items}, to_form=_indexed("results", ids, part, "form"))
        return Outgoing("report_progress", {"progress": items}, to_form=_indexed("progress", ids, part, "form"))

    return await _submit(request, ctx, who, review_id, build, anchor="#rectify", needs_view=True)


@router.post("/reviews/{review_id}/evaluation")
async def evaluate(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    async def build(form, view) -> Outgoing:
        return Outgoing("evaluate_report_back", {"outcome": form.get("outcome") or "", "comments": _text(form, "comments")})

    return await _submit(request, ctx, who, review_id, build, anchor="#rectify")


# ---- supervisor actions --------------------------------------------------

SUPERVISOR_FIELDS: dict[str, tuple[str, ...]] = {"reassign_reviewer": ("reviewer_id",), "add_co_reviewer": ("co_reviewer_id",), "extend_deadline": ("step", "due_at"), "cancel_review": ()}


@router.post("/reviews/{review_id}/supervise/{kind}")
async def supervise(request: Request, review_id: str, kind: str, ctx: Ctx, who: Who) -> Response:
    if kind not in SUPERVISOR_FIELDS:
        return error_page(request, BadInput(f"{kind!r} is not a supervisor action", field="kind"))
    wanted = SUPERVISOR_FIELDS[kind]

    async def build(form, view) -> Outgoing:  # after the action, back to the page it came from (the dashboard)
        back = form.get("back")
        return Outgoing(kind, {k: _text(form, k) for k in wanted}, reason=_text(form, "reason") or None,
                        to_form=lambda f: f if f in ("reason", *wanted) else kind, back=safe_back(back if isinstance(back, str) else None))

    return await _submit(request, ctx, who, review_id, build, anchor="#supervise")
