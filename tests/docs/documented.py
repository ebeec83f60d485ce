"""The commands the README and docs/ show: every shell block's commands, and every text block
that starts with `$ COMMAND` followed by that command's output.

A block a test cannot run is marked, on the line before it, with `<!-- needs: WHY -->`."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^\s*```(\w*)\s*$")
NEEDS = re.compile(r"^<!-- needs: (.+?) -->$")


@dataclass(frozen=True)
class DocumentedCommand:
    page: str  # relative to the project root
    line: int  # the line of the block's opening fence
    command: str  # as written, continuation lines joined, comments dropped
    output: tuple[str, ...] | None  # the output shown under a `$ command` line
    needs: str | None  # why a test cannot run it, from the marker before the block

    @property
    def test_id(self) -> str:
        return f"{self.page}:{self.line} {self.command[:60]}"


def _logical_lines(body: list[str]) -> list[str]:
    joined: list[str] = []
    pending = ""
    for line in body:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [shlex.join(shlex.split(line, comments=True)) for line in joined if line.strip()]


def _blocks(text: str) -> list[tuple[int, str, list[str], str | None]]:
    """(fence line, language, body lines, needs) of every fenced block of a page."""
    lines = text.split("\n")
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while FENCE.match(lines[end]) is None:
            end += 1
        before = [line for line in lines[:index] if line.strip()]
        marker = NEEDS.match(before[-1].strip()) if before else None
        body = [line.strip() for line in lines[index + 1 : end]]
        blocks.append((index + 1, opening.group(1), body, marker.group(1) if marker else None))
        index = end + 1
    return blocks


def documented_commands() -> list[DocumentedCommand]:
    found = []
    for page in PAGES:
        name = str(page.relative_to(PROJECT_ROOT))
        for line, language, body, needs in _blocks(page.read_text()):
            if language in SHELL_LANGUAGES:
                found += [
                    DocumentedCommand(name, line, command, None, needs)
                    for command in _logical_lines(body)
                    if command  # a block of comments and settings alone runs nothing
                ]
            elif body and body[0].startswith("$ "):
                output = tuple(raw for raw in _raw_output(page, line))
                found.append(DocumentedCommand(name, line, body[0][2:], output, needs))
    return found


def _raw_output(page: Path, fence_line: int) -> list[str]:
    """The output lines under the `$` line, indentation kept (it is part of the shape)."""
    lines = page.read_text().split("\n")[fence_line + 1 :]
    return lines[: next(i for i, line in enumerate(lines) if FENCE.match(line))]


def line_key(line: str) -> str:
    """What identifies an output line whatever the night: its text up to the first number
    or path (a label, a table name, a check's name)."""
    return re.split(r"[\d/]", line, maxsplit=1)[0].rstrip()
