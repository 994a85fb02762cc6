"""The outbox dispatcher: one loop per process that sends what the outbox says is due.

The loop (`Dispatcher`)
  Sleeps until the earliest claimable row, at most `MAX_SLEEP` (5 min); `notify(due_at)` wakes
  it early when a row is enqueued for before the moment it sleeps until (OutboxService calls it
  for rows enqueued in this process; on PostgreSQL a LISTEN connection calls it for rows any
  process enqueues, bot/services/outbox_wakeups.py). There is no fixed polling interval.
  Awake, it claims due rows under a `LEASE` (60 s), sends them at most `send_rate` requests a
  second (`Pacer`, a per-process cap, by default bot.config.OUTBOX_SEND_RATE against Discord's
  50/s for the whole bot, shared by its workers; opening a DM channel counts too), up to
  `MAX_IN_FLIGHT` at once, and marks each sent. The bot starts it once connected and stops it
  on close: nothing new is claimed and sends in flight get `STOP_GRACE` (5 s) to finish.

Never lost, never doubled
  Every row has a nonce, sent with discord.py's `enforce_nonce`. A row whose dispatcher died
  between sending and marking is claimed again when its lease ends and re-sent with the same
  nonce: Discord answers with the message it already made. That holds while the retry falls in
  Discord's nonce window (a few minutes), which the 60 s lease keeps for crashes; a process down
  for longer than the window may repeat the few rows it had in flight when it died.
  discord.py itself retries 429s and 500/502/504 with the same body (same nonce), so its
  retries cannot double-send either; each send is cut off after `SEND_TIMEOUT`, well inside
  the lease. A request or transaction that has begun is finished even if the loop is
  cancelled (`finish_anyway`), so a hard stop leaves neither discord.py nor SQLite stuck.

Failures (docs/architecture.md, "The outbox": a 403 is never retried)
  - 403 on a DM (50007): the learner is marked `dm_unreachable` and the row goes to their
    server's reminder channel with a mention of that learner only. The DM is not tried again
    (not for this row, nor for later ones until the learner has been told, see below).
  - No usable channel either: the row fails with `NO_ROUTE`; `OutboxService.unreachable_notice`
    gives adapters the sentence to show the learner at their next interaction.
  - 403 (50013, 50001) or 404 on a channel: logged; if it is the server's reminder channel, it
    is marked broken and the moderators are told once (a DM to the server owner, else a post in
    the system channel); it is not used again until a moderator chooses a channel.
  - 429, 5xx, network errors, timeouts: the row is retried after `backoff(attempts)` (2 s
    doubling, capped at 15 min) and the whole dispatcher pauses sending for as long; after
    `MAX_ATTEMPTS` claims the row fails.
  - Anything else Discord refuses (400s): the row fails with Discord's reason.
  - A renderer with nothing to say (`NothingToSend`: an empty digest, a paused drill) is no
    failure: the row is cancelled with its reason.

Late rows
  A row that fell due while this process was not running (due before it started, and more than
  `LATE_AFTER` ago) is sent with "sent late: the bot was offline" appended. Past its kind's
  cut-off in `FOLD_AFTER` (digest: 6 h; the next day's digest covers what it said) a late row
  is cancelled as folded instead. Kinds without a cut-off are always sent.

Extension point: rendering a kind
  `Renderers` maps a row's `kind` to a function `OutboxItem -> Rendered` (sync or async) that
  builds the message: content, embeds, and a view (persistent buttons must be registered by
  their feature in `setup_hook`, as usual). A feature registers its kinds in its `setup(bot)`::

      bot.outbox_renderers.register("digest", render_digest)

  Kinds nobody registered are sent as their payload says: `{"content": str, "embeds": [...]}`
  (embed dicts). Renderers decide what the message says; the dispatcher decides who gets it,
  the mention, the late note and `allowed_mentions` (nobody, except the learner it falls back
  for), so text from users or content cannot ping anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from bot.config import OUTBOX_SEND_RATE
from bot.services.outbox import NO_ROUTE, OutboxItem, OutboxService
from bot.services.outbox_wakeups import WakeupListener

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
SEND_TIMEOUT = 30.0
MAX_SLEEP = 300.0
MIN_SLEEP = 0.05  # after an empty claim with work due (rows another worker holds)
ERROR_PAUSE = 5.0
STOP_GRACE = 5.0
MAX_IN_FLIGHT = 8
MAX_BATCH = 100
BACKOFF_BASE = 2.0
BACKOFF_CAP = 15 * 60.0
MAX_ATTEMPTS = 12
LATE_AFTER = timedelta(minutes=1)
LATE_NOTE = "-# sent late: the bot was offline"
FOLD_AFTER: Mapping[str, timedelta] = {"digest": timedelta(hours=6)}
MESSAGE_LIMIT = 2000

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before retry number `attempts`: 2, 4, 8 ... capped; at least Discord's wish."""
    delay = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(max(delay, retry_after or 0.0), BACKOFF_CAP)


def retrieve_exception(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # nobody may be waiting any more; don't warn about it


async def finish_anyway(work: Awaitable[T]) -> T:
    """Run a request or a transaction to its end even if the caller is cancelled meanwhile.

    Cancelled midway, discord.py can leave the route's rate-limit bucket locked (the next send
    to that channel waits 30 s), and an SQLite transaction leaves its connection holding the
    write lock (every writer waits out the busy timeout). The cancelled caller loses nothing:
    a claimed row keeps its lease and its retry carries the same nonce.
    """
    task = asyncio.ensure_future(work)
    task.add_done_callback(retrieve_exception)
    return await asyncio.shield(task)


# -- what the dispatcher asks of a sender ------------------------------------------------


class DeliveryError(Exception):
    """A send failed; `reason` goes into the row's `last_error`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Undeliverable(DeliveryError):
    """Retrying will not help: the row fails."""


class NothingToSend(DeliveryError):
    """The renderer has nothing to say this time (a digest with nothing due): the row is
    cancelled with the reason, not counted as a failed delivery."""


class DmClosed(Undeliverable):
    """The learner does not accept DMs from the bot (403/50007)."""


class ChannelUnusable(Undeliverable):
    """The bot cannot post in the channel (403/50013, 50001) or it is gone (404)."""


class TryLater(DeliveryError):
    """Rate limited, Discord trouble or network trouble: retry after a back-off."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


async def _no_wait() -> None:
    return None


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a row: the row, how to dress it, and `pace`, which a sender
    awaits before any request beyond the message itself (opening a DM), so those count
    against the send rate too."""

    item: OutboxItem
    late: bool = False
    mention: int | None = None  # the learner, when posting in a server channel
    dms_closed: bool = False  # say why it is in the channel
    pace: Callable[[], Awaitable[None]] = _no_wait


class Sender(Protocol):
    async def send_dm(self, user_id: int, delivery: Delivery) -> None: ...

    async def send_to_channel(self, channel_id: int, delivery: Delivery) -> None: ...

    async def tell_moderators(self, guild_id: int, text: str) -> bool: ...


class DeliveryObserver(Protocol):
    """Told how each attempt ended, for the metrics (bot.metrics.Metrics); a failure's reason
    is `failure_reason`'s word or "gave_up" (too many attempts)."""

    def outbox_sent(self, kind: str, lateness: float) -> None: ...

    def outbox_failed(self, kind: str, reason: str) -> None: ...

    def outbox_retried(self, kind: str) -> None: ...


class _Unobserved:
    def outbox_sent(self, kind: str, lateness: float) -> None:
        pass

    def outbox_failed(self, kind: str, reason: str) -> None:
        pass

    def outbox_retried(self, kind: str) -> None:
        pass


def failure_reason(exc: Undeliverable) -> str:
    """Why a row failed, in one word: no route to the learner (DMs closed, no usable
    reminder channel), a channel the bot cannot post in, or Discord refused the message."""
    if isinstance(exc, ChannelUnusable):
        return "channel"
    return "no_route" if exc.reason == NO_ROUTE else "refused"


# -- pacing ------------------------------------------------------------------------------


class Pacer:
    """At most `rate` sends a second, evenly spaced; `pause` holds every send back."""

    def __init__(self, rate: float, clock: Clock, sleep: Sleep) -> None:
        if rate <= 0:
            raise ValueError("send rate must be positive")
        self.interval = timedelta(seconds=1 / rate)
        self._clock = clock
        self._sleep = sleep
        self._next: datetime | None = None
        self.paused_until: datetime | None = None

    async def wait(self) -> None:
        now = self._clock()
        slot = max(t for t in (now, self._next, self.paused_until) if t is not None)
        self._next = slot + self.interval
        delay = (slot - now).total_seconds()
        if delay > 0:
            await self._sleep(delay)

    def pause(self, seconds: float) -> None:
        until = self._clock() + timedelta(seconds=seconds)
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until


# -- the loop ----------------------------------------------------------------------------


class Dispatcher:
    """Claims due outbox rows and delivers them through a `Sender`; see the module docstring."""

    def __init__(
        self,
        outbox: OutboxService,
        sender: Sender,
        *,
        send_rate: float = OUTBOX_SEND_RATE,
        lease: timedelta = LEASE,
        max_sleep: float = MAX_SLEEP,
        max_in_flight: int = MAX_IN_FLIGHT,
        fold_after: Mapping[str, timedelta] = FOLD_AFTER,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        observer: DeliveryObserver | None = None,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.observer: DeliveryObserver = observer or _Unobserved()
        self.clock = clock or outbox.clock
        self.lease = lease
        self.send_timeout = min(SEND_TIMEOUT, lease.total_seconds() / 2)
        # A batch must be sent well within its lease: half the time left after a slow send.
        usable = lease.total_seconds() - self.send_timeout
        self.batch = max(1, min(MAX_BATCH, int(send_rate * usable / 2)))
        self.max_sleep = max_sleep
        self.max_in_flight = max_in_flight
        self.fold_after = fold_after
        self.pacer = Pacer(send_rate, self.clock, sleep)
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._target: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        # PostgreSQL: rows other processes enqueue wake this loop too (outbox_wakeups.py).
        self.wakeups = WakeupListener(outbox.engine, self.notify) if outbox.shared else None
        self._listening: asyncio.Task[None] | None = None
        self._stopping = False
        self.started_at: datetime | None = None
        self._sent: list[int] = []
        self._marking: asyncio.Future[None] | None = None
        self._ops: set[asyncio.Future[Any]] = set()  # database work under way

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop (again after a stop); a no-op while it runs."""
        if self.running:
            return
        self._stopping = False
        self.started_at = self.clock()
        self.outbox.subscribe(self.notify)
        if self.wakeups is not None:
            if self._listening is not None:  # the loop ended without stop(): one listener only
                self._listening.cancel()
            self._listening = asyncio.create_task(self.wakeups.run(), name="outbox-wakeups")
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Claim nothing more, let sends in flight finish for `grace` seconds, then cancel.

        Whatever was cancelled keeps its lease and is sent (same nonce) after it ends. Returns
        once the database work already begun is done (at most `STOP_GRACE` more).
        """
        task, self._task = self._task, None
        self.outbox.unsubscribe(self.notify)
        listening, self._listening = self._listening, None
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._ops:
            await asyncio.wait(self._ops, timeout=STOP_GRACE)

    def notify(self, due_at: datetime) -> None:
        """A row is due at `due_at`: wake up if that is before the current sleep ends."""
        if self._target is None or due_at < self._target:
            self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._round()
            except Exception:
                log.exception("outbox: a dispatch round failed; trying again in %ss", ERROR_PAUSE)
                await self._idle(ERROR_PAUSE)

    async def _round(self) -> None:
        self._wake.clear()
        if self._marking is not None and not self._marking.done():
            await asyncio.shield(self._marking)  # claim only once what was sent is marked
        now = self.clock()
        items = await self._db(self._claim(now))
        if items:
            await self._send_batch(items)
            return
        next_due = await self._db(self.outbox.next_due(now))
        wait = self.max_sleep if next_due is None else (next_due - now).total_seconds()
        await self._idle(min(max(wait, MIN_SLEEP), self.max_sleep))

    async def _claim(self, now: datetime) -> list[OutboxItem]:
        items = await self.outbox.claim_due(now, self.batch, self.lease)
        if items and self._stopping:  # stopped meanwhile: give them back rather than strand them
            await self.outbox.release([i.id for i in items])
            return []
        return items

    def _db(self, work: Awaitable[T]) -> asyncio.Future[T]:
        """Database work that runs to its end even if the loop is cancelled (`finish_anyway`)."""
        task = asyncio.ensure_future(work)
        self._ops.add(task)
        task.add_done_callback(self._ops.discard)
        task.add_done_callback(retrieve_exception)
        return asyncio.shield(task)

    async def _idle(self, seconds: float) -> None:
        self._target = self.clock() + timedelta(seconds=seconds)
        try:
            if self._wake.is_set():
                return
            sleeper = asyncio.ensure_future(self._sleep(seconds))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
        finally:
            self._target = None

    async def _send_batch(self, items: Sequence[OutboxItem]) -> None:
        slots = asyncio.Semaphore(self.max_in_flight)
        async with asyncio.TaskGroup() as group:
            for index, item in enumerate(items):
                await slots.acquire()
                await self.pacer.wait()
                too_late = self.clock() + timedelta(seconds=self.send_timeout) >= item.lease_until
                if self._stopping or too_late:
                    slots.release()
                    rest = [i.id for i in items[index:]]
                    await self._db(self.outbox.release(rest, not_before=self.pacer.paused_until))
                    return
                group.create_task(self._deliver(item, slots), name=f"outbox-send-{item.id}")

    async def _deliver(self, item: OutboxItem, slots: asyncio.Semaphore) -> None:
        try:
            await self._attempt(item)
        except Exception:
            # Only the database can fail here; the lease runs out and the row is tried again.
            log.exception("outbox: could not record the outcome of row %s", item.id)
        finally:
            slots.release()

    async def _attempt(self, item: OutboxItem) -> None:
        now = self.clock()
        cutoff = self.fold_after.get(item.kind)
        if cutoff is not None and now - item.due_at > cutoff:
            reason = f"folded: {item.kind} was due {item.due_at:%Y-%m-%d %H:%M} UTC, past the "
            reason += f"{cutoff} cut-off; the next one covers it"
            await self._db(self.outbox.cancel(item.id, reason=reason))
            return
        if item.attempts > MAX_ATTEMPTS:
            error = f"gave up after {MAX_ATTEMPTS} attempts; last: {item.last_error}"
            await self._db(self.outbox.mark_failed(item.id, error, None))
            self.observer.outbox_failed(item.kind, "gave_up")
            return
        late = self._fell_due_while_offline(item, now)
        try:
            async with asyncio.timeout(self.send_timeout):
                await self._route(item, late)
        except NothingToSend as exc:
            await self._db(self.outbox.cancel(item.id, reason=exc.reason))
        except Undeliverable as exc:
            log.info("outbox: row %s (%s) failed: %s", item.id, item.kind, exc.reason)
            await self._db(self.outbox.mark_failed(item.id, exc.reason, None))
            self.observer.outbox_failed(item.kind, failure_reason(exc))
        except (TryLater, TimeoutError) as exc:
            await self._retry_later(item, exc)
        except Exception as exc:
            log.exception("outbox: row %s (%s) hit a bug", item.id, item.kind)
            await self._retry_later(item, TryLater(f"error: {exc!r}"[:500]))
        else:
            self._mark_sent(item.id)
            lateness = (self.clock() - item.due_at).total_seconds()
            self.observer.outbox_sent(item.kind, lateness)

    def _mark_sent(self, row_id: int) -> None:
        """Group commit: rows sent while one write is under way are marked by the next.

        At a few sends a second that is one row a write; in a burst it saves a transaction a
        message. The writer is a task of its own, so cancelling the loop does not stop it.
        """
        self._sent.append(row_id)
        if self._marking is None or self._marking.done():
            self._marking = self._db(self._write_marks())

    async def _write_marks(self) -> None:
        while self._sent:
            rows, self._sent = self._sent, []
            try:
                await self.outbox.mark_sent(*rows)
            except Exception:
                log.exception(
                    "outbox: could not mark %d rows sent; their leases run out and they are "
                    "sent again with their nonces",
                    len(rows),
                )

    def _fell_due_while_offline(self, item: OutboxItem, now: datetime) -> bool:
        started = self.started_at
        return started is not None and item.due_at < started and now - item.due_at >= LATE_AFTER

    async def _retry_later(self, item: OutboxItem, exc: TryLater | TimeoutError) -> None:
        if isinstance(exc, TryLater):
            reason, retry_after = exc.reason, exc.retry_after
        else:
            reason, retry_after = f"no answer from Discord within {self.send_timeout:g}s", None
        delay = backoff(item.attempts, retry_after)
        self.pacer.pause(delay)
        log.warning("outbox: row %s: %s; retrying in %.0fs", item.id, reason, delay)
        retry_at = self.clock() + timedelta(seconds=delay)
        await self._db(self.outbox.mark_failed(item.id, reason, retry_at))
        self.observer.outbox_retried(item.kind)

    async def _route(self, item: OutboxItem, late: bool) -> None:
        """Deliver to the row's channel, or to its learner: DM first, or their server's
        reminder channel first if they chose that; a 50007 moves on to the channel."""
        if item.channel_id is not None:
            await self._post(item, item.channel_id, Delivery(item, late))
            return
        learner = item.recipient
        if learner is None:
            raise Undeliverable("the row names neither a learner nor a channel")
        dms_closed = learner.dm_unreachable
        for way in ("dm", "server") if learner.prefers_dm else ("server", "dm"):
            if way == "dm" and not dms_closed:
                try:
                    delivery = Delivery(item, late, pace=self.pacer.wait)
                    await self.sender.send_dm(learner.discord_id, delivery)
                    return
                except DmClosed as exc:
                    log.info("outbox: learner %s has DMs closed (%s)", learner.learner_id, exc)
                    await self._db(self.outbox.mark_dm_unreachable(learner.learner_id))
                    dms_closed = True
            elif way == "server" and item.guild_id is not None:
                chosen = await self._db(self.outbox.reminder_channel(item.guild_id))
                if chosen is None or not chosen.usable:
                    continue
                delivery = Delivery(item, late, mention=learner.discord_id, dms_closed=dms_closed)
                with contextlib.suppress(ChannelUnusable):
                    await self._post(item, chosen.channel_id, delivery)
                    return
        raise Undeliverable(NO_ROUTE)

    async def _post(self, item: OutboxItem, channel_id: int, delivery: Delivery) -> None:
        try:
            await self.sender.send_to_channel(channel_id, delivery)
        except ChannelUnusable as exc:
            log.warning("outbox: cannot post in channel %s: %s", channel_id, exc.reason)
            await self._channel_broke(item.guild_id, channel_id, exc.reason)
            raise

    async def _channel_broke(self, guild_id: int | None, channel_id: int, reason: str) -> None:
        """Stop using the server's reminder channel; the call that breaks it tells the mods."""
        if guild_id is None or not await self._db(
            self.outbox.mark_channel_broken(guild_id, channel_id)
        ):
            return
        text = (
            f"I can no longer post reminders in <#{channel_id}> ({reason}). Learners whose "
            "direct messages are closed get no reminders until a moderator chooses a channel "
            "I can write in, with `/server reminders channel:`."
        )
        try:
            told = await self.sender.tell_moderators(guild_id, text)
        except Exception:
            log.exception("outbox: could not tell the moderators of guild %s", guild_id)
            return
        if not told:
            log.warning("outbox: found no way to tell the moderators of guild %s", guild_id)
