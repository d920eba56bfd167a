"""One JSON shape for every error: ``{"error": {"code", "field", "message",
"message_zh"}}``, from the use cases' typed errors, from FastAPI's request
validation (naming the field) and from Starlette's own 404/405."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app.errors import AppError, field_and_reason
from config.logging import get_logger

log = get_logger("pingyi.api")


class ErrorDetail(BaseModel):
    code: str
    field: str | None = None
    message: str
    message_zh: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


def _described(description: str) -> dict:
    return {"model": ErrorResponse, "description": description}


# what any route may answer besides its success (listed on every route, so the
# OpenAPI schema is the whole contract)
COMMON_ERRORS: dict[int | str, dict] = {
    401: _described("not signed in, or the token is unknown, expired or revoked"),
    403: _described("the principal may not do this (or a form post without its CSRF token)"),
    404: _described("not found (or not visible to this principal)"),
    409: _described("conflict: the wrong step, an ended review, a stale version, an id in use"),
    422: _described("bad input, naming the field"),
    503: _described("the engine (Temporal) or a database does not answer"),
}
SIGN_IN_ERRORS: dict[int | str, dict] = {**COMMON_ERRORS, 429: _described("too many failed sign-ins for this account or from this address")}

STATUS_CODES = {400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "bad_input"}


def error_body(code: str, message: str, *, field: str | None = None, message_zh: str | None = None) -> dict:
    return {"error": {"code": code, "field": field, "message": message, "message_zh": message_zh or message}}


def _located(loc: tuple, msg: str) -> tuple[str | None, str]:
    # ("body", "fields", "x") -> "fields.x"; ("query", "limit") -> "limit"; a rule across fields names its own
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else [str(p) for p in loc]
    return field_and_reason(parts, msg)


def install(app: FastAPI) -> None:
    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        """A browser that left while its form was still being read (the person
        clicked on, or closed the tab) is not a server error: nothing was
        recorded, and nobody is waiting for the answer."""
        log.info("client_disconnected", method=request.method, path=request.url.path)
        return Response(status_code=499)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.as_dict()}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field, msg = _located(tuple(first.get("loc", ())), str(first.get("msg", "invalid")))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return JSONResponse(error_body("bad_input", f"{field or 'request'}: {msg}{more}", field=field, message_zh=f"{field or '请求'}：输入无效（{msg}）"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None))
