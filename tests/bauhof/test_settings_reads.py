"""Only bauhof/settings.py reads Bauhof's variables from the environment (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = ("bauhof", "api", "ingest", "rules", "planning", "simulator", "dashboards",
         "reliability", "shell", "harness")
SETTINGS = Path("bauhof/settings.py")
# What reads the environment (or `.env`) besides os.environ itself.
READERS = {"getenv", "read_dotenv", "environment"}


def reads(source: str) -> list[int]:
    """Lines of `source` that read the environment; handing a copy of it to a subprocess
    (`{**os.environ, …}` or `os.environ.copy()`) is not reading a setting."""
    tree = ast.parse(source)
    handed_down: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            handed_down.update(id(v) for k, v in zip(node.keys, node.values, strict=True)
                               if k is None)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "copy" and not node.args):
            handed_down.add(id(node.func.value))
    return sorted(node.lineno for node in ast.walk(tree)
                  if _imports_environ(node) or _reads(node, handed_down))


def _imports_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "os" and any(
        alias.name in ("environ", "getenv") for alias in node.names)


def _reads(node: ast.AST, handed_down: set[int]) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return (isinstance(node.value, ast.Name) and node.value.id == "os"
                and id(node) not in handed_down)
    if isinstance(node, ast.Call):
        name = (node.func.attr if isinstance(node.func, ast.Attribute)
                else node.func.id if isinstance(node.func, ast.Name) else "")
        return name in READERS
    return False


def offenders() -> list[str]:
    """`path:line` of every read of the environment outside bauhof/settings.py."""
    found = []
    for part in PARTS:
        for path in sorted((ROOT / part).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == SETTINGS:
                continue
            found += [f"{relative}:{line}" for line in reads(path.read_text(encoding="utf-8"))]
    return found


def test_the_scan_finds_every_way_of_reading_and_passes_handing_down() -> None:
    source = "\n".join([
        "import os",
        "from os import environ",
        "a = os.environ.get('BAUHOF_X')",
        "b = os.environ['BAUHOF_Y']",
        "c = os.getenv('BAUHOF_Z')",
        "d = dict(os.environ)",
        "e = settings.read_dotenv(path)",
        "f = {**os.environ, 'BAUHOF_DATABASE_URL': url}",
        "g = run(cmd, env=os.environ.copy())",
        "h = settings.load()",
    ])
    assert reads(source) == [2, 3, 4, 5, 6, 7]


def test_only_the_settings_module_reads_the_environment() -> None:
    assert offenders() == []
