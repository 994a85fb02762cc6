"""A bounded first-come queue for sandbox jobs, with a per-learner cooldown.

`concurrency` jobs run at once; at most `max_waiting` wait behind them; a learner has one job at
a time and waits `cooldown` seconds between submissions. A waiting job hears its place in line
whenever it changes (1 = next), so the learner can see it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.errors import UserError

OnWait = Callable[[int], Awaitable[None]]


class QueueFull(UserError):
    def __init__(self, waiting: int) -> None:
        super().__init__(
            f"The lab queue is full ({waiting} submissions waiting). Try again in a few minutes."
        )


class CoolingDown(UserError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"One submission at a time: you can submit again in {max(1, round(seconds))} s."
        )


class AlreadyQueued(UserError):
    def __init__(self) -> None:
        super().__init__("Your previous submission is still in the sandbox: wait for its result.")


@dataclass(eq=False)
class _Ticket:
    owner: int


class JobQueue:
    def __init__(
        self,
        concurrency: int,
        max_waiting: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency, self.max_waiting, self.cooldown = concurrency, max_waiting, cooldown
        self.clock = clock
        self.running = 0
        self._waiting: deque[_Ticket] = deque()
        self._owners: set[int] = set()
        self._last: dict[int, float] = {}
        self._changed = asyncio.Event()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _admit(self, owner: int) -> None:
        if owner in self._owners:
            raise AlreadyQueued()
        last = self._last.get(owner)
        if last is not None and self.clock() - last < self.cooldown:
            raise CoolingDown(self.cooldown - (self.clock() - last))
        if self.running >= self.concurrency and len(self._waiting) >= self.max_waiting:
            raise QueueFull(len(self._waiting))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @asynccontextmanager
    async def slot(self, owner: int, on_wait: OnWait | None = None) -> AsyncIterator[None]:
        """Hold one of the running places for the body; refuses at once when it cannot queue."""
        self._admit(owner)
        ticket = _Ticket(owner)
        self._owners.add(owner)
        self._last[owner] = self.clock()
        self._waiting.append(ticket)
        started = False
        try:
            await self._wait_turn(ticket, on_wait)
            self._waiting.popleft()
            self.running += 1
            started = True
            self._notify()
            yield
        finally:
            if started:
                self.running -= 1
                self._last[owner] = self.clock()  # the cooldown counts from the result
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._owners.discard(owner)
            self._notify()

    async def _wait_turn(self, ticket: _Ticket, on_wait: OnWait | None) -> None:
        shown = None
        while not (self.running < self.concurrency and self._waiting[0] is ticket):
            changed = self._changed  # taken first: a change during on_wait still wakes us
            place = self._waiting.index(ticket) + 1
            if on_wait is not None and place != shown:
                shown = place
                await on_wait(place)
            await changed.wait()
