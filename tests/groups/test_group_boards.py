"""Leaderboards and the weekly note: parts done on the group's track, quiz points."""

from __future__ import annotations

from bot.services import Services
from bot.services.moderators import Member
from tests.groups.support import ANA, BEN, CAT, OWNER, SERVER, Clock


async def _group(services: Services, name: str, owner: int, *others: int, track: str) -> int:
    group = await services.groups.create(SERVER, owner, name, track=track)
    await services.groups.place(group.id, channel_id=1, thread_id=100 + group.id, join_message_id=2)
    for user in others:
        await services.groups.join(SERVER, group.id, user)
    return group.id


async def _quiz_points(services: Services, group_id: int, user: int, *, right: bool) -> None:
    live = await services.group_quizzes.start(SERVER, group_id, user, part=1, count=1)
    question = live.question
    wrong = next(c.letter for c in question.choices if c.letter != question.correct)
    letter = question.correct if right else wrong
    await services.group_quizzes.answer(SERVER, live.quiz_id, 0, user, str(letter))
    await services.group_quizzes.close(live.quiz_id, 0, end=True)


async def test_group_leaderboard_counts_track_parts_and_quiz_points(
    services: Services, learners: list[int]
) -> None:
    owls = await _group(services, "Owls", OWNER, ANA, BEN, track="performance")
    for part in (0, 1, 2):  # Part 2 is not on the performance track
        await services.reading.finish(ANA, part, confirmed=True)
    await services.reading.finish(BEN, 0, confirmed=True)
    await _quiz_points(services, owls, BEN, right=True)
    await _quiz_points(services, owls, ANA, right=False)
    group, standings = await services.group_boards.leaderboard(SERVER, owls)
    assert group.name == "Owls"
    table = [(s.user_id, s.parts_done, s.quiz_points) for s in standings]
    assert table == [(BEN, 1, 1000), (ANA, 2, 0), (OWNER, 0, 0)]


async def test_the_server_board_ranks_groups_by_parts_per_member(
    services: Services, learners: list[int]
) -> None:
    owls = await _group(services, "Owls", OWNER, ANA, track="complete")
    larks = await _group(services, "Larks", BEN, CAT, track="complete")
    await services.reading.finish(ANA, 0, confirmed=True)
    for user in (BEN, CAT):
        await services.reading.finish(user, 0, confirmed=True)
        await services.reading.finish(user, 1, confirmed=True)
    await _quiz_points(services, owls, OWNER, right=True)
    board = await services.group_boards.server_board(SERVER)
    assert [(g.name, g.members, g.parts_done, g.quiz_points) for g in board] == [
        ("Larks", 2, 4, 0),
        ("Owls", 2, 1, 1000),
    ]
    assert board[0].parts_per_member == 2.0
    await services.groups.disband(SERVER, larks, Member(BEN))
    assert [g.group_id for g in await services.group_boards.server_board(SERVER)] == [owls]


async def test_the_weekly_note_says_who_finished_what_and_who_is_behind(
    services: Services, learners: list[int], clock: Clock
) -> None:
    owls = await _group(services, "Owls", OWNER, ANA, BEN, track="performance")
    await services.reading.finish(ANA, 0, confirmed=True)  # more than a week ago
    clock.advance(days=8)
    await services.reading.finish(ANA, 1, confirmed=True)
    await services.reading.finish(ANA, 3, confirmed=True)
    await services.reading.finish(BEN, 0, confirmed=True)
    report = await services.group_boards.weekly(owls)
    assert report is not None and report.group.pace == 2
    weeks = {m.user_id: m for m in report.members}
    assert [p.number for p in weeks[ANA].finished] == [1, 3]
    assert weeks[ANA].parts_done == 3
    assert weeks[ANA].next_part is not None and weeks[ANA].next_part.number == 5
    assert [p.number for p in weeks[BEN].finished] == [0]
    assert {m.user_id for m in report.behind} == {BEN, OWNER}
    await services.groups.disband(SERVER, owls, Member(OWNER))
    assert await services.group_boards.weekly(owls) is None
