"""`GET /metrics` for Prometheus, served by aiohttp on the bot's own event loop.

Why not prometheus-client's own server (a thread): a scrape reads what the event loop owns
(shard latencies, and the outbox backlog, which takes an async database query), and the
server has to stop with the bot. On the loop, a scrape awaits the backlog count like any other
query, a port already in use fails start-up before the bot logs in, and stopping is one await.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from bot.metrics.registry import Metrics

SHUTDOWN_GRACE = 2.0  # seconds a scrape (and its backlog count) may take once stopping


class MetricsServer:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        # no access log: a scrape every 15 s would drown the bot's own lines
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port (0: any free port, see `port`); OSError when it cannot."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise

    @property
    def port(self) -> int:
        """The port it listens on."""
        addresses = self._runner.addresses
        if not addresses:
            raise RuntimeError("the metrics server is not listening")
        return int(addresses[0][1])

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self.metrics.settle(SHUTDOWN_GRACE)

    async def _scrape(self, request: web.Request) -> web.Response:
        await self.metrics.refresh()
        # the text format Prometheus asks for (its Accept header), OpenMetrics included
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encode(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": content_type})
