"""The supervisor's dashboard: reviews of their scope by step and tier (an
ECharts chart over the same numbers as the table, which is the page without
JavaScript), filters, overdue and due-this-week lists, the drill-down from
the organization to a unit to a review, and coverage per unit."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from app.errors import AppError
from app.overview import ALL_STEPS, TIERS, OverviewInput, overview
from pages.i18n import gettext as _
from pages.rendering import render
from pages.web import Ctx, Who, error_page, temporal_ui_url
from pages.words import word

router = APIRouter()

ROWS_SHOWN = 50
COVERAGE_SHOWN = 30


def _json_for_script(data) -> Markup:
    """JSON safe inside a <script> element (no ``</script>`` can end it early)."""
    return Markup(json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


@router.get("/dashboard")
async def dashboard(request: Request, ctx: Ctx, who: Who, unit: str | None = None, tier: str | None = None, step: str | None = None,
                    overdue: str | None = None, campaign: str | None = None) -> Response:
    tier_value = int(tier) if tier and tier.isdigit() and int(tier) in TIERS else None
    step_value = step if step in ALL_STEPS else None
    overdue_value = {"yes": True, "no": False}.get(overdue or "")
    try:
        ov = await overview(ctx, who, OverviewInput(campaign_id=campaign or None, unit_id=unit or None, tier=tier_value, step=step_value, overdue=overdue_value,
                                           limit=ROWS_SHOWN + 1))  # one more than shown: the page says when there are more
    except AppError as err:
        return error_page(request, err)
    steps = [s for s in ALL_STEPS]
    chart = {
        "steps": [word(s, "step") for s in steps],
        "series": [{"name": _("Tier %(n)s", n=t), "data": [ov.counts.get(s, {}).get(t, 0) for s in steps]} for t in TIERS],
    }
    kept = {k: v for k, v in (("unit", unit), ("campaign", campaign)) if v}
    ui = temporal_ui_url(ctx, "")
    return render(request, "dashboard.html", {
        "ov": ov, "steps": steps, "tiers": TIERS, "tier_options": [str(t) for t in TIERS], "chart_json": _json_for_script(chart),
        "filters": {"tier": str(tier_value) if tier_value else None, "step": step_value, "overdue": overdue if overdue in ("yes", "no") else None},
        "base_query": urlencode(kept) + "&" if kept else "", "now": datetime.now(timezone.utc),
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "ui_base": ui.rstrip("/") if ui else None, "rows_shown": ROWS_SHOWN, "coverage_shown": COVERAGE_SHOWN,
    })



