"""Never lost, never doubled: crashes, lost answers, rate limits and cancellation at random."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

import pytest

from bot.delivery.dispatcher import LEASE, TryLater
from bot.services.outbox import PENDING, SENT
from tests.scheduler.helpers import count_rows, eventually, insert_due, learner_ids
from tests.scheduler.world import World


async def test_a_crash_between_sending_and_marking_neither_loses_nor_doubles(
    world: World,
) -> None:
    """Discord makes the message but its answer is lost, and the dispatcher dies right there:
    the row stays leased, is claimed again once the lease ends, and re-sent with its nonce."""
    user = world.learners[0]
    world.fake.fail_next("POST", "/channels/*/messages", status=503, process=True)
    world.sender.crash_on_error = True
    row_id = await world.remind(user, "Review [r1]")
    await eventually(lambda: _status(world, row_id, SENT))

    first, second = world.sender.attempts
    assert first.error is not None and second.error is None
    assert second.at - first.at >= LEASE  # nobody touched it while it was leased
    posts = world.fake.find_requests("POST", f"/channels/{world.fake.dm_channel_id(user)}/*")
    assert [p.json["nonce"] for p in posts] == [first.delivery.item.nonce] * 2
    assert world.delivered() == {"r1": 1}
    assert (await world.row(row_id)).attempts == 2


async def test_discordpys_own_retry_after_a_lost_answer_does_not_double(world: World) -> None:
    """discord.py retries a 500 by itself (after 1 s); the nonce makes that retry harmless."""
    user = world.learners[0]
    world.fake.fail_next("POST", "/channels/*/messages", status=500, process=True)
    row_id = await world.remind(user, "Review [r1]")
    await eventually(lambda: _status(world, row_id, SENT), within=10)
    posts = world.fake.find_requests("POST", f"/channels/{world.fake.dm_channel_id(user)}/*")
    assert [p.status for p in posts] == [500, 200]
    assert world.delivered() == {"r1": 1}
    assert (await world.row(row_id)).attempts == 1


@pytest.mark.parametrize(
    ("status", "times", "reason"),
    [(429, 5, "429"), (503, 1, "503")],  # discord.py itself tries a 429 five times
)
async def test_rate_limits_and_server_errors_back_off(
    world: World, status: int, times: int, reason: str
) -> None:
    user = world.learners[0]
    world.fake.fail_next("POST", "/channels/*/messages", status=status, times=times)
    row_id = await world.remind(user, "Review [r1]")
    other = await world.remind(world.learners[1], "Review [r2]", due_in=0.5)
    await eventually(lambda: _status(world, row_id, SENT))
    await eventually(lambda: _status(world, other, SENT))

    failed, *rest = world.sender.attempts
    assert isinstance(failed.error, TryLater) and reason in failed.error.reason
    retry = next(a for a in rest if a.delivery.item.id == row_id)
    assert retry.at - failed.at >= timedelta(seconds=2)  # backoff(1)
    # The whole dispatcher paused: the next row, due half a second later, waited too.
    (next_row,) = [a for a in rest if a.delivery.item.id == other]
    assert next_row.at - failed.at >= timedelta(seconds=2)
    assert world.delivered() == {"r1": 1, "r2": 1}
    assert (await world.row(row_id)).attempts == 2


async def test_cancelling_the_dispatcher_at_random_points_delivers_each_once(
    world: World,
) -> None:
    """1,000 reminders due; the dispatcher is cancelled at random moments and restarted."""
    rng = random.Random(20260302)
    await world.bot.dispatcher.stop(grace=0)
    learners = await learner_ids(world.services, world.learners[:3])
    tags = await insert_due(world.services, learners, 1000, world.vt())
    restarts = 0
    while await count_rows(world.services, PENDING) and restarts < 60:
        dispatcher = world.new_dispatcher()
        dispatcher.start()
        await asyncio.sleep(rng.uniform(0.0, 0.15))
        await dispatcher.stop(grace=0)  # a hard cancel, wherever it is
        restarts += 1
    dispatcher = world.new_dispatcher()
    dispatcher.start()
    await eventually(lambda: _none_pending(world), within=30)
    await dispatcher.stop()

    assert world.delivered() == Counter(dict.fromkeys(tags, 1))
    assert await count_rows(world.services, SENT) == 1000
    assert restarts >= 5  # it really was interrupted, many times
    # Some cancels fell between a send and its mark (seen: 28 to 61 a run): those rows were sent
    # again with their nonce, and Discord answered with the message it had already made.
    nonces = Counter(p.json["nonce"] for p in world.fake.find_requests("POST", "/channels/*"))
    assert sum(1 for n in nonces.values() if n > 1) > 0


async def _status(world: World, row_id: int, status: str) -> bool:
    return (await world.row(row_id)).status == status


async def _none_pending(world: World) -> bool:
    return await count_rows(world.services, PENDING) == 0
