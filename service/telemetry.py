"""What a worker tells its operators: Prometheus metrics of our own (beside the
Temporal SDK's, which its Runtime exports on a port of their own) and the
liveness/readiness probes, served by one small HTTP server in a thread.

Counters count what this process did (appends, reminders, messages written,
messages its mail relay delivered or failed to);
the review gauges (reviews by step, overdue) are read from Temporal's
visibility store, so every worker reports the same figure: aggregate them with
``max``, not ``sum``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from temporalio.client import Client

from activities.metrics import REGISTRY  # the activities' counters live beside them; the probes serve this registry
from domain.procedure import FIVE_STEPS

log = structlog.get_logger("pingyi.telemetry")


class ReviewGauges:
    """Reviews by step and overdue, counted in Temporal's visibility store at
    most once per ``refresh_seconds`` (a scrape never waits on more than one
    round of count queries)."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop, *, refresh_seconds: float = 30, timeout: float = 5) -> None:
        self.client, self.loop, self.refresh, self.timeout = client, loop, refresh_seconds, timeout
        self._at = 0.0
        self._values: dict[str, float] = {}
        self._lock = threading.Lock()

    async def _count(self) -> dict[str, float]:
        queries = {step.value: f"ExecutionStatus = 'Running' AND PingyiStep = '{step.value}'" for step in FIVE_STEPS}
        queries["overdue"] = "ExecutionStatus = 'Running' AND PingyiOverdue = true"
        counts = await asyncio.gather(*(self.client.count_workflows(q) for q in queries.values()))
        return {name: float(c.count) for name, c in zip(queries, counts)}

    def values(self) -> dict[str, float]:
        with self._lock:
            if time.monotonic() - self._at >= self.refresh or not self._values:
                try:
                    self._values = asyncio.run_coroutine_threadsafe(self._count(), self.loop).result(self.timeout)
                    self._at = time.monotonic()
                except Exception as e:  # a scrape reports what it has; the log says why it is stale
                    log.warning("review_gauges_unavailable", error=f"{type(e).__name__}: {e}")
            return dict(self._values)

    def collect(self):
        values = self.values()
        by_step = GaugeMetricFamily("pingyi_reviews_by_step", "running reviews at each step (Temporal visibility)", labels=["step"])
        for step in FIVE_STEPS:
            if step.value in values:
                by_step.add_metric([step.value], values[step.value])
        yield by_step
        if "overdue" in values:
            yield GaugeMetricFamily("pingyi_reviews_overdue", "running reviews past their step's deadline", value=values["overdue"])


class ProjectionLag:
    """Events each read model still has to project (the log's head position
    minus the projection's tracking position), read at scrape time."""

    def __init__(self, positions: Callable[[], dict[str, int]], head: Callable[[], int], names: list[str]) -> None:
        self.positions, self.head, self.names = positions, head, names

    def collect(self):
        try:
            head, at = self.head(), self.positions()
        except Exception as e:  # the database is away: say so in the log, export nothing stale
            log.warning("projection_lag_unavailable", error=f"{type(e).__name__}: {e}")
            return
        lag = GaugeMetricFamily("pingyi_projection_lag_events", "events of the log a read model has not projected yet", labels=["projection"])
        for name in self.names:
            lag.add_metric([name], max(head - at.get(name, 0), 0))
        yield lag


class Probes:
    """Liveness: the worker's event loop still turns (a heartbeat task stamps
    the time). Readiness: the worker polls its task queue and is not draining."""

    def __init__(self, stale_after: float = 15) -> None:
        self.stale_after = stale_after
        self.beat = time.monotonic()
        self.ready = False
        self.detail = "starting"

    async def heartbeat(self, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            self.beat = time.monotonic()
            try:
                await asyncio.wait_for(stop.wait(), every)
            except asyncio.TimeoutError:
                pass

    def live(self) -> tuple[bool, str]:
        age = time.monotonic() - self.beat
        return age < self.stale_after, f"event loop last turned {age:.1f}s ago"

    def readiness(self) -> tuple[bool, str]:
        live, why = self.live()
        return (self.ready and live), (self.detail if live else why)


def parse_bind(value: str, setting: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{setting}: {value!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve_probes(bind: str, probes: Probes, registry: CollectorRegistry = REGISTRY) -> ThreadingHTTPServer:
    """/healthz, /readyz and /metrics on ``bind`` (host:port) in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                ok, detail = probes.live() if path == "/healthz" else probes.readiness()
                self._send(200 if ok else 503, f"{'ok' if ok else 'not ok'}: {detail}\n".encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # probes every few seconds: keep them out of the log
            return

    server = ThreadingHTTPServer(parse_bind(bind, "PINGYI_WORKER_HEALTH_BIND"), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="pingyi-probes", daemon=True).start()
    return server


def sdk_runtime(bind: str | None) -> "object | None":
    """A Temporal Runtime exporting the SDK's own metrics for Prometheus on
    ``bind`` (None: the default runtime, no export)."""
    if not bind:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    host, port = parse_bind(bind, "PINGYI_WORKER_METRICS_BIND")
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}")))


