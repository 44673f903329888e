"""A small reader for docker/Dockerfile and .dockerignore, so tests check what Docker would do.

Only the Dockerfile features the project uses are understood: line continuations, comments,
``ARG`` before ``FROM``, named stages, ``ENV k=v`` lists, ``RUN``/``COPY`` flags and JSON
(exec form) arguments. The ``.dockerignore`` matcher follows Docker's rules: patterns are
matched against a path and each of its parents, ``**`` spans directories, a leading ``!``
re-includes, and the last matching pattern decides.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
# The PACKAGE build argument of each image (the image is named after it).
PACKAGES = [
    "souk-auth",
    "souk-catalog",
    "souk-orders",
    "souk-payments",
    "souk-notifications",
    "souk-operator",
]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with its flags (``--from=builder``) and its arguments."""

    keyword: str
    flags: dict[str, str]
    arguments: str
    line: int

    def exec_form(self) -> list[str] | None:
        """Return the JSON (exec form) argument list, or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list)
        return [str(item) for item in value]


@dataclass
class Stage:
    """A build stage: its base image, optional name and instructions."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        """Return this stage's instructions with ``keyword`` (upper case)."""
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """Return the ``ENV`` variables the stage sets (``k=v`` form only, quotes removed)."""
        values: dict[str, str] = {}
        for instruction in self.of("ENV"):
            for token in shlex.split(instruction.arguments):
                key, _, value = token.partition("=")
                values[key] = value
        return values


@dataclass
class Dockerfile:
    """A parsed Dockerfile: global ``ARG`` defaults and the stages in order."""

    global_args: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        """Return the stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def final(self) -> Stage:
        """The stage that becomes the image."""
        return self.stages[-1]


_FLAG = re.compile(r"--([a-z-]+)(?:=(\S*))?\s+")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        lines.append((start, " ".join(part for part in buffer if part)))
        buffer = []
    if buffer:
        lines.append((start, " ".join(buffer)))
    return lines


def parse_dockerfile(path: Path) -> Dockerfile:
    """Parse the Dockerfile at ``path``."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for number, line in _logical_lines(path.read_text()):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        flags: dict[str, str] = {}
        while match := _FLAG.match(rest):
            flags[match[1]] = match[2] or ""
            rest = rest[match.end() :]
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
            continue
        if keyword == "ARG" and not stages:
            key, _, default = rest.partition("=")
            global_args[key.strip()] = default.strip()
            continue
        if not stages:
            raise ValueError(f"line {number}: {keyword} before the first FROM")
        stages[-1].instructions.append(Instruction(keyword, flags, rest.strip(), number))
    return Dockerfile(global_args, stages)


def resolve(image: str, args: dict[str, str]) -> str:
    """Replace ``${NAME}``/``$NAME`` in an image reference with the ``ARG`` defaults."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), image)


def copy_sources(instruction: Instruction) -> tuple[list[str], str]:
    """Return the sources and destination of a ``COPY`` instruction."""
    parts = instruction.exec_form() or shlex.split(instruction.arguments)
    return parts[:-1], parts[-1]


# --- .dockerignore -------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    """The rules of a ``.dockerignore`` file."""

    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def load(cls, path: Path) -> DockerIgnore:
        """Read ``path``; a missing file excludes nothing."""
        rules: list[tuple[bool, re.Pattern[str]]] = []
        text = path.read_text() if path.exists() else ""
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = line[1:].strip() if include else line
            pattern = pattern.strip("/")
            rules.append((include, _pattern_regex(pattern)))
        return cls(tuple(rules))

    def excluded(self, relative: str) -> bool:
        """Return whether the file at ``relative`` (posix, from the context root) is left out."""
        parts = relative.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for include, regex in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not include
        return excluded

    def context_files(self, root: Path, source: str) -> list[str]:
        """Return the files of ``source`` (a file or folder under ``root``) in the context."""
        start = root / source
        paths = [start] if start.is_file() else sorted(start.rglob("*"))
        files: list[str] = []
        for path in paths:
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                if not self.excluded(relative):
                    files.append(relative)
        return files
