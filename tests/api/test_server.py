"""The embedded uvicorn: serves in the caller's loop, on a free port, stops
when told, and a port in use is a clear error."""

from __future__ import annotations

import httpx
import pytest

from api.server import start_api


async def test_serves_in_this_loop_and_stops(api):
    running = await start_api(api, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=running.url) as c:
            resp = await c.get("/api/v1/auth/whoami")
            assert resp.status_code == 200 and resp.json()["kind"] == "anonymous"
            assert (await c.get("/api/v1/openapi.json")).json()["openapi"].startswith("3.")
            assert (await c.get("/api/docs")).status_code == 200
    finally:
        await running.stop()
    assert running.task.done()


async def test_a_port_in_use_is_a_plain_error(api):
    first = await start_api(api, "127.0.0.1", 0)
    try:
        with pytest.raises(RuntimeError, match="cannot listen"):
            await start_api(api, "127.0.0.1", first.server.port)
    finally:
        await first.stop()
