"""What the sandbox refuses before anything runs, and the Dockerfile it actually builds.

Refused: oversized or oddly named input, a FROM (or `COPY --from`) naming an image the lab
does not allow or that is written with a variable, `ADD` of a URL, and BuildKit-only flags the
classic builder would trip on. The Dockerfile that passes is rewritten: each allowed base image
becomes the local image that stands for it, and a LABEL after each FROM marks every image and
build container of the job, so cleanup can find them even after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import UserError
from bot.labs.dockerfile import Dockerfile, Instruction, parse
from bot.labs.rules import sources
from content.lab import safe_path

JOB_LABEL = "tutor-lab.job"  # every container and image a job makes carries it
CREATED_LABEL = "tutor-lab.created"  # unix time, for the sweep
MAX_FILES = 64
_URL_PREFIXES = ("http://", "https://", "git://", "git@", "ftp://")


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
    size = sum(len(text.encode()) for text in files.values())
    if size > max_bytes:
        reasons.append(f"the files take {size // 1024} KB; the sandbox takes {max_bytes // 1024}")
    if len(files) > MAX_FILES:
        reasons.append(f"{len(files)} files; the sandbox takes {MAX_FILES}")
    reasons += [f"`{name}` is not a plain relative path" for name in files if not safe_path(name)]
    if "Dockerfile" not in files:
        reasons.append("there is no Dockerfile")
    return reasons


class _Checker:
    def __init__(self, dockerfile: Dockerfile, allowed: Mapping[str, str]):
        self.dockerfile = dockerfile
        self.allowed = {image_name(name): local for name, local in allowed.items()}
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
        if image.isdigit() and int(image) < stage:
            return True
        if image_name(image) in self.allowed:
            return True
        names = ", ".join(f"`{n}`" for n in self.allowed) or "none"
        self.refuse(instruction, f"{what} `{image}` is not allowed here (allowed: {names})")
        return False

    def check(self) -> None:
        if not self.dockerfile.stages:
            self.reasons.append("the Dockerfile has no FROM")
        for instruction in self.dockerfile.instructions:
            if instruction.stage < 0 and instruction.keyword != "ARG":
                self.refuse(instruction, "only ARG may come before the first FROM")
            keyword = instruction.keyword
            if keyword == "FROM":
                if "platform" in instruction.flags:
                    self.refuse(instruction, "`--platform` is not supported in the sandbox")
                image = self.dockerfile.stages[instruction.stage].image
                self.image_ok(instruction, image, instruction.stage, "FROM")
            elif keyword in ("COPY", "ADD") and "from" in instruction.flags:
                self.image_ok(
                    instruction, instruction.flags["from"], instruction.stage, "COPY --from"
                )
            if keyword == "ADD" and any(s.startswith(_URL_PREFIXES) for s in sources(instruction)):
                self.refuse(instruction, "`ADD <url>` is refused: the sandbox has no network")
            if keyword == "RUN" and instruction.flags:
                flags = ", ".join(f"--{name}" for name in instruction.flags)
                self.refuse(
                    instruction, f"`RUN {flags}` needs BuildKit; the sandbox's builder is classic"
                )


def rewrite(text: str, dockerfile: Dockerfile, allowed: Mapping[str, str], labels: str) -> str:
    """The Dockerfile with local image names and the job's LABEL after every FROM."""
    local = {image_name(name): ref for name, ref in allowed.items()}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    inserts: dict[int, str] = {}
    for instruction in dockerfile.instructions:
        replacement = None
        if instruction.keyword == "FROM":
            stage = dockerfile.stages[instruction.stage]
            image = local.get(image_name(stage.image), stage.image)
            replacement = f"FROM {image}" + (f" AS {stage.name}" if stage.name else "")
            inserts[instruction.end_line] = f"LABEL {labels}"
        elif instruction.keyword in ("COPY", "ADD") and "from" in instruction.flags:
            source = instruction.flags["from"]
            if image_name(source) in local and not source.isdigit():
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
    if "Dockerfile" not in files:
        raise Refused(reasons)
    dockerfile = parse(files["Dockerfile"])
    checker = _Checker(dockerfile, allowed)
    checker.check()
    reasons += checker.reasons
    if reasons:
        raise Refused(reasons)
    text = rewrite(files["Dockerfile"], dockerfile, allowed, labels)
    return Prepared(
        {**files, "Dockerfile": text},
        dockerfile,
        _bases(dockerfile, allowed),
        _final_base(dockerfile, allowed),
    )


def _final_base(dockerfile: Dockerfile, allowed: Mapping[str, str]) -> str | None:
    """The local image the final stage stands on, through any earlier stages it builds on."""
    local = {image_name(name): ref for name, ref in allowed.items()}
    stage = dockerfile.stages[-1]
    while True:
        earlier = [s for s in dockerfile.stages[: stage.index] if s.name == stage.image.lower()]
        if not earlier:
            return local.get(image_name(stage.image))
        stage = earlier[-1]


def _bases(dockerfile: Dockerfile, allowed: Mapping[str, str]) -> tuple[str, ...]:
    local = {image_name(name): ref for name, ref in allowed.items()}
    named = [stage.image for stage in dockerfile.stages]
    named += [i.flags["from"] for i in dockerfile.of("COPY", "ADD") if "from" in i.flags]
    return tuple(sorted({local[image_name(n)] for n in named if image_name(n) in local}))
