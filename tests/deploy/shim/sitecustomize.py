"""Test only: point discord.py at the loopback Discord that TUTOR_FAKE_DISCORD names.

The image's tests mount this folder into the container and put it on PYTHONPATH, so the
image's own, unchanged `tutorbot run` logs in to tests/fake_discord.py instead of Discord
(which CI cannot reach). It is never part of the image.
"""

import os

_url = os.environ.get("TUTOR_FAKE_DISCORD", "").rstrip("/")
if _url:
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = _url + "/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        "ws" + _url.removeprefix("http") + "/gateway"
    )
