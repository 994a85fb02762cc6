"""OutboxService on a real database: enqueue, claim under a lease, mark, and guild settings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import Services
from bot.services.outbox import CANCELLED, FAILED, NO_ROUTE, SENT
from content.store import CourseStore
from storage.models import Learner, OutboxMessage
from tests.scheduler.helpers import VirtualTime

LEASE = timedelta(seconds=60)


@pytest.fixture
def services(
    sessions: async_sessionmaker[AsyncSession], courses: CourseStore, vt: VirtualTime
) -> Services:
    return Services(sessions=sessions, courses=courses, clock=vt)


async def make_learner(services: Services, discord_id: int = 42) -> int:
    await services.learners.start(discord_id, guild_id=7)
    async with services.sessions() as session:
        learner = await session.scalar(select(Learner).where(Learner.discord_id == discord_id))
        assert learner is not None
        return learner.id


async def test_enqueue_is_idempotent_on_its_dedupe_key(services: Services, vt: VirtualTime) -> None:
    heard: list[datetime] = []
    services.outbox.subscribe(heard.append)
    first = await services.outbox.enqueue(
        "digest", due_at=vt(), payload={"content": "a"}, dedupe_key="digest:1:2026-03-02"
    )
    again = await services.outbox.enqueue(
        "digest", due_at=vt() + LEASE, payload={"content": "b"}, dedupe_key="digest:1:2026-03-02"
    )
    other = await services.outbox.enqueue("digest", due_at=vt(), payload={"content": "c"})
    assert again == first != other
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, first)
    assert row is not None and row.payload == {"content": "a"} and row.due_at == vt()
    assert len(row.nonce) <= 25
    assert heard == [vt(), vt()]  # the duplicate woke nobody


async def test_naive_times_are_refused(services: Services) -> None:
    with pytest.raises(ValueError, match="UTC-aware"):
        await services.outbox.enqueue("reminder", due_at=datetime(2026, 3, 2, 9), payload={})


async def test_claim_takes_due_rows_once_and_an_expired_lease_again(
    services: Services, vt: VirtualTime
) -> None:
    learner = await make_learner(services)
    outbox = services.outbox
    early = await outbox.enqueue("reminder", due_at=vt(), payload={}, learner_id=learner)
    later = await outbox.enqueue(
        "reminder", due_at=vt() + timedelta(hours=1), payload={}, learner_id=learner
    )
    (item,) = await outbox.claim_due(vt(), 10, LEASE)
    assert (item.id, item.attempts, item.lease_until) == (early, 1, vt() + LEASE)
    assert item.recipient is not None and item.recipient.discord_id == 42
    assert item.guild_id == 7  # the learner's server, for the fallback
    assert await outbox.claim_due(vt(), 10, LEASE) == []  # leased
    assert await outbox.next_due(vt()) == vt() + LEASE

    vt.advance(61)
    (again,) = await outbox.claim_due(vt(), 10, LEASE)
    assert (again.id, again.attempts, again.nonce) == (early, 2, item.nonce)
    assert await outbox.mark_sent(early)
    assert await outbox.next_due(vt()) == vt() - timedelta(seconds=61) + timedelta(hours=1)
    assert not await outbox.mark_sent(early)  # only pending rows change
    assert later != early


async def test_a_retry_waits_for_its_time_and_keeps_its_due_time(
    services: Services, vt: VirtualTime
) -> None:
    outbox = services.outbox
    row_id = await outbox.enqueue("reminder", due_at=vt(), payload={})
    await outbox.claim_due(vt(), 10, LEASE)
    await outbox.mark_failed(row_id, "429", vt() + timedelta(seconds=8))
    assert await outbox.claim_due(vt() + timedelta(seconds=7), 10, LEASE) == []
    assert await outbox.next_due(vt()) == vt() + timedelta(seconds=8)
    (item,) = await outbox.claim_due(vt() + timedelta(seconds=8), 10, LEASE)
    assert (item.due_at, item.attempts, item.last_error) == (vt(), 2, "429")
    await outbox.mark_failed(row_id, "403/50035 bad", None)
    assert await outbox.next_due(vt()) is None
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, row_id)
    assert row is not None and (row.status, row.last_error) == (FAILED, "403/50035 bad")


async def test_release_gives_rows_back_uncounted(services: Services, vt: VirtualTime) -> None:
    outbox = services.outbox
    ids = [await outbox.enqueue("reminder", due_at=vt(), payload={}) for _ in range(3)]
    claimed = await outbox.claim_due(vt(), 2, LEASE)
    assert [i.id for i in claimed] == ids[:2]
    await outbox.release([i.id for i in claimed])
    again = await outbox.claim_due(vt(), 5, LEASE)
    assert sorted(i.id for i in again) == ids
    assert {i.attempts for i in again} == {1}


async def test_cancel_and_reschedule(services: Services, vt: VirtualTime) -> None:
    outbox = services.outbox
    heard: list[datetime] = []
    outbox.subscribe(heard.append)
    a = await outbox.enqueue("reminder", due_at=vt(), payload={}, dedupe_key="a")
    b = await outbox.enqueue("reminder", due_at=vt(), payload={})
    assert await outbox.cancel(dedupe_key="a", reason="learner paused")
    assert not await outbox.cancel(a)  # already cancelled
    earlier = vt() - timedelta(minutes=5)
    assert await outbox.reschedule(b, earlier)
    assert heard[-1] == earlier
    (item,) = await outbox.claim_due(vt(), 10, LEASE)
    assert (item.id, item.due_at) == (b, earlier)
    assert not await outbox.reschedule(b, vt())  # being sent right now
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, a)
    assert row is not None and (row.status, row.last_error) == (CANCELLED, "learner paused")
    with pytest.raises(ValueError):
        await outbox.cancel()


async def test_reminder_channel_breaks_once_and_a_new_choice_mends_it(
    services: Services, vt: VirtualTime
) -> None:
    outbox = services.outbox
    assert await outbox.reminder_channel(5) is None
    await outbox.set_reminder_channel(5, 100)
    chosen = await outbox.reminder_channel(5)
    assert chosen is not None and chosen.channel_id == 100 and chosen.usable
    assert not await outbox.mark_channel_broken(5, 999)  # not the chosen channel
    assert await outbox.mark_channel_broken(5, 100)
    assert not await outbox.mark_channel_broken(5, 100)  # moderators are told once
    broken = await outbox.reminder_channel(5)
    assert broken is not None and not broken.usable and broken.broken_at == vt()
    await outbox.set_reminder_channel(5, 200)
    mended = await outbox.reminder_channel(5)
    assert mended is not None and (mended.channel_id, mended.usable) == (200, True)


async def test_unreachable_notice_is_given_once_and_reopens_dms(
    services: Services, vt: VirtualTime
) -> None:
    learner = await make_learner(services)
    outbox = services.outbox
    assert await outbox.unreachable_notice(42) is None
    await outbox.mark_dm_unreachable(learner)
    for _ in range(2):
        row = await outbox.enqueue("reminder", due_at=vt(), payload={}, learner_id=learner)
        await outbox.mark_failed(row, NO_ROUTE, None)
    notice = await outbox.unreachable_notice(42)
    assert notice is not None and "2 reminders" in notice and "/server reminders" in notice
    assert await outbox.unreachable_notice(42) is None
    profile = await services.learners.profile(42)
    assert profile is not None and not profile.dm_unreachable
    assert await outbox.unreachable_notice(43) is None  # not a learner


async def test_claimed_rows_come_earliest_first_within_the_limit(
    services: Services, vt: VirtualTime
) -> None:
    outbox = services.outbox
    due = [vt() - timedelta(minutes=m) for m in (1, 30, 5, 10)]
    ids = [await outbox.enqueue("reminder", due_at=d, payload={}) for d in due]
    claimed = await outbox.claim_due(vt(), 3, LEASE)
    assert [i.id for i in claimed] == [ids[1], ids[3], ids[2]]
    await outbox.mark_sent(ids[1])
    async with services.sessions() as session:
        row = await session.get(OutboxMessage, ids[1])
    assert row is not None and row.status == SENT and row.sent_at == vt()


async def test_backlog_counts_what_waits_and_dates_the_oldest_due_row(
    services: Services, vt: VirtualTime
) -> None:
    empty = await services.outbox.backlog()
    assert (empty.pending, empty.due, empty.oldest_due) == (0, 0, None)
    old = await services.outbox.enqueue("digest", due_at=vt() - LEASE, payload={})
    await services.outbox.enqueue("digest", due_at=vt(), payload={})
    await services.outbox.enqueue("digest", due_at=vt() + LEASE, payload={})  # not due yet
    done = await services.outbox.enqueue("digest", due_at=vt() - 2 * LEASE, payload={})
    await services.outbox.mark_sent(done)
    backlog = await services.outbox.backlog()
    assert (backlog.pending, backlog.due, backlog.oldest_due) == (3, 2, vt() - LEASE)
    await services.outbox.cancel(old)
    assert (await services.outbox.backlog()).oldest_due == vt()
