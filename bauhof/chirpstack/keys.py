"""The OTAA keys file for `bauhof chirpstack sync --keys`: YAML, DevEUI → AppKey.

Keys live only in this file (and in ChirpStack): never in Bauhof's database, never in a log
line or an error message. Every scalar is read as text (YAML's base loader), so a DevEUI or
key made only of digits keeps its leading zeros.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml

from bauhof.chirpstack.api import ChirpStackError

_DEV_EUI = re.compile(r"^[0-9a-fA-F]{16}$")
_AES128 = re.compile(r"^[0-9a-fA-F]{32}$")


class KeysFileError(ChirpStackError):
    """A keys file that cannot be used; the problems name DevEUIs and lines, never keys."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"keys file {path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


def read_keys(path: Path) -> dict[str, str]:
    """DevEUI (lower-case hex) → AppKey (lower-case hex) from a YAML mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeysFileError(path, [f"cannot read it: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KeysFileError(path, [f"not valid YAML{where}"]) from None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise KeysFileError(path, ["must be a mapping of DevEUI: AppKey lines"])
    keys: dict[str, str] = {}
    problems: list[str] = []
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        dev_eui = str(key_node.value).strip()
        value = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        if not _DEV_EUI.match(dev_eui):
            problems.append(f"line {line}: {dev_eui[:20]!r} is not a DevEUI of 16 hex digits")
        elif not isinstance(value, str) or not _AES128.match(value.strip()):
            problems.append(f"line {line}: the AppKey of {dev_eui.lower()} is not 32 hex digits")
        elif dev_eui.lower() in keys:
            problems.append(f"line {line}: DevEUI {dev_eui.lower()} appears twice")
        else:
            keys[dev_eui.lower()] = value.strip().lower()
    if problems:
        raise KeysFileError(path, problems)
    return keys


def loosely_readable(path: Path) -> bool:
    """True when users other than the owner may read the file (it holds secrets)."""
    return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
