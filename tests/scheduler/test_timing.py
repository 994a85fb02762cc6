"""When the dispatcher wakes, how fast it sends, and what it does with rows that are late."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.delivery.discord_sender import compose
from bot.delivery.dispatcher import (
    FOLD_AFTER,
    LATE_NOTE,
    MAX_IN_FLIGHT,
    MAX_SLEEP,
    Delivery,
    Pacer,
    backoff,
)
from bot.services.outbox import CANCELLED, SENT, OutboxItem
from tests.scheduler.helpers import (
    START,
    VirtualTime,
    eventually,
    insert_due,
    learner_ids,
)
from tests.scheduler.world import World


class BlockingSleep:
    """Records how long the dispatcher wants to idle, and never wakes it by itself.

    Waits under a second (pacing sends) pass at once.
    """

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        if seconds < 1:
            return
        self.asked.append(round(seconds, 3))
        await asyncio.Event().wait()


async def test_it_sleeps_until_the_next_row_and_wakes_early_for_an_earlier_one(
    world: World,
) -> None:
    sleep = BlockingSleep()
    await world.replace_dispatcher(sleep=sleep)
    await eventually(lambda: sleep.asked == [MAX_SLEEP])  # nothing queued: the cap

    await world.remind(world.learners[0], "Soon [r1]", due_in=10)
    await eventually(lambda: sleep.asked == [MAX_SLEEP, 10])  # woken, sleeps until then

    await world.remind(world.learners[0], "Later [r2]", due_in=100)
    await asyncio.sleep(0.1)
    assert sleep.asked == [MAX_SLEEP, 10]  # a later row does not wake it

    await world.remind(world.learners[1], "Now [r3]")
    await eventually(lambda: world.delivered() == {"r3": 1})
    await eventually(lambda: sleep.asked == [MAX_SLEEP, 10, 10])
    assert world.fake.dm_messages(world.learners[0]) == []


async def test_the_send_rate_is_capped(world: World) -> None:
    rate, count = 20.0, 60
    await world.bot.dispatcher.stop(grace=0)
    learners = await learner_ids(world.services, world.learners[:3])  # DMs open
    await insert_due(world.services, learners, count, world.vt())
    start = world.vt()
    # The emulator stamps each request with the virtual time it arrived at.
    world.fake.clock = lambda: (world.vt() - start).total_seconds()
    await world.replace_dispatcher(send_rate=rate)
    await eventually(lambda: sum(world.delivered().values()) == count)

    requests = world.fake.find_requests("POST")  # the messages, and the DMs opened for them
    assert len(requests) == count + 3
    times = sorted(r.time for r in requests)
    # The i-th request arrives no earlier than i/rate: never faster than the cap...
    assert all(t >= i / rate - 1e-6 for i, t in enumerate(times))
    # ...and not much slower. (Virtual time runs ahead of requests still on their way by up
    # to the sends in flight, so the last one may show up to MAX_IN_FLIGHT slots late.)
    assert times[-1] <= (len(times) + MAX_IN_FLIGHT) / rate


async def test_the_pacer_spaces_sends_and_holds_them_during_a_pause() -> None:
    vt = VirtualTime()
    pacer = Pacer(10.0, vt, vt.sleep)
    for _ in range(3):
        await pacer.wait()
    assert vt.sleeps == [0.1, 0.1] and vt() == START + timedelta(seconds=0.2)
    pacer.pause(5)
    await pacer.wait()
    assert vt() == START + timedelta(seconds=5.2)


def test_backoff_doubles_up_to_a_cap_and_respects_retry_after() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff(40) == 15 * 60
    assert backoff(1, retry_after=30.0) == 30.0


async def test_rows_due_while_the_bot_was_down_are_sent_late_or_folded(world: World) -> None:
    """Digests fold after 6 h; here a kind of our own ("nudge") with that cut-off stands in for
    them, since the real digest renderer composes from the learner's cards, not the payload."""
    assert FOLD_AFTER["digest"] == timedelta(hours=6)
    await world.replace_dispatcher(fold_after={"nudge": FOLD_AFTER["digest"]})
    await world.bot.dispatcher.stop(grace=0)
    user = world.learners[0]
    late = await world.remind(user, "Review Part 2 [r1]", due_in=-2 * 3600)
    recent = await world.remind(user, "Nudge [r2]", kind="nudge", due_in=-3600)
    stale = await world.remind(user, "Nudge [r3]", kind="nudge", due_in=-7 * 3600)
    just_now = await world.remind(user, "Review Part 3 [r4]", due_in=-30)
    world.dispatcher.start()  # the bot is back
    for row_id in (late, recent, just_now):
        await eventually(lambda row_id=row_id: _status(world, row_id, SENT))
    await eventually(lambda: _status(world, stale, CANCELLED))

    by_tag = {m["content"].split("[")[1][:2]: m["content"] for m in world.fake.dm_messages(user)}
    assert by_tag["r1"] == f"Review Part 2 [r1]\n{LATE_NOTE}"
    assert by_tag["r2"] == f"Nudge [r2]\n{LATE_NOTE}"
    assert by_tag["r4"] == "Review Part 3 [r4]"  # under a minute late: no note
    assert "r3" not in by_tag
    assert (await world.row(stale)).last_error.startswith("folded: nudge was due")


def test_compose_keeps_the_mention_and_the_note_within_discords_limit() -> None:
    item = OutboxItem(
        id=1, kind="reminder", due_at=START, payload={}, nonce="n", attempts=1,
        lease_until=START, guild_id=None, channel_id=None, recipient=None,
    )  # fmt: skip
    text = compose("x" * 2500, Delivery(item, late=True, mention=42, dms_closed=True))
    assert text is not None and len(text) == 2000
    assert text.startswith("<@42> your DMs are closed") and text.endswith(LATE_NOTE)
    assert "x…\n" in text
    assert compose(None, Delivery(item)) is None


async def _status(world: World, row_id: int, status: str) -> bool:
    return (await world.row(row_id)).status == status
