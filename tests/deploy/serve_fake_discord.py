"""Test only: the loopback Discord (tests/fake_discord.py) served to other containers.

    python -m tests.deploy.serve_fake_discord HOSTNAME PORT

Listens on every interface at PORT and tells clients to reach it as HOSTNAME (its Compose
service name), until SIGTERM. The Compose smoke check (tests/deploy/compose.smoke.yaml) runs
it in the bot's own image, which has aiohttp and discord.py.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web

from tests.fake_discord import API_PREFIX, GATEWAY_PATH, FakeDiscord


class ServedDiscord(FakeDiscord):
    def __init__(self, hostname: str, port: int) -> None:
        super().__init__()
        self.hostname = hostname
        self.public_port = port

    async def start(self) -> None:
        await super().start()  # 127.0.0.1 on a free port; then every interface at public_port
        assert self._runner is not None
        await web.TCPSite(self._runner, "0.0.0.0", self.public_port).start()

    @property
    def api_url(self) -> str:
        return f"http://{self.hostname}:{self.public_port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.hostname}:{self.public_port}{GATEWAY_PATH}"


async def serve(hostname: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with ServedDiscord(hostname, port) as fake:
        print(f"loopback Discord at {fake.api_url}", flush=True)
        await stop.wait()
        print(f"served {len(fake.requests)} requests", flush=True)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
