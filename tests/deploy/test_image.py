"""The Dockerfile and its build context, and the wheel its build stage makes.

Docker cannot run here, so the build stage's step (`pip wheel .` in the context .dockerignore
leaves) is run on a copy of that context, and the wheel is checked for what the runtime needs.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from shell import main as cli
from tests.deploy.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def ignore_rules() -> list[tuple[bool, str]]:
    """(exclude?, pattern) of .dockerignore in order; the last matching rule wins."""
    rules = []
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            rules.append((not line.startswith("!"), line.lstrip("!").rstrip("/")))
    return rules


def ignored(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Whether Docker leaves this path (or a folder above it) out of the build context."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for exclude, pattern in rules:
        bare = pattern.removeprefix("**/")
        for candidate in candidates:
            tails = ["/".join(candidate.split("/")[i:]) for i in range(len(candidate.split("/")))]
            names = tails if pattern.startswith("**/") else [candidate]
            if any(fnmatch.fnmatchcase(name, bare) for name in names):
                verdict = exclude
    return verdict


def build_context(destination: Path) -> list[str]:
    """Copy what Docker would send as the build context; the copied files, relative."""
    rules = ignore_rules()
    copied = []
    for folder, subfolders, files in os.walk(REPO):
        base = Path(folder).relative_to(REPO).as_posix()
        prefix = "" if base == "." else f"{base}/"
        # An excluded folder is skipped whole (no "!" rule here re-includes inside one).
        subfolders[:] = sorted(d for d in subfolders if not ignored(prefix + d, rules))
        for name in sorted(files):
            relative = prefix + name
            if not ignored(relative, rules):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / relative, target)
                copied.append(relative)
    return copied


def test_stages_on_a_pinned_slim_python_3_11_and_node_for_the_page_libraries() -> None:
    steps = instructions()
    (default,) = [args for word, args in steps if word == "ARG" and args.startswith("PYTHON_IMAGE")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm", default)
    assert [args for word, args in steps if word == "FROM"] == [
        "${PYTHON_IMAGE} AS build", "node:20-bookworm-slim AS pages", "${PYTHON_IMAGE}"]
    runtime = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM"):]
    assert ("COPY", "--from=pages /src/node_modules /opt/bauhof/node_modules") in runtime
    (env,) = [args for word, args in runtime if word == "ENV" and "BAUHOF_ENV" in args]
    assert "BAUHOF_VENDOR_DIR=/opt/bauhof/node_modules" in env.split()


def test_runtime_stage_runs_bauhof_as_an_unprivileged_user() -> None:
    steps = instructions()
    runtime = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM"):]
    words = [word for word, _ in runtime]
    assert [args for word, args in runtime if word == "USER"] == ["bauhof"]
    assert any("useradd" in args and args.endswith(" bauhof") for word, args in runtime
               if word == "RUN")
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN")
    assert [json.loads(args) for word, args in runtime if word == "ENTRYPOINT"] == [["bauhof"]]
    (check,) = [args for word, args in runtime if word == "HEALTHCHECK"]
    assert check.endswith('CMD ["bauhof", "services", "status"]')
    (install,) = [args for word, args in runtime if word == "RUN" and "pip install" in args]
    assert "--no-index" in install


def test_build_context_leaves_out_secrets_and_local_state(tmp_path: Path) -> None:
    rules = ignore_rules()
    for path in (".env", ".env.production", ".git/config", ".venv/bin/python",
                 ".bauhof/postgres/PG_VERSION", "tests/deploy/test_image.py",
                 "bauhof/__pycache__/cli.cpython-311.pyc", "build/lib/bauhof/cli.py"):
        assert ignored(path, rules), path
    for path in ("pyproject.toml", "bauhof/cli.py", "bauhof/db/migrations/0001_foundation.sql",
                 "ingest/cli.py", "shell/main.py"):
        assert not ignored(path, rules), path


def test_build_stage_makes_a_wheel_with_everything_the_roles_need(tmp_path: Path) -> None:
    context = tmp_path / "context"
    copied = build_context(context)
    assert "pyproject.toml" in copied
    assert not [p for p in copied if p == ".env" or p.startswith((".git/", "tests/"))]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
         str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "wheels").glob("bauhof-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert "bauhof = shell.main:main" in scripts
    # Data files (migrations, rules, mail templates, scenarios) are read from the installed
    # package at run time: every one in the source tree must be in the wheel.
    # (Listed from the copied context, the same snapshot the wheel was built from.)
    data = {p for p in copied
            if p.split("/")[0] in ("bauhof", "ingest", "rules", "api", "simulator")
            and not p.endswith((".py", ".pyc"))}
    assert "bauhof/db/migrations/0001_foundation.sql" in data
    assert sorted(data - names) == []
    for part in cli.PARTS:
        module: Any = part.replace(".", "/")
        assert f"{module}.py" in names or f"{module}/__init__.py" in names, part
