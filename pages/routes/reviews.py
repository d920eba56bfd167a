"""One page per review, with the forms of its current step for the principal's
roles on it. Every form is a plain POST that sends one command through the
application layer and redirects back (post/redirect/get); a rejected command
shows the form again with the error beside the field it names. htmx adds the
live check of the review form (``/review/check``), which asks the same rules
without recording anything."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
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
SUPERVISOR_KINDS = ("reassign_reviewer", "add_co_reviewer", "extend_deadline", "cancel_review")


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


async def _send(request: Request, ctx, who, review_id: str, kind: str, fields: dict[str, Any], *, reason: str | None = None,
                to_form: Any = None, form: dict[str, str] | None = None, anchor: str = "") -> Response:
    """Send one command; on success back to the page, on a rejection the page
    again with the error beside its field (``to_form`` maps the command's
    field path to the form's field name)."""
    try:
        await send_command(ctx, who, SendCommandInput(review_id=review_id, kind=kind, reason=reason, fields=fields))
    except AppError as err:
        if err.status in (401, 404) or (err.status == 403 and err.field != "actor_id"):
            return error_page(request, err)
        errors = {to_form(err.field) if to_form else (err.field or "form"): text_of(err)}
        if err.field == "measures":
            errors["_measures_raw"] = err.message
        return await review_page(request, ctx, who, review_id, errors=errors, form=form, active=kind, status_code=err.status)
    return see_other(f"/reviews/{quote(review_id)}{anchor}", "sent")


def _fields_in(form, prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in form.items() if k.startswith(prefix) and isinstance(v, str)}


# ---- step 1: findings ----------------------------------------------------


@router.post("/reviews/{review_id}/findings")
async def record_findings(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    shown = form_dict(form)
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
    except AppError as err:
        return error_page(request, err)
    findings: list[dict[str, Any]] = []
    sent_codes: list[str] = []
    for code in view.spec.rubric_points:
        summary = (form.get(f"f.{code}.summary") or "").strip()
        reference = (form.get(f"f.{code}.reference") or "").strip()
        kind = form.get(f"f.{code}.evidence_kind") or "documents"
        upload = form.get(f"f.{code}.file")
        has_file = isinstance(upload, UploadFile) and bool(upload.filename)
        if not (summary or reference or has_file):
            continue
        evidence = []
        if reference:
            evidence.append({"kind": kind, "reference": reference})
        if has_file:
            data = await upload.read(MAX_BYTES + 1)
            try:
                stored = await store_evidence(ctx, who, StoreEvidenceInput(review_id=review_id, filename=upload.filename or "", data=data))
            except AppError as err:
                return await review_page(request, ctx, who, review_id, errors={f"f.{code}.file": text_of(err)}, form=shown, active="record_findings", status_code=err.status)
            evidence.append({"kind": kind, "reference": stored.reference})
        findings.append({"point_code": code, "summary": summary, "evidence": evidence})
        sent_codes.append(code)
    if not findings:
        return await review_page(request, ctx, who, review_id, errors={"findings": _("Fill in the finding of at least one point.")}, form=shown,
                                 active="record_findings", status_code=422)

    def to_form(field: str | None) -> str:
        hit = split_index(field)
        if hit and hit[0] == "findings" and hit[1] < len(sent_codes):
            code, rest = sent_codes[hit[1]], hit[2]
            if rest.startswith("evidence"):
                return f"f.{code}.reference"
            return f"f.{code}.summary"
        return field or "findings"

    return await _send(request, ctx, who, review_id, "record_findings", {"findings": findings}, to_form=to_form, form=shown, anchor="#investigate")


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
    return await _send(request, ctx, who, review_id, kind, {}, to_form=lambda f: kind if f in (None, "kind", "actor_id") else f if f != "findings" else kind,
                       anchor=PLAIN_KINDS[kind])


# ---- step 2: opinions ----------------------------------------------------


@router.post("/reviews/{review_id}/opinions")
async def record_opinions(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    shown = form_dict(form)
    try:
        respondents = int((form.get("respondents") or "1").strip())
    except ValueError:
        return await review_page(request, ctx, who, review_id, errors={"respondents": _("Give a whole number.")}, form=shown, status_code=422)
    opinion = {"channel": form.get("channel"), "respondent_group": form.get("respondent_group"), "summary": (form.get("summary") or "").strip(), "respondents": respondents}

    def to_form(field: str | None) -> str:
        hit = split_index(field)
        return hit[2] if hit and hit[0] == "opinions" and hit[2] else (field or "opinions")

    return await _send(request, ctx, who, review_id, "record_opinions", {"opinions": [opinion]}, to_form=to_form, form=shown, anchor="#opinions")


# ---- step 3: the review --------------------------------------------------


def _review_fields(form, codes) -> tuple[dict[str, Any], list[str]]:
    points: list[dict[str, Any]] = []
    sent: list[str] = []
    for code in codes:
        ach = (form.get(f"p.{code}.achievements") or "").strip()
        probs = [line.strip() for line in (form.get(f"p.{code}.problems") or "").splitlines() if line.strip()]
        dirs = (form.get(f"p.{code}.directions") or "").strip()
        if not (ach or probs or dirs):
            continue
        points.append({"code": code, "achievements": ach, "problems": probs, "directions": dirs})
        sent.append(code)
    fields: dict[str, Any] = {"points": points, "summary": (form.get("summary") or "").strip()}
    if form.get("method"):
        fields["method"] = form.get("method")
    return fields, sent


def _review_to_form(sent: list[str]):
    def to_form(field: str | None) -> str:
        hit = split_index(field)
        if hit and hit[0] == "points" and hit[1] < len(sent):
            code, rest = sent[hit[1]], hit[2]
            part = rest.split(".", 1)[0] if rest else "achievements"
            if part not in ("achievements", "problems", "directions"):
                part = "achievements"
            return f"p.{code}.{part}"
        return field or "points"

    return to_form


@router.post("/reviews/{review_id}/review")
async def submit_review(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
    except AppError as err:
        return error_page(request, err)
    fields, sent = _review_fields(form, view.spec.rubric_points)
    if not fields.get("points"):
        return await review_page(request, ctx, who, review_id, errors={"points": _("Fill in the review of every point.")}, form=form_dict(form), status_code=422)
    return await _send(request, ctx, who, review_id, "submit_review", fields, to_form=_review_to_form(sent), form=form_dict(form), anchor="#review")


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
    form = await request.form()
    fields = {"scope": (form.get("scope") or "").strip(), "means": (form.get("means") or "").strip()}
    return await _send(request, ctx, who, review_id, "confirm_circulation", fields, form=form_dict(form), anchor="#notify")


# ---- step 5: plan, decision, progress, report-back, evaluation -----------


@router.post("/reviews/{review_id}/plan")
async def submit_plan(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    shown = form_dict(form)
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
    except AppError as err:
        return error_page(request, err)
    measures: list[dict[str, Any]] = []
    sent: list[str] = []
    for prob in view.problems:
        key = f"m.{prob.problem_id}"
        action = (form.get(f"{key}.action") or "").strip()
        owner = (form.get(f"{key}.owner_id") or "").strip()
        due = (form.get(f"{key}.due_date") or "").strip()
        evidence = (form.get(f"{key}.evidence") or "").strip()
        if not (action or due or evidence):
            continue
        if evidence:
            action = f"{action}\n{_('Expected evidence')}: {evidence}" if action else ""
        measures.append({"problem_ids": [prob.problem_id], "action": action, "owner_id": owner, "due_date": due or None})
        sent.append(prob.problem_id)
    if not measures:
        errors = {"measures": _("Every problem needs a rectification measure; none yet for %(ids)s", ids=", ".join(p.problem_id for p in view.problems)),
                  "_measures_raw": " ".join(p.problem_id for p in view.problems)}
        return await review_page(request, ctx, who, review_id, errors=errors, form=shown, status_code=422)

    def to_form(field: str | None) -> str:
        hit = split_index(field)
        if hit and hit[0] == "measures" and hit[1] < len(sent):
            part = hit[2].split(".", 1)[0] or "action"
            return f"m.{sent[hit[1]]}.{part if part in ('action', 'owner_id', 'due_date') else 'action'}"
        return field or "measures"

    return await _send(request, ctx, who, review_id, "submit_rectification_plan", {"measures": measures}, to_form=to_form, form=shown, anchor="#rectify")


@router.post("/reviews/{review_id}/plan-decision")
async def decide_plan(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip() or None
    kind = "accept_rectification_plan" if decision == "accept" else "return_rectification_plan"
    return await _send(request, ctx, who, review_id, kind, {}, reason=reason, to_form=lambda f: "reason" if f == "reason" else (f or "form"), form=form_dict(form), anchor="#rectify")


@router.post("/reviews/{review_id}/progress")
async def report_progress(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    try:
        view = await show_review(ctx, who, ShowReviewInput(review_id=review_id))
    except AppError as err:
        return error_page(request, err)
    items = []
    for ms in view.measures:
        key = f"r.{ms.measure_id}"
        items.append({"measure_id": ms.measure_id, "status": form.get(f"{key}.status") or "not_started", "note": (form.get(f"{key}.note") or "").strip()})
    ids = [ms.measure_id for ms in view.measures]

    def to_form(field: str | None) -> str:
        hit = split_index(field)
        if hit and hit[0] in ("progress", "results") and hit[1] < len(ids):
            return f"r.{ids[hit[1]]}.{'note' if hit[2].startswith('note') else 'status'}"
        return field or "form"

    if form.get("action") == "report_back":
        fields = {"summary": (form.get("summary") or "").strip(), "results": items}
        return await _send(request, ctx, who, review_id, "report_back", fields, to_form=to_form, form=form_dict(form), anchor="#rectify")
    return await _send(request, ctx, who, review_id, "report_progress", {"progress": items}, to_form=to_form, form=form_dict(form), anchor="#rectify")


@router.post("/reviews/{review_id}/evaluation")
async def evaluate(request: Request, review_id: str, ctx: Ctx, who: Who) -> Response:
    form = await request.form()
    fields = {"outcome": form.get("outcome") or "", "comments": (form.get("comments") or "").strip()}
    return await _send(request, ctx, who, review_id, "evaluate_report_back", fields, form=form_dict(form), anchor="#rectify")


# ---- supervisor actions --------------------------------------------------


@router.post("/reviews/{review_id}/supervise/{kind}")
async def supervise(request: Request, review_id: str, kind: str, ctx: Ctx, who: Who) -> Response:
    if kind not in SUPERVISOR_KINDS:
        return error_page(request, BadInput(f"{kind!r} is not a supervisor action", field="kind"))
    form = await request.form()
    reason = (form.get("reason") or "").strip() or None
    wanted = {"reassign_reviewer": ["reviewer_id"], "add_co_reviewer": ["co_reviewer_id"], "extend_deadline": ["step", "due_at"], "cancel_review": []}[kind]
    fields = {k: (form.get(k) or "").strip() for k in wanted}
    back = safe_back(form.get("back") if isinstance(form.get("back"), str) else None)
    resp = await _send(request, ctx, who, review_id, kind, fields, reason=reason,
                       to_form=lambda f: f if f in ("reason", *wanted) else kind, form=form_dict(form), anchor="#supervise")
    if back and resp.status_code == 303:
        return see_other(back, "sent")
    return resp

