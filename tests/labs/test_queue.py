"""The job queue: concurrency, first come first served, places in line, cooldown, bounds."""

from __future__ import annotations

import asyncio

import pytest

from bot.labs.queue import AlreadyQueued, CoolingDown, JobQueue, QueueFull


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_jobs_run_in_order_within_the_concurrency() -> None:
    queue = JobQueue(concurrency=2, max_waiting=5, cooldown=0)
    gates = {owner: asyncio.Event() for owner in range(1, 5)}
    started: list[int] = []
    places: dict[int, list[int]] = {owner: [] for owner in gates}
    peak = 0

    async def job(owner: int) -> None:
        nonlocal peak

        async def on_wait(place: int) -> None:
            places[owner].append(place)

        async with queue.slot(owner, on_wait):
            started.append(owner)
            peak = max(peak, queue.running)
            await gates[owner].wait()

    tasks = [asyncio.create_task(job(owner)) for owner in gates]
    await settle()
    assert started == [1, 2] and queue.waiting == 2
    assert places[3] == [1] and places[4] == [2]
    gates[2].set()
    await settle()
    assert started == [1, 2, 3]
    assert places[4] == [2, 1]  # the learner saw their place move up
    for gate in gates.values():
        gate.set()
    await asyncio.gather(*tasks)
    assert started == [1, 2, 3, 4] and peak == 2
    assert queue.running == 0 and queue.waiting == 0


async def test_the_queue_is_bounded() -> None:
    queue = JobQueue(concurrency=1, max_waiting=1, cooldown=0)
    gate = asyncio.Event()

    async def job(owner: int) -> None:
        async with queue.slot(owner):
            await gate.wait()

    tasks = [asyncio.create_task(job(1)), asyncio.create_task(job(2))]
    await settle()
    with pytest.raises(QueueFull, match="1 submissions waiting"):
        async with queue.slot(3):
            pass
    gate.set()
    await asyncio.gather(*tasks)


async def test_one_job_per_learner_and_a_cooldown_after_it() -> None:
    clock = Clock()
    queue = JobQueue(concurrency=1, max_waiting=5, cooldown=30, clock=clock)
    async with queue.slot(7):
        with pytest.raises(AlreadyQueued):
            async with queue.slot(7):
                pass
        clock.now += 100  # a long build: the cooldown counts from the result
    clock.now += 10
    with pytest.raises(CoolingDown, match="again in 20 s"):
        async with queue.slot(7):
            pass
    async with queue.slot(8):  # others are not held back
        pass
    clock.now += 21
    async with queue.slot(7):
        assert queue.running == 1


async def test_a_cancelled_wait_leaves_the_line() -> None:
    queue = JobQueue(concurrency=1, max_waiting=5, cooldown=0)
    gate = asyncio.Event()
    order: list[int] = []

    async def job(owner: int) -> None:
        async with queue.slot(owner):
            order.append(owner)
            await gate.wait()

    first = asyncio.create_task(job(1))
    second = asyncio.create_task(job(2))
    third = asyncio.create_task(job(3))
    await settle()
    second.cancel()
    await settle()
    assert queue.waiting == 1
    gate.set()
    await asyncio.gather(first, third)
    assert order == [1, 3]
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_an_error_in_the_job_frees_the_slot() -> None:
    queue = JobQueue(concurrency=1, max_waiting=5, cooldown=0)
    with pytest.raises(RuntimeError):
        async with queue.slot(1):
            raise RuntimeError("build exploded")
    assert queue.running == 0
    async with queue.slot(2):
        assert queue.running == 1
