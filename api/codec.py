"""The codec server: Temporal's ``/encode`` and ``/decode`` protocol, so the
Temporal Web UI (``TEMPORAL_CODEC_ENDPOINT=<api>/codec``) shows authorised
people the payloads the engine stores sealed.

Who may read: a signed-in auditor or administrator (a bearer token also needs
the ``audit:read`` scope). The Web UI calls from its own origin with the API's
session cookie (``TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true``) or a bearer token;
only the origins in ``PINGYI_CODEC_CORS_ORIGINS`` may, and every answer —
refusals included — carries the CORS headers, so the UI can show why. No CSRF
token is asked: the UI cannot send one, nothing here changes state, and a
foreign page cannot read the answer (CORS allows only the listed origins).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from starlette.concurrency import run_in_threadpool
from temporalio.api.common.v1 import Payloads

from app.errors import AppError, BadInput, Forbidden, NotSignedIn
from app.principal import Principal
from config.settings import Settings
from domain.accounts import TokenScope
from service.codec import EncryptionCodec, UnknownKeyError

ALLOWED_HEADERS = "authorization,content-type,x-namespace"


def may_read_payloads(principal: Principal) -> None:
    if not principal.signed_in:
        raise NotSignedIn("sign in first (the API's session cookie or 'Authorization: Bearer <token>')", message_zh="请先登录")
    if not (principal.auditor or principal.administrator):
        raise Forbidden("only auditors and administrators may read the engine's payloads", field="role", message_zh="只有审计员和管理员可以查看引擎中的数据")
    if principal.token_scopes is not None and TokenScope.AUDIT_READ not in principal.token_scopes:
        raise Forbidden(f"this token lacks the {TokenScope.AUDIT_READ.value!r} scope", field="Authorization", message_zh=f"该令牌没有 {TokenScope.AUDIT_READ.value!r} 权限")


def codec_router(codec: EncryptionCodec, settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/codec", tags=["codec"], include_in_schema=True)
    origins = frozenset(settings.codec_cors_origins)

    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    def refused(request: Request, err: AppError) -> Response:
        return cors(request, JSONResponse({"error": err.as_dict()}, status_code=err.status))

    async def principal_of(request: Request) -> Principal:
        from api.deps import _resolve  # the API's own authentication (bearer token, then session cookie)

        return await run_in_threadpool(_resolve, request, request.app.state.accounts)

    async def apply(request: Request, decode: bool) -> Response:
        try:
            may_read_payloads(await principal_of(request))
            namespace = request.headers.get("x-namespace")
            if namespace is not None and namespace != settings.temporal_namespace:
                raise BadInput(f"this codec serves namespace {settings.temporal_namespace!r}, not {namespace!r}", field="X-Namespace", message_zh="命名空间不符")
            try:
                payloads = json_format.Parse(await request.body(), Payloads())
            except json_format.ParseError as e:
                raise BadInput(f"the body must be Temporal's {{\"payloads\": [...]}} JSON: {e}", field="payloads", message_zh="请求体应为 Temporal 的 payloads JSON") from None
            try:
                out = await (codec.decode if decode else codec.encode)(payloads.payloads)
            except UnknownKeyError as e:
                raise BadInput(str(e), field="payloads", message_zh="数据的密钥不在本服务的密钥环中") from None
        except AppError as err:
            return refused(request, err)
        return cors(request, Response(json_format.MessageToJson(Payloads(payloads=out)), media_type="application/json"))

    @router.post("/decode", summary="Open sealed payloads (Temporal codec protocol)")
    async def decode(request: Request) -> Response:
        return await apply(request, decode=True)

    @router.post("/encode", summary="Seal payloads (Temporal codec protocol)")
    async def encode(request: Request) -> Response:
        return await apply(request, decode=False)

    @router.options("/{operation}", include_in_schema=False)
    async def preflight(operation: str, request: Request) -> Response:
        response = cors(request, Response(status_code=204))
        if "Access-Control-Allow-Origin" in response.headers:
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return response

    return router
