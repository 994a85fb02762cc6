"""The chunker on hand-picked cases: rendering for Discord and where it cuts."""

from __future__ import annotations

from bot.config import default_course_dir
from content.chunker import (
    DEFAULT_TARGET,
    EMBED_LIMIT,
    PSEUDO_HEADING,
    chunk_markdown,
    display_width,
    fence_block,
    measure,
)
from content.model import Chunk
from content.reader import part_chunks
from content.store import CourseStore


def test_short_text_is_one_chunk_as_written() -> None:
    text = "Some *text*.\n\n- a list\n- of two\n"
    assert chunk_markdown(text) == ["Some *text*.\n\n- a list\n- of two"]


def test_default_sizes_are_one_phone_screen_within_an_embed() -> None:
    assert EMBED_LIMIT == 4096
    assert DEFAULT_TARGET + 200 <= 2000  # also fits plain content, with room for a label


def test_sizes_count_utf16_units_like_discord() -> None:
    assert measure("abc") == 3
    assert measure("é") == 1
    assert measure("🎯") == 2


def test_display_width_of_cjk_emoji_and_zero_width_characters() -> None:
    assert display_width("abc") == 3
    assert display_width("日本") == 4
    assert display_width("🎯") == 2
    assert display_width("a\u200bb") == 2
    assert display_width("e\u0301") == 1  # e and a combining accent
    assert display_width("👨\u200d👩\u200d👧") == 2  # one family emoji


def test_paragraphs_fill_chunks_up_to_the_target() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 30 for n in range(20)]
    chunks = chunk_markdown("\n\n".join(paragraphs), target=500, limit=1000)
    assert len(chunks) > 1
    assert all(measure(chunk) <= 500 for chunk in chunks)
    assert all(chunk.startswith("Paragraph") for chunk in chunks)  # cut between paragraphs
    assert all(measure(chunk) >= 250 for chunk in chunks[:-1])  # and at least half full


def test_an_oversized_fence_is_cut_by_lines_and_refenced_with_the_same_fence() -> None:
    code = "\n".join(f"line {n}" for n in range(200))
    chunks = chunk_markdown(
        f"Intro.\n\n````py title\n{code}\n````\n\nAfter.", target=400, limit=800
    )
    middle = next(chunk for chunk in chunks if "line 100\n" in chunk)
    assert middle.startswith("````py title\n") and middle.endswith("\n````")
    lines = [line for chunk in chunks for line in chunk.split("\n") if line.startswith("line ")]
    assert lines == code.split("\n")


def test_a_tilde_fence_is_reopened_with_tildes() -> None:
    code = "\n".join(f"x{n}" for n in range(100))
    chunks = chunk_markdown(f"~~~~\n{code}\n~~~~", target=100, limit=300)
    assert len(chunks) > 1
    assert all(chunk.startswith("~~~~\n") and chunk.endswith("\n~~~~") for chunk in chunks)


def test_an_unclosed_fence_is_closed() -> None:
    assert chunk_markdown("Text.\n\n```sh\necho hi\n\n") == ["Text.\n\n```sh\necho hi\n```"]


def test_a_fence_in_a_quote_is_reopened_inside_the_quote() -> None:
    code = "\n".join(f"> line {n}" for n in range(60))
    chunks = chunk_markdown(f"> ```sh\n{code}\n> ```", target=200, limit=400)
    assert len(chunks) > 1
    assert all(chunk.startswith("> ```sh\n") and chunk.endswith("\n> ```") for chunk in chunks)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    word = "🐳" * 3000  # 6000 UTF-16 units
    chunks = chunk_markdown(word, target=1800, limit=4096)
    assert "".join(chunks) == word
    assert all(measure(chunk) <= 4096 for chunk in chunks)


def test_a_word_longer_than_the_target_but_within_the_limit_stays_whole() -> None:
    url = "https://example.com/" + "a" * 2500
    assert url in chunk_markdown(f"See {url} now.")


def test_a_long_prose_line_is_wrapped_at_spaces() -> None:
    line = " ".join(f"w{n}" for n in range(2000))
    chunks = chunk_markdown(line, target=300, limit=600)
    assert all(measure(chunk) <= 300 for chunk in chunks)
    assert " ".join(chunks).split() == line.split()


def test_a_heading_stays_with_what_follows_it() -> None:
    text = "word " * 70 + "\n\n### Next\n\n" + "more " * 70
    chunks = chunk_markdown(text, target=400, limit=800)
    assert [chunk.split("\n")[0] for chunk in chunks] == ["word " * 69 + "word", "### Next"]


def test_a_line_ending_with_a_colon_stays_with_what_it_introduces() -> None:
    text = "word " * 60 + "\n\nRun this:\n\n```sh\n" + "echo hi\n" * 12 + "```"
    chunks = chunk_markdown(text, target=400, limit=800)
    assert chunks[-1].startswith("Run this:\n\n```sh")


def test_tables_become_aligned_monospace_blocks() -> None:
    text = (
        "| Name | 名前 | Mark |\n|:---|:---:|---:|\n"
        "| `docker run` | 日本語 | 🎯 |\n| [docs](https://docs.docker.com) | b | ok |\n"
    )
    [chunk] = chunk_markdown(text)
    lines = chunk.split("\n")
    assert lines[0] == lines[-1] == "```"
    first = "docs (https://docs.docker.com)"  # the widest cell of the first column
    assert lines[1:6] == [
        f"{'Name':<30} |  名前  | Mark",  # centred: 名前 is four columns wide
        f"{'-' * 30}-+-{'-' * 6}-+-{'-' * 4}",
        f"{'docker run':<30} | 日本語 |   🎯",  # right-aligned: 🎯 is two columns
        f"{first} |   b    |   ok",
        "```",
    ]
    bars = {
        tuple(display_width(line[:at]) for at, char in enumerate(line) if char in "|+")
        for line in lines[1:5]
    }
    assert bars == {(31, 40)}  # the separators line up on screen


def test_a_long_table_repeats_its_header_in_every_chunk() -> None:
    rows = "\n".join(f"| row {n} | value {n} |" for n in range(60))
    chunks = chunk_markdown(f"| Key | Value |\n|---|---|\n{rows}", target=300, limit=600)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.split("\n")[1].startswith("Key")
        assert chunk.endswith("\n```")


def test_comments_go_and_details_show_their_summary() -> None:
    text = "### Q\n<!-- id: p01-x -->\n\n<details>\n<summary>Answer</summary>\n\nB\n\n</details>"
    assert chunk_markdown(text) == ["### Q\n\n**Answer**\n\nB"]


def test_indented_code_is_fenced_for_discord() -> None:
    assert chunk_markdown("Run:\n\n    make all\n      echo ok\n") == [
        "Run:\n\n```\nmake all\n  echo ok\n```"
    ]


def test_nothing_visible_gives_no_chunk() -> None:
    assert chunk_markdown("\u200b\n\n \u2060 \n\n") == []


def test_fence_block_picks_a_fence_its_code_cannot_close() -> None:
    assert fence_block("print(1)\n", "py") == "```py\nprint(1)\n```"
    assert fence_block("```\nx\n```", "md").startswith("````md\n")


def test_a_chunk_knows_its_place() -> None:
    chunk = Chunk("text", part=5, section="Deep Dive", index=4, total=12)
    assert chunk.label == "Part 5 · Deep Dive · 4/12"


def test_a_bold_pseudo_heading_stays_with_what_follows_across_the_course() -> None:
    """`**2. One layer, several names.**` alone at the end of a chunk, its body on the next
    screen, reads like a lost heading: every shipped chunk keeps it with its body."""
    course = CourseStore(default_course_dir()).course
    stranded = [
        chunk.label
        for part in course.parts.values()
        for chunk in part_chunks(part)
        if PSEUDO_HEADING.fullmatch(
            next((ln.strip() for ln in reversed(chunk.text.splitlines()) if ln.strip()), "")
        )
    ]
    assert stranded == []
