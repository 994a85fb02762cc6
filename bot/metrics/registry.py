"""What the bot measures, in a Prometheus registry of its own (never the global default one,
so several bots can live in one process, as they do in the tests).

The operator's guide documents exactly these names: change one only together with it.
Every label takes values from a small set the code fixes (a command's name, a feature, an
outbox kind, an outcome), never user input or a raw custom_id.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from bot import __version__
from bot.services.outbox import Backlog

log = logging.getLogger(__name__)

# how an interaction ended: answered, refused politely (the learner's mistake, a check), or a bug
OK, REFUSED, ERROR = "ok", "refused", "error"

# A backlog count answers the scrapes of the next BACKLOG_MAX_AGE seconds (see refresh).
BACKLOG_MAX_AGE = 10.0

# 3 s is Discord's deadline for a first answer; deferred work (a lab build) runs minutes.
INTERACTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
# A row sent on time is a second or two late; one held back by a back-off or downtime, hours.
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 24 * 3600.0)
LAB_JOB_BUCKETS = (0.1, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)

Latencies = Callable[[], Iterable[tuple[int, float]]]  # (shard, seconds) per connected shard


class BacklogSource(Protocol):
    """The outbox as the metrics read it (bot.services.outbox.OutboxService)."""

    @property
    def clock(self) -> Callable[[], datetime]: ...

    async def backlog(self) -> Backlog: ...


class Metrics:
    """The bot's instruments and the methods that record into them.

    Adapters call `interaction`; the outbox dispatcher calls `outbox_sent`, `outbox_failed` and
    `outbox_retried` (its DeliveryObserver); the lab service calls `lab_job`. `watch` names what
    is read at scrape time: the gateway latencies and the outbox backlog.
    """

    def __init__(self, *, database: str = "unknown", version: str = __version__) -> None:
        self.registry = registry = CollectorRegistry()
        self._interactions = Counter(
            "tutorbot_interactions_total",
            "Slash commands, buttons, selects and modals handled, by command (or feature) and "
            "outcome: ok, refused (told the learner why) or error (an unexpected exception)",
            ["command", "outcome"],
            registry=registry,
        )
        self._interaction_seconds = Histogram(
            "tutorbot_interaction_seconds",
            "Time from receiving an interaction to the end of its handler",
            ["command"],
            buckets=INTERACTION_BUCKETS,
            registry=registry,
        )
        self._outbox_sent = Counter(
            "tutorbot_outbox_sent_total", "Outbox rows delivered", ["kind"], registry=registry
        )
        self._outbox_failed = Counter(
            "tutorbot_outbox_failed_total",
            "Outbox rows that failed for good, by reason: no_route (DMs closed and no usable "
            "reminder channel), channel (403/404 on a channel), refused (Discord refused the "
            "message), gave_up (too many attempts)",
            ["kind", "reason"],
            registry=registry,
        )
        self._outbox_retries = Counter(
            "tutorbot_outbox_retries_total",
            "Sends put off for a retry (429, 5xx, network trouble, timeouts)",
            ["kind"],
            registry=registry,
        )
        self._outbox_lateness = Histogram(
            "tutorbot_outbox_lateness_seconds",
            "Time from a row's due time to its delivery",
            buckets=LATENESS_BUCKETS,
            registry=registry,
        )
        self._lab_jobs = Counter(
            "tutorbot_lab_jobs_total",
            "Graded lab submissions, by outcome: passed, failed, refused (not run: a refused "
            "file, a full queue, the sandbox off) or error",
            ["outcome"],
            registry=registry,
        )
        self._lab_job_seconds = Histogram(
            "tutorbot_lab_job_seconds",
            "A graded job's own time: build plus run in the sandbox, or a Compose lab's "
            "static grading (the wait in the queue not included)",
            buckets=LAB_JOB_BUCKETS,
            registry=registry,
        )
        info = Gauge(
            "tutorbot_info",
            "Always 1: the bot's version and database backend",
            ["version", "database"],
            registry=registry,
        )
        info.labels(version, database).set(1)
        backlog_gauges: tuple[tuple[str, str, Callable[[Backlog], float]], ...] = (
            (
                "tutorbot_outbox_pending",
                "Outbox rows waiting to be sent, due or not (the whole database, every worker)",
                lambda backlog: backlog.pending,
            ),
            (
                "tutorbot_outbox_due",
                "Outbox rows due now and not yet sent (in a lease or a retry included)",
                lambda backlog: backlog.due,
            ),
            (
                "tutorbot_outbox_oldest_due_seconds",
                "Age of the oldest due outbox row, 0 when none is due",
                self._oldest_due_age,
            ),
        )
        for name, text, read in backlog_gauges:
            Gauge(name, text, registry=registry).set_function(self._backlog_value(read))
        registry.register(GatewayLatency(self))
        self.gateway: Latencies | None = None
        self._outbox: BacklogSource | None = None
        self._backlog: Backlog | None = None
        self._counted_at: float | None = None
        self._counting: asyncio.Future[None] | None = None

    def watch(self, gateway: Latencies, outbox: BacklogSource) -> None:
        """What the scrape-time gauges read: shard latencies and the outbox backlog."""
        self.gateway = gateway
        self._outbox = outbox

    # --- recording ------------------------------------------------------------------------

    def interaction(self, command: str, outcome: str, seconds: float | None) -> None:
        self._interactions.labels(command, outcome).inc()
        if seconds is not None:
            self._interaction_seconds.labels(command).observe(seconds)

    def outbox_sent(self, kind: str, lateness: float) -> None:
        self._outbox_sent.labels(kind).inc()
        self._outbox_lateness.observe(max(lateness, 0.0))

    def outbox_failed(self, kind: str, reason: str) -> None:
        self._outbox_failed.labels(kind, reason).inc()

    def outbox_retried(self, kind: str) -> None:
        self._outbox_retries.labels(kind).inc()

    def lab_job(self, outcome: str, seconds: float | None) -> None:
        self._lab_jobs.labels(outcome).inc()
        if seconds is not None:
            self._lab_job_seconds.observe(seconds)

    # --- read at scrape time --------------------------------------------------------------

    async def refresh(self) -> None:
        """Count the outbox backlog for a scrape: one query at most every BACKLOG_MAX_AGE
        seconds, shared by the scrapes that arrive meanwhile (several Prometheus servers, or
        scrapes piling up behind a slow database), and never cancelled by a scrape that gives
        up, so a SQLite connection is never left mid-query."""
        if self._outbox is None:
            return
        fresh = (
            self._counted_at is not None and time.monotonic() - self._counted_at < BACKLOG_MAX_AGE
        )
        if fresh:
            return
        if self._counting is None or self._counting.done():
            self._counting = asyncio.ensure_future(self._count(self._outbox))
        await asyncio.shield(self._counting)

    async def settle(self, within: float) -> None:
        """Give a backlog count under way `within` seconds to end (before the database
        closes)."""
        if self._counting is not None and not self._counting.done():
            await asyncio.wait({self._counting}, timeout=within)

    async def _count(self, outbox: BacklogSource) -> None:
        try:
            self._backlog = await outbox.backlog()
        except Exception:
            log.warning("metrics: could not count the outbox backlog", exc_info=True)
            self._backlog = None  # the gauges say NaN: unknown, rather than stale
        self._counted_at = time.monotonic()

    def _backlog_value(self, read: Callable[[Backlog], float]) -> Callable[[], float]:
        return lambda: math.nan if self._backlog is None else float(read(self._backlog))

    def _oldest_due_age(self, backlog: Backlog) -> float:
        if backlog.oldest_due is None or self._outbox is None:
            return 0.0
        return max((self._outbox.clock() - backlog.oldest_due).total_seconds(), 0.0)


class GatewayLatency:
    """`tutorbot_gateway_latency_seconds{shard}`, read from the bot when scraped: one sample
    per connected shard with a measured heartbeat, none while disconnected."""

    NAME = "tutorbot_gateway_latency_seconds"
    HELP = "Time between a gateway heartbeat and Discord's acknowledgement, per shard"

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["shard"])

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["shard"])
        read = self._metrics.gateway
        for shard, seconds in read() if read is not None else ():
            if math.isfinite(seconds):
                family.add_metric([str(shard)], seconds)
        yield family
