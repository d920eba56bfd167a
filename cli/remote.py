"""Remote mode: ``reviewctl --api URL --token TOKEN …`` (or ``PINGYI_API_URL`` /
``PINGYI_API_TOKEN``). A command that acts as a person sends its use case's
typed input to the HTTP API with the bearer token and reads back the same
typed result the use case returns locally, so the CLI renders one result the
same way in both modes; the API's error shape becomes the same
:mod:`app.errors` error, so a refusal is the same line and exit code.

Why through the API and not the database: in production the actor must be an
authenticated principal (issue 9), and a token is how a person proves it from
a terminal. The route of each use case is listed once here, next to the use
case it stands for; a use case without a route has no remote mode (the
command then says so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from app import audit, campaigns, directory, outbox, reviews, round_schedules, tasks
from app.errors import AppError, Unavailable, error_from_body
from domain.coverage import PlanSummary
from domain.review import ReviewState
from service.crosscheck import CrossCheckReport
from workflows.campaign_messages import CampaignProgress

API_PREFIX = "/api/v1"
TIMEOUT = httpx.Timeout(120.0, connect=10.0)  # a command waits for the workflow's own accept or reject


@dataclass(frozen=True)
class Route:
    """One use case over HTTP. ``path`` names input fields in braces (sent in
    the path); the input's other fields go in the query (GET) or the JSON body."""

    method: str
    path: str
    result: type[BaseModel]
    # the result's list field, for a route that may answer a page at a time
    # ({"items", "next_cursor", ...}): every page is read into that field
    collects: str | None = None
    # a use case the API answers in parts (an overview and its lists): builds
    # the result's JSON from ``get(path, params)`` and the input's fields
    compose: Callable[[Callable[[str, dict], Any], dict], dict] | None = None

    def fields_in_path(self) -> set[str]:
        import string

        return {name for _, name, _, _ in string.Formatter().parse(self.path) if name}


def every_item(get: Callable[[str, dict], Any], path: str, params: dict, first: dict | None = None) -> list:
    """Every item of a list the API answers a page at a time."""
    page = first if first is not None else get(path, params)
    items = list(page.get("items", []))
    while page.get("next_cursor"):
        page = get(path, {**params, "cursor": page["next_cursor"]})
        items.extend(page.get("items", []))
    return items


def whole_plan(get: Callable[[str, dict], Any], data: dict) -> dict:
    """The plan as the use case answers it: the overview's counts, every gap, every notice."""
    overview = get("/directory/plan", data)
    counts = {k: v for k, v in overview.items() if k in PlanSummary.model_fields and k not in ("gaps", "notices")}
    return {**counts, "gaps": every_item(get, "/directory/plan/gaps", data), "notices": every_item(get, "/directory/plan/notices", data)}


ROUTES: dict[Callable[..., Any], Route] = {
    reviews.start_review: Route("POST", "/reviews", reviews.StartReviewResult),
    reviews.send_command: Route("POST", "/reviews/{review_id}/commands", reviews.SendCommandResult),
    reviews.show_review: Route("GET", "/reviews/{review_id}", reviews.ReviewView),
    reviews.list_reviews: Route("GET", "/reviews", reviews.ReviewPage),
    reviews.command_kinds: Route("GET", "/command-kinds", reviews.CommandKindsResult, collects="kinds"),
    reviews.command_template: Route("GET", "/command-kinds/{kind}/template", reviews.TemplateResult),
    tasks.task_inbox: Route("GET", "/tasks", tasks.InboxPage),
    outbox.read_outbox: Route("GET", "/outbox", outbox.OutboxPage),
    audit.review_timeline: Route("GET", "/audit/reviews/{review_id}/timeline", audit.Timeline, collects="entries"),
    audit.state_as_of: Route("GET", "/audit/reviews/{review_id}/state", ReviewState),
    audit.cross_check: Route("GET", "/audit/reviews/{review_id}/cross-check", CrossCheckReport),
    audit.cross_check_all: Route("GET", "/audit/cross-check", audit.CrossCheckAll),
    directory.explain_subject: Route("GET", "/directory/subjects/{subject_id}/explanation", directory.Explanation),
    directory.plan: Route("GET", "/directory/plan", PlanSummary, compose=whole_plan),
    campaigns.campaign_plan: Route("POST", "/campaigns/plans", campaigns.CampaignPlanView),
    campaigns.launch_campaign: Route("POST", "/campaigns", campaigns.LaunchResult),
    campaigns.campaign_status: Route("GET", "/campaigns/{campaign_id}", campaigns.CampaignStatus),
    campaigns.pause_campaign: Route("POST", "/campaigns/{campaign_id}/pause", CampaignProgress),
    campaigns.resume_campaign: Route("POST", "/campaigns/{campaign_id}/resume", CampaignProgress),
    campaigns.cancel_campaign: Route("POST", "/campaigns/{campaign_id}/cancel", CampaignProgress),
    campaigns.redraw_campaign: Route("GET", "/campaigns/{campaign_id}/redraw", campaigns.RedrawResult),
    campaigns.campaign_ledger: Route("GET", "/ledgers/{period}", campaigns.Ledger, collects="rows"),
    round_schedules.list_schedules: Route("GET", "/round-schedules", round_schedules.ScheduleList, collects="schedules"),
    round_schedules.create_schedule: Route("POST", "/round-schedules", round_schedules.ScheduleView),
    round_schedules.pause_schedule: Route("POST", "/round-schedules/{prefix}/pause", round_schedules.ScheduleView),
    round_schedules.resume_schedule: Route("POST", "/round-schedules/{prefix}/resume", round_schedules.ScheduleView),
    round_schedules.trigger_schedule: Route("POST", "/round-schedules/{prefix}/trigger", round_schedules.ScheduleView),
    round_schedules.delete_schedule: Route("DELETE", "/round-schedules/{prefix}", round_schedules.Deleted),
}

TOKEN_HELP = ("an administrator issues one on the server with 'reviewctl users token issue PERSON_ID --name cli' "
              "(add --scope audit:read or --scope outbox:read for those tools)")


def no_route(use: Callable[..., Any]) -> AppError:
    return AppError(f"{use.__name__.replace('_', ' ')} has no API route yet: run it on the server without --api", field="--api")


class Remote:
    """The API at ``url``, called with the bearer ``token``."""

    def __init__(self, url: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._transport = transport

    def call(self, use: Callable[..., Any], inp: BaseModel | None = None) -> Any:
        route = ROUTES.get(use)
        if route is None:
            raise no_route(use)
        in_path = route.fields_in_path()
        data = inp.model_dump(mode="json", exclude_none=True) if inp is not None else {}
        path = route.path.format(**{k: quote(str(data.pop(k)), safe="") for k in in_path})
        sent: dict[str, Any] = {"params": data} if route.method == "GET" else {"json": data}
        try:
            with httpx.Client(base_url=self.url + API_PREFIX, timeout=TIMEOUT, transport=self._transport,
                              headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}) as client:
                def get(at: str, params: dict) -> Any:
                    return self._answer(client.request("GET", at, params=params), route, at)

                if route.compose is not None:
                    body = route.compose(get, data)
                else:
                    body = self._answer(client.request(route.method, path, **sent), route, path)
                if route.collects and isinstance(body, dict) and "items" in body and route.collects not in body:
                    items = every_item(get, path, data, first=body)  # the use case answers the whole list
                    body = {**{k: v for k, v in body.items() if k not in ("items", "next_cursor")}, route.collects: items}
        except httpx.HTTPError as exc:
            raise Unavailable(f"the API does not answer at {self.url}: {exc.__class__.__name__}{': ' + str(exc) if str(exc) else ''}",
                              message_zh=f"无法连接 API（{self.url}）") from None
        try:
            return route.result.model_validate(body)
        except ValidationError as exc:
            raise self._not_ours(route, path, exc) from None

    def _answer(self, resp: httpx.Response, route: Route, path: str) -> Any:
        if not resp.is_success:
            raise self._error(resp)
        try:
            return resp.json()
        except ValueError as exc:
            raise self._not_ours(route, path, exc) from None

    def _not_ours(self, route: Route, path: str, exc: Exception) -> Unavailable:
        return Unavailable(f"{self.url} answered {route.method} {path} with something that is not Pingyi's API ({str(exc).splitlines()[0]})",
                           message_zh="API 的应答无法识别")

    def _error(self, resp: httpx.Response) -> AppError:
        try:
            body = resp.json()
        except ValueError:
            body = None
        err = error_from_body(resp.status_code, body)
        if err is None:
            return Unavailable(f"{self.url} answered {resp.status_code} {resp.reason_phrase} without Pingyi's error shape: is --api the Pingyi API?",
                               message_zh=f"API 应答 {resp.status_code}")
        if err.status == 401:
            err.message = f"{err.message}; {TOKEN_HELP}"
        return err
