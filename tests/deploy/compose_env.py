"""Compose's variable syntax, as far as docker-compose.yml uses it, and .env.example."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# ${NAME}, ${NAME:?message}, ${NAME?message}, ${NAME:-default}, ${NAME-default}; $$ is a dollar.
REFERENCE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:\?|\?|:-|-)(?P<arg>[^}]*))?\}"
)
BARE = re.compile(r"(?<!\$)\$(?=[A-Za-z_])")


@dataclass(frozen=True)
class Reference:
    """One use of a variable in the compose file."""

    name: str
    op: str | None
    arg: str


def references(text: str) -> list[Reference]:
    """Every `${…}` in the text, in order."""
    found = []
    for match in REFERENCE.finditer(text):
        if match.group(0) != "$$":
            name, op, arg = match.group("name"), match.group("op"), match.group("arg")
            found.append(Reference(name, op, arg or ""))
    return found


def bare_dollars(text: str) -> int:
    """How many `$NAME` (without braces, not `$$`) the text has: compose would expand them too."""
    return len(BARE.findall(text.replace("$$", "")))


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """The value with every reference replaced, as compose does; a missing required one raises."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise KeyError(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        if op == "-" and current is None:
            return arg
        return current or ""

    return REFERENCE.sub(replace, value)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file, comments and blank lines skipped."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            values[key.strip()] = value.strip()
    return values
