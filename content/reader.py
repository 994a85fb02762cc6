"""A part as a learner reads it, chunk by chunk: what the bot, the console and
`tutorbot content preview` all show.

Debug This shows each question without its answer: the article hides answers in <details>,
which Discord cannot fold, and the quiz reveals them after the learner answers.
"""

from __future__ import annotations

from content.model import Chunk, Part

QUIZ_SECTION = "Debug This"


def part_chunks(part: Part) -> tuple[Chunk, ...]:
    """Every chunk of the part in reading order, Debug This answers left out."""
    chunks: list[Chunk] = []
    for section in part.sections:
        if section.name == QUIZ_SECTION and part.questions:
            chunks.extend(_question_chunks(part))
        else:
            chunks.extend(section.chunks)
    return tuple(chunks)


def quiz_hint(part: int, command: str = "/quiz") -> str:
    """The line under each Debug This question: where to answer it (the console words it
    with its own command)."""
    return f"_Answer it in the Part {part} quiz: `{command} {part}`._"


def _question_chunks(part: Part) -> list[Chunk]:
    total = len(part.questions)
    number = part.info.number
    hint = quiz_hint(number)
    return [
        Chunk(
            text=f"### {question.title}\n\n{question.body}\n\n{hint}",
            part=number,
            section=QUIZ_SECTION,
            index=index,
            total=total,
        )
        for index, question in enumerate(part.questions, start=1)
    ]
