"""Reading on after a reload shortened the article: Prev and Next move from the chunk `/read`
showed, not from the stored place beyond the new end."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import Learner, ReadingProgress
from tests.admin.support import shorten_part_1
from tests.admin.test_admin_e2e import admin, footer, read_page
from tests.groups.world import World


async def test_the_first_prev_after_read_goes_back_one_chunk(
    world: World, course_dir: Path
) -> None:
    ana = world.ana
    await world.services.reading.jump(ana.id, 1, "Interview Questions")  # chunk 31 of 36
    async with world.running():
        shorten_part_1(course_dir)
        await admin(world.fake, "reload", world.a.owner, dm=True)

        shown = await read_page(world, ana)
        assert footer(shown).endswith("21/21 in this part")
        back = await world.fake.click(shown.message, f"read:{ana.id}:1:prev", user=ana)
        assert back.rejections == [] and footer(back).endswith("20/21 in this part")
        ahead = await world.fake.click(back.message, f"read:{ana.id}:1:next", user=ana)
        assert footer(ahead).endswith("21/21 in this part")


async def test_the_clamped_place_is_stored_when_read_back(world: World, course_dir: Path) -> None:
    ana, reading = world.ana, world.services.reading
    await reading.jump(ana.id, 1, "Interview Questions")
    shorten_part_1(course_dir)
    world.services.courses.reload()

    page = await reading.open(ana.id, 1)
    assert page.at_end and page.position == 20
    async with world.services.sessions() as session:
        stored = await session.scalar(
            select(ReadingProgress.position)
            .join(Learner, Learner.id == ReadingProgress.learner_id)
            .where(Learner.discord_id == ana.id, ReadingProgress.part == 1)
        )
    assert stored == page.position
