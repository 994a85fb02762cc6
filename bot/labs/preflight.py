"""What the sandbox refuses before anything runs, and the Dockerfile it actually builds.

Decided on Docker's own reading of the file (bot.labs.dockerfile wraps BuildKit's parser).
Refused: oversized or oddly named input; too many instructions; parser directives; a FROM (or
`COPY --from`) naming an image the lab does not allow or written with a variable; `ADD` of
anything but a literal local path (a URL or a variable would make the daemon fetch for the
learner); `ONBUILD`; `VOLUME` (volumes outlive the job's containers); labels in the bot's
namespace (the watchdog and the cleanup find a job by them); heredocs and other BuildKit-only
syntax the classic builder would trip on. The Dockerfile that passes is rewritten: each allowed
base image becomes the local image that stands for it, and a LABEL after each FROM marks every
image and build container of the job, so cleanup can find them even after a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import UserError
from bot.labs.dockerfile import Dockerfile, DockerfileError, Instruction, normalise, parse
from bot.labs.rules import stage_chain
from content.lab_block import safe_path

LABEL_PREFIX = "tutor-lab."  # the bot's label namespace: learners may not write in it
JOB_LABEL = LABEL_PREFIX + "job"  # every container and image a job makes carries it
CREATED_LABEL = LABEL_PREFIX + "created"  # unix time, for the sweep
MAX_FILES = 64
MAX_INSTRUCTIONS = 100  # metadata steps run no container, so only a count bounds their time
_DIRECTIVE = re.compile(r"\s*#\s*[A-Za-z][A-Za-z0-9]*\s*=")  # as Docker's directive reader
_ADD_FLAGS = {"chown", "chmod"}  # what the classic builder's ADD takes
_ODD_FLAG_VALUE = re.compile(r"[\s\"'\\$`]")


class Refused(UserError):
    """The submission cannot run; every reason is listed, with its line when it has one."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("Nothing was built:\n" + "\n".join(f"• {r}" for r in reasons))


@dataclass(frozen=True)
class Prepared:
    """A build context the sandbox may use, its Dockerfile rewritten."""

    files: Mapping[str, str]
    dockerfile: Dockerfile  # as the learner wrote it
    bases: tuple[str, ...]  # the local images it builds on, which must be present
    final_base: str | None  # the local image under the final stage; None = scratch


def image_name(reference: str) -> str:
    """`busybox` and `busybox:latest` are the same image: compare with the tag spelled out."""
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last or "@" in last else f"{reference}:latest"


def check_context(files: Mapping[str, str], max_bytes: int) -> list[str]:
    reasons = []
    try:
        size = sum(len(text.encode()) for text in files.values())
    except UnicodeEncodeError:
        return ["a file holds a character that is not valid Unicode (a lone surrogate)"]
    reasons += [f"`{name}` holds a NUL byte" for name, text in files.items() if "\x00" in text]
    if size > max_bytes:
        reasons.append(
            f"the files take {size / 1024:.1f} KB; the sandbox takes at most {max_bytes // 1024} KB"
        )
    if len(files) > MAX_FILES:
        reasons.append(f"{len(files)} files; the sandbox takes at most {MAX_FILES}")
    reasons += [f"`{name}` is not a plain relative path" for name in files if not safe_path(name)]
    if "Dockerfile" not in files:
        reasons.append("there is no Dockerfile")
    return reasons


def directive_lines(text: str, dockerfile: Dockerfile) -> list[int]:
    """Lines before the first instruction that Docker may read as parser directives."""
    first = dockerfile.instructions[0].line if dockerfile.instructions else 0
    lines = text.removeprefix("\ufeff").splitlines()[: max(first - 1, 0)]
    return [number for number, line in enumerate(lines, 1) if _DIRECTIVE.match(line)]


def label_keys(instruction: Instruction) -> list[str]:
    """The keys a LABEL sets, as written (the values come in pairs)."""
    return list(instruction.values[::2])


def plain_label(key: str) -> bool:
    """A key Docker reads as written: no quotes, escapes or variables anywhere in it (Docker
    removes quotes inside a word, so `tu"tor-lab.j"ob` is `tutor-lab.job`)."""
    bare = key[1:-1] if len(key) > 1 and key[0] == key[-1] == '"' else key
    return not any(mark in bare for mark in "\"'\\$`")


class _Checker:
    def __init__(self, dockerfile: Dockerfile, allowed: Mapping[str, str]):
        self.dockerfile = dockerfile
        self.allowed = local_images(allowed)
        self.reasons: list[str] = []

    def refuse(self, instruction: Instruction, reason: str) -> None:
        self.reasons.append(f"line {instruction.line}: {reason}")

    def image_ok(self, instruction: Instruction, image: str, stage: int, what: str) -> bool:
        earlier = {s.name for s in self.dockerfile.stages[:stage] if s.name}
        if "$" in image:
            self.refuse(instruction, f"{what} must name its image literally, not `{image}`")
            return False
        if image.lower() in earlier or image == "scratch":
            return True
        if what == "COPY --from" and image.isdigit() and int(image) < stage:
            return True
        if image_name(image) in self.allowed:
            return True
        names = ", ".join(f"`{n}`" for n in self.allowed) or "none"
        self.refuse(instruction, f"{what} `{image}` is not allowed here (allowed: {names})")
        return False

    def check(self) -> None:
        if not self.dockerfile.stages:
            self.reasons.append("the Dockerfile has no FROM")
        count = len(self.dockerfile.instructions)
        if count > MAX_INSTRUCTIONS:
            self.reasons.append(
                f"{count} instructions; the sandbox takes at most {MAX_INSTRUCTIONS}"
            )
            return
        for instruction in self.dockerfile.instructions:
            if instruction.stage < 0 and instruction.keyword != "ARG":
                self.refuse(instruction, "only ARG may come before the first FROM")
            self.check_instruction(instruction)

    def check_instruction(self, instruction: Instruction) -> None:
        keyword = instruction.keyword
        if instruction.heredoc:
            self.refuse(
                instruction, "heredocs (`<<EOF`) need BuildKit; the sandbox's builder is classic"
            )
        elif keyword == "ONBUILD":
            self.refuse(instruction, "`ONBUILD` is refused in the sandbox")
        elif keyword == "VOLUME":
            self.refuse(
                instruction,
                "`VOLUME` is refused in the sandbox (a volume outlives the job): write to /tmp",
            )
        elif keyword == "FROM":
            if "platform" in instruction.flags:
                self.refuse(instruction, "`--platform` is not supported in the sandbox")
            if len(instruction.values) not in (1, 3):
                self.refuse(instruction, "write `FROM image` or `FROM image AS name`")
            image = self.dockerfile.stages[instruction.stage].image
            self.image_ok(instruction, image, instruction.stage, "FROM")
        elif keyword == "ADD":
            self.check_add(instruction)
        elif keyword == "LABEL":
            for key in label_keys(instruction):
                name = key.strip('"')
                if not plain_label(key):
                    self.refuse(
                        instruction,
                        f"the label key `{key}` must be plain: no quotes, `\\` or `$` inside it",
                    )
                elif name.lower().startswith(LABEL_PREFIX):
                    self.refuse(instruction, f"the label `{name}` is reserved for the sandbox")
        elif keyword == "RUN" and instruction.flags:
            flags = ", ".join(f"--{name}" for name in instruction.flags)
            self.refuse(
                instruction, f"`RUN {flags}` needs BuildKit; the sandbox's builder is classic"
            )
        if keyword in ("COPY", "ADD"):
            odd = [f"--{k}" for k, v in instruction.flags.items() if _ODD_FLAG_VALUE.search(v)]
            if odd:
                self.refuse(instruction, f"give `{odd[0]}` a plain value: no quotes or spaces")
        if keyword in ("COPY", "ADD") and "from" in instruction.flags:
            self.image_ok(instruction, instruction.flags["from"], instruction.stage, "COPY --from")

    def check_add(self, instruction: Instruction) -> None:
        extra = sorted(set(instruction.flags) - _ADD_FLAGS - {"from"})
        if extra:
            self.refuse(instruction, f"`ADD --{extra[0]}` is not supported in the sandbox")
        for source in instruction.words()[:-1]:
            literal = source.strip("\"'")
            if "$" in literal or "://" in literal or not safe_path(literal.lstrip("./") or "."):
                self.refuse(
                    instruction,
                    f"`ADD {source}` is refused: ADD takes only a file of the build context "
                    "(the sandbox has no network; use COPY)",
                )
                return


def rewrite(text: str, dockerfile: Dockerfile, allowed: Mapping[str, str], labels: str) -> str:
    """The Dockerfile with local image names and the job's LABEL after every FROM."""
    local = local_images(allowed)
    lines = normalise(text).split("\n")
    inserts: dict[int, str] = {}
    for instruction in dockerfile.instructions:
        replacement = None
        earlier = {s.name for s in dockerfile.stages[: max(instruction.stage, 0)] if s.name}
        if instruction.keyword == "FROM":
            stage = dockerfile.stages[instruction.stage]
            named = stage.image.lower() in earlier  # a stage, even one named like an image
            image = stage.image if named else local.get(image_name(stage.image), stage.image)
            replacement = f"FROM {image}" + (f" AS {stage.name}" if stage.name else "")
            inserts[instruction.end_line] = f"LABEL {labels}"
        elif instruction.keyword in ("COPY", "ADD") and "from" in instruction.flags:
            source = instruction.flags["from"]
            is_image = not source.isdigit() and source.lower() not in earlier
            if is_image and image_name(source) in local:
                flags = {**instruction.flags, "from": local[image_name(source)]}
                rendered = " ".join(f"--{k}={v}" if v else f"--{k}" for k, v in flags.items())
                replacement = f"{instruction.keyword} {rendered} {instruction.args}"
        if replacement is not None:
            lines[instruction.line - 1] = replacement
            for number in range(instruction.line, instruction.end_line):
                lines[number] = ""  # keep the line count of continuations
    out: list[str] = []
    for number, line in enumerate(lines, 1):
        out.append(line)
        if number in inserts:
            out.append(inserts[number])
    return "\n".join(out)


def prepare(
    files: Mapping[str, str], allowed: Mapping[str, str], *, max_bytes: int, labels: str
) -> Prepared:
    """Check the build context and return it ready to build, or raise Refused with every reason.

    `allowed` maps each image name FROM may use to the local image that stands for it.
    """
    reasons = check_context(files, max_bytes)
    if reasons:  # too big, oddly named or unreadable: the parser never sees it
        raise Refused(reasons)
    source = normalise(files["Dockerfile"])  # checked and built as the same lines
    try:
        dockerfile = parse(source)
    except DockerfileError as exc:
        raise Refused([f"the Dockerfile cannot be read: {exc}"]) from None
    reasons += [
        f"line {n}: parser directives (`# name=value` at the top) are refused in the sandbox"
        for n in directive_lines(source, dockerfile)
    ]
    checker = _Checker(dockerfile, allowed)
    checker.check()
    reasons += checker.reasons
    if reasons:
        raise Refused(reasons)
    text = rewrite(source, dockerfile, allowed, labels)
    return Prepared(
        {**files, "Dockerfile": text},
        dockerfile,
        _bases(dockerfile, allowed),
        _final_base(dockerfile, allowed),
    )


def local_images(allowed: Mapping[str, str]) -> dict[str, str]:
    """{image name with its tag spelled out: the local image that stands for it}."""
    return {image_name(name): local for name, local in allowed.items()}


def _final_base(dockerfile: Dockerfile, allowed: Mapping[str, str]) -> str | None:
    """The local image the final stage stands on, through any earlier stages it builds on."""
    root = stage_chain(dockerfile, dockerfile.stages[-1])[-1]
    return local_images(allowed).get(image_name(root.image))


def _bases(dockerfile: Dockerfile, allowed: Mapping[str, str]) -> tuple[str, ...]:
    local = local_images(allowed)
    named = [stage.image for stage in dockerfile.stages]
    named += [i.flags["from"] for i in dockerfile.of("COPY", "ADD") if "from" in i.flags]
    return tuple(sorted({local[image_name(n)] for n in named if image_name(n) in local}))
