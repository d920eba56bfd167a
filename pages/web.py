"""What every page route shares: the application context and the signed-in
principal (both provided by the API's application), turning an application
error into a page (or a redirect to sign in), and reading a person's message
out of an error in the page's language."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.errors import AppError, NotSignedIn
from app.principal import Principal
from api.deps import AccountsDep, current_principal, get_ctx
from pages.i18n import gettext as _
from pages.i18n import pick
from pages.rendering import notice_of, render

TITLES = {
    400: "Something is wrong with the request",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    422: "Please check the input",
    429: "Too many attempts",
    503: "The service is not available",
}


def N_(s: str) -> str:  # noqa: N802
    return s


# the titles above, marked for the catalogue
_TITLE_IDS = [N_("Something is wrong with the request"), N_("Please sign in"), N_("Not allowed"), N_("Not found"),
              N_("Not possible now"), N_("Please check the input"), N_("Too many attempts"), N_("The service is not available")]


def message_of(err: AppError) -> str:
    """The error's text in the page's language (application errors carry both)."""
    return pick(err.message, err.message_zh)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(target, safe='/')}", status_code=303)


def error_page(request: Request, err: AppError) -> Response:
    if isinstance(err, NotSignedIn):
        return sign_in_redirect(request)
    title = _(TITLES.get(err.status, TITLES[400]))
    return render(request, "error.html", {"title": title, "message": message_of(err)}, status_code=err.status)


def see_other(url: str, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get: after a form, the browser shows the page again by GET."""
    if notice:
        url += ("&" if "?" in url else "?") + "notice=" + quote(notice)
    return RedirectResponse(url, status_code=303)


_INDEX = re.compile(r"^([a-z_]+)\.(\d+)(?:\.(.*))?$")


def split_index(field: str | None) -> tuple[str, int, str] | None:
    """``points.3.problems.0`` -> ("points", 3, "problems.0")."""
    if not field:
        return None
    m = _INDEX.match(field)
    if not m:
        return None
    return m.group(1), int(m.group(2)), m.group(3) or ""


def form_dict(form: Any) -> dict[str, str]:
    """A submitted form's text fields (files left out), for re-showing them."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


__all__ = ["message_of", "error_page", "see_other", "notice_of", "split_index", "form_dict", "sign_in_redirect", "HTMLResponse"]


# ---- what the API's application provides ---------------------------------


class PageError(Exception):
    """An application error raised while resolving a page's dependencies (a
    bad CSRF token, a revoked token): shown as a page, not as the API's JSON."""

    def __init__(self, err: AppError) -> None:
        self.err = err
        super().__init__(str(err))


def app_context(request: Request) -> Any:
    return get_ctx(request)


async def principal(request: Request, accounts: AccountsDep) -> Principal:
    """The signed-in person (or anonymous), with the API's own rules: the
    session cookie, and the CSRF token on every form that changes something."""
    try:
        who = await current_principal(request, accounts)
    except AppError as err:
        raise PageError(err) from None
    request.state.principal = who
    return who


async def page_error(request: Request, exc: PageError) -> Response:
    return error_page(request, exc.err)


Ctx = Annotated[Any, Depends(app_context)]  # app.context.AppContext
Who = Annotated[Principal, Depends(principal)]


def temporal_ui_url(ctx: Any, review_id: str) -> str | None:
    """The same review in the Temporal Web UI (the embedded server's, or the
    one configured for a cluster)."""
    s = ctx.settings
    base = getattr(s, "temporal_ui_url", None) or (f"http://127.0.0.1:{s.dev_ui_port}" if s.embedded else None)
    if not base:
        return None
    return f"{base.rstrip('/')}/namespaces/{quote(s.temporal_namespace)}/workflows/{quote(review_id)}"
