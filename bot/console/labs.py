"""The console's `lab review FILE`: a Dockerfile or compose file from disk, reviewed as /lab review
does, as Markdown the console renders for the terminal."""

from __future__ import annotations

from pathlib import Path

from bot.errors import UserError
from bot.labs.review import MAX_REVIEW_CHARS, Review
from bot.services.labs import LabService

HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Suggestions"}


def read_file(name: str) -> str:
    """A file's text for the review; a clear refusal when it cannot be one."""
    path = Path(name).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_REVIEW_CHARS * 4:  # a UTF-8 character takes at most 4 bytes
            raise UserError(
                f"{name} is {size:,} bytes; the review takes {MAX_REVIEW_CHARS:,} characters."
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"There is no file {name}.") from None
    except IsADirectoryError:
        raise UserError(f"{name} is a folder: give the file in it.") from None
    except UnicodeDecodeError:
        raise UserError(f"{name} is not UTF-8 text.") from None
    except OSError as exc:
        raise UserError(f"{name} cannot be read: {exc.strerror or exc}.") from None


def review_markdown(labs: LabService, review: Review, name: str) -> str:
    lines = [f"**{review.kind} review of {name}**"]
    for severity, findings in review.grouped():
        lines.append(f"\n**{HEADINGS[severity]} ({len(findings)})**")
        for finding in findings:
            where = f"L{finding.line}"
            if finding.more_lines:
                where += ", " + ", ".join(f"L{line}" for line in finding.more_lines)
            codes = ", ".join((finding.code, *finding.also))
            lines.append(f"- {where}: {finding.fix} ({codes})")
            if finding.why:
                lines.append(f"  {finding.why}")
            label = labs.part_label(finding.part)
            if label:
                lines.append(f"  see {label}")
    if review.hidden:
        lines.append(f"\n…and {review.hidden:,} more findings not listed.")
    if not review.findings:
        lines.append("No findings.")
    if review.kind == "Dockerfile" and not review.hadolint_ran:
        lines.append(f"\n(The course's rules only: {review.note}.)")
    return "\n".join(lines)
