"""A browser that leaves while its form is still being read is not a server
error: the request ends quietly with one info line, no traceback is logged
(a Rich traceback per disconnect once stalled the service's event loop)."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request

from api import errors


def _app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.post("/form")
    async def form(request: Request) -> dict:
        got = await request.form()
        return {"fields": len(got)}

    return app


async def _call(app: FastAPI, messages: list[dict]) -> list[dict]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/form",
        "raw_path": b"/form", "query_string": b"", "root_path": "", "server": ("test", 80), "client": ("127.0.0.1", 1),
        "headers": [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"100")],
    }
    inbox = list(messages)
    sent: list[dict] = []

    async def receive() -> dict:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_a_client_gone_mid_form_ends_the_request_without_an_error(caplog):
    caplog.set_level(logging.INFO)
    sent = asyncio.run(_call(_app(), [{"type": "http.request", "body": b"a=1&b=", "more_body": True}]))
    assert sent[0]["status"] == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


def test_a_whole_form_is_still_read():
    sent = asyncio.run(_call(_app(), [{"type": "http.request", "body": b"a=1&b=2", "more_body": False}]))
    assert sent[0]["status"] == 200
