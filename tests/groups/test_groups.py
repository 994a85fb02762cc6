"""Study groups on the services layer: membership, management, limits, servers kept apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.errors import UserError
from bot.services import Services
from bot.services.errors import NotStarted
from bot.services.groups import WEEKLY_KIND, GroupLimits
from storage.models import OutboxMessage, ReadingProgress
from tests.groups.support import ANA, BEN, CAT, OTHER_SERVER, OWNER, SERVER, member

MOD_ROLE = 777


async def make_group(services: Services, name: str = "Night Owls", **kw: object) -> int:
    group = await services.groups.create(SERVER, OWNER, name, **kw)  # type: ignore[arg-type]
    await services.groups.place(
        group.id, channel_id=50, thread_id=60 + group.id, join_message_id=70
    )
    return group.id


async def test_create_makes_the_creator_owner_and_member_on_their_track(
    services: Services, learners: list[int]
) -> None:
    group = await services.groups.create(SERVER, OWNER, "  Night   Owls ")
    assert group.name == "Night Owls"
    assert group.owner_id == OWNER and group.members == (OWNER,)
    assert group.track.slug == "performance"  # the owner's own track
    assert group.pace == services.groups.course.study_plan.weekly_min == 2
    chosen = await services.groups.create(SERVER, ANA, "Sec crew", track="Security", pace=4)
    assert (chosen.track.slug, chosen.pace) == ("security", 4)


async def test_create_needs_a_learner_a_free_name_and_a_sane_pace(
    services: Services, learners: list[int]
) -> None:
    with pytest.raises(NotStarted):
        await services.groups.create(SERVER, 99, "Strangers")
    await services.groups.create(SERVER, OWNER, "Night Owls")
    with pytest.raises(UserError, match="already has a group called"):
        await services.groups.create(SERVER, ANA, "NIGHT OWLS")
    with pytest.raises(UserError, match="1 to 7"):
        await services.groups.create(SERVER, ANA, "Speedy", pace=9)
    # The same name is free in another server.
    other = await services.groups.create(OTHER_SERVER, ANA, "night owls")
    assert other.guild_id == OTHER_SERVER


async def test_a_server_has_at_most_max_groups(services: Services, learners: list[int]) -> None:
    services.groups.limits = GroupLimits(max_groups=2)
    await services.groups.create(SERVER, OWNER, "One")
    await services.groups.create(SERVER, ANA, "Two")
    with pytest.raises(UserError, match="2 study groups, the most"):
        await services.groups.create(SERVER, BEN, "Three")
    assert (await services.groups.create(OTHER_SERVER, BEN, "Three")).name == "Three"


async def test_join_is_once_and_up_to_the_member_limit(
    services: Services, learners: list[int]
) -> None:
    services.groups.limits = GroupLimits(max_members=3)
    group_id = await make_group(services)
    await services.groups.join(SERVER, group_id, ANA)
    with pytest.raises(UserError, match="already in"):
        await services.groups.join(SERVER, group_id, ANA)
    joined = await services.groups.join(SERVER, group_id, BEN)
    assert joined.members == (OWNER, ANA, BEN)
    with pytest.raises(UserError, match="full"):
        await services.groups.join(SERVER, group_id, CAT)


async def test_groups_of_one_server_are_invisible_in_another(
    services: Services, learners: list[int]
) -> None:
    group_id = await make_group(services)
    with pytest.raises(UserError, match="no longer exists"):
        await services.groups.join(OTHER_SERVER, group_id, ANA)  # a forged button id
    with pytest.raises(UserError, match="no longer exists"):
        await services.groups.get(OTHER_SERVER, group_id)
    assert await services.groups.listing(OTHER_SERVER) == []
    assert await services.groups.names(OTHER_SERVER, "") == []
    with pytest.raises(UserError, match="no study group by that name"):
        await services.groups.resolve(OTHER_SERVER, OWNER, name="Night Owls")
    with pytest.raises(UserError, match="not in a study group here"):
        await services.groups.resolve(OTHER_SERVER, OWNER)


async def test_resolve_by_name_thread_or_only_group(
    services: Services, learners: list[int]
) -> None:
    owls = await make_group(services)
    larks = await make_group(services, "Larks")
    await services.groups.join(SERVER, larks, ANA)
    assert (await services.groups.resolve(SERVER, ANA)).id == larks  # her only group
    assert (await services.groups.resolve(SERVER, OWNER, name="larks")).id == larks
    thread = (await services.groups.get(SERVER, owls)).thread_id
    assert (await services.groups.resolve(SERVER, OWNER, channel_id=thread)).id == owls
    with pytest.raises(UserError, match="several groups"):
        await services.groups.resolve(SERVER, OWNER)


async def test_only_owner_or_moderators_manage(services: Services, learners: list[int]) -> None:
    group_id = await make_group(services)
    await services.groups.join(SERVER, group_id, ANA)
    with pytest.raises(UserError, match="Only the owner"):
        await services.groups.rename(SERVER, group_id, member(ANA), "Ana's group")
    with pytest.raises(UserError, match="Only the owner"):
        await services.groups.rename(SERVER, group_id, member(BEN, roles=(MOD_ROLE,)), "Mods")
    with pytest.raises(UserError, match="Only moderators"):
        await services.groups.set_group_channel(SERVER, member(ANA), 555)
    await services.groups.set_group_channel(SERVER, member(OWNER, manage=True), 555)
    await services.drills.set_moderator_role(SERVER, MOD_ROLE)
    renamed = await services.groups.rename(SERVER, group_id, member(BEN, roles=(MOD_ROLE,)), "Mods")
    assert renamed.name == "Mods"
    by_admin = await services.groups.rename(SERVER, group_id, member(CAT, manage=True), "Admins")
    assert by_admin.name == "Admins"
    choices = await services.groups.server(SERVER)
    assert (choices.group_channel_id, choices.moderator_role_id) == (555, MOD_ROLE)
    # The role of one server means nothing in another.
    assert (await services.groups.server(OTHER_SERVER)).moderator_role_id is None


async def test_remove_and_transfer(services: Services, learners: list[int]) -> None:
    group_id = await make_group(services)
    await services.groups.join(SERVER, group_id, ANA)
    await services.groups.join(SERVER, group_id, BEN)
    owner = member(OWNER)
    with pytest.raises(UserError, match="hand the group over first"):
        await services.groups.remove_member(SERVER, group_id, owner, OWNER)
    removed = await services.groups.remove_member(SERVER, group_id, owner, BEN)
    assert removed.members == (OWNER, ANA)
    with pytest.raises(UserError, match="not in"):
        await services.groups.remove_member(SERVER, group_id, owner, BEN)
    with pytest.raises(UserError, match="must join first"):
        await services.groups.transfer(SERVER, group_id, owner, CAT)
    handed = await services.groups.transfer(SERVER, group_id, owner, ANA)
    assert handed.owner_id == ANA
    with pytest.raises(UserError, match="Only the owner"):
        await services.groups.rename(SERVER, group_id, owner, "Former owner")


async def test_leaving_hands_over_and_the_last_one_out_disbands(
    services: Services, learners: list[int]
) -> None:
    group_id = await make_group(services)
    await services.groups.join(SERVER, group_id, ANA)
    await services.groups.join(SERVER, group_id, BEN)
    left = await services.groups.leave(SERVER, group_id, OWNER)
    assert left.new_owner == ANA and left.group.owner_id == ANA and not left.disbanded
    with pytest.raises(UserError, match="not in"):
        await services.groups.leave(SERVER, group_id, OWNER)
    await services.groups.leave(SERVER, group_id, BEN)
    last = await services.groups.leave(SERVER, group_id, ANA)
    assert last.disbanded and last.new_owner is None
    assert await services.groups.listing(SERVER) == []


async def test_disbanding_keeps_progress_and_frees_the_name(
    services: Services, learners: list[int]
) -> None:
    group_id = await make_group(services)
    await services.groups.join(SERVER, group_id, ANA)
    await services.reading.finish(ANA, 0, confirmed=True)
    live = await services.group_quizzes.start(SERVER, group_id, ANA, part=1)
    with pytest.raises(UserError, match="Only the owner"):
        await services.groups.disband(SERVER, group_id, member(ANA))
    gone = await services.groups.disband(SERVER, group_id, member(OWNER))
    assert gone.disbanded
    assert await services.group_quizzes.current(live.quiz_id) is None  # cancelled
    report = await services.progress.report(ANA)
    assert report.parts_done == 1  # her own progress is hers
    async with services.sessions() as session:
        kept = await session.scalar(select(ReadingProgress).where(ReadingProgress.part == 0))
    assert kept is not None and kept.completed_at is not None
    again = await services.groups.create(SERVER, OWNER, "Night Owls")
    assert again.id != group_id


async def test_the_weekly_note_is_planned_for_monday_morning_in_the_owners_zone(
    services: Services, learners: list[int]
) -> None:
    group_id = await make_group(services)
    rows = await _weekly_rows(services)
    assert len(rows) == 1
    (row,) = rows
    # Monday 2026-03-02 09:00 UTC is 10:00 in Berlin: that one has just passed, so next week.
    assert row.due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    assert row.payload == {"group_id": group_id} and row.channel_id == 60 + group_id
    # After the clocks change (Berlin: 29 March), 10:00 local is 08:00 UTC.
    after = await services.groups.plan_weekly(
        await services.groups.get(SERVER, group_id), after=datetime(2026, 3, 28, tzinfo=UTC)
    )
    assert after == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    # A new owner (in UTC) gets the note at their own 10:00 (still ahead today, 09:00 UTC),
    # replacing the planned one.
    await services.groups.join(SERVER, group_id, ANA)
    handed = await services.groups.transfer(SERVER, group_id, member(OWNER), ANA)
    pending = [r for r in await _weekly_rows(services) if r.status == "pending"]
    assert [r.due_at for r in pending] == [datetime(2026, 3, 2, 10, 0, tzinfo=UTC)]
    # The row being sent asks for the next one, once however often it is retried.
    for _retry in range(2):
        await services.groups.plan_weekly(handed, after=pending[0].due_at, chained_to=pending[0].id)
    pending = [r for r in await _weekly_rows(services) if r.status == "pending"]
    assert [r.due_at.day for r in pending] == [2, 9]
    await services.groups.disband(SERVER, group_id, member(ANA))
    assert {r.status for r in await _weekly_rows(services)} == {"cancelled"}


async def _weekly_rows(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == WEEKLY_KIND)
            .order_by(OutboxMessage.id)
        )
        return list(rows)
