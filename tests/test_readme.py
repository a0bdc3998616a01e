"""Every `bauhof` command line of the README runs as written (those that need no outside
system; the rest, and synopses with alternatives or placeholders, answer `--help`)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bauhof.services import Mosquitto

ROOT = Path(__file__).resolve().parents[1]
PREFIX = ".venv/bin/bauhof "
# A synopsis, not a command line: alternatives, optional parts, placeholders (FILE, URL, …).
SYNOPSIS = re.compile(r"\||\[|\b[A-Z]{1,}(?:/[A-Z]+)?\b")
# Command lines that need what tests cannot have here, or run until stopped.
OUTSIDE = {
    "api --port 8080": "serves HTTP until stopped",
    "chirpstack sync": "needs a ChirpStack server",
    "weather fetch --json": "needs the weather service (tests/ingest/weather serve its answers)",
}


def readme_lines() -> list[str]:
    """The README's `bauhof` command lines (in its ```sh blocks), without comments."""
    lines: list[str] = []
    inside = False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```sh" and not inside
            continue
        if inside and line.startswith(PREFIX):
            lines.append(line[len(PREFIX):].split("  #")[0].split(" # ")[0].strip())
    return lines


def _words_before_options(line: str) -> list[str]:
    words: list[str] = []
    for word in line.split():
        if word.startswith("-") or SYNOPSIS.search(word):
            break
        words.append(word)
    return words


def test_every_readme_command_line_runs(database_url: str, broker: Mosquitto,
                                        tmp_path: Path) -> None:
    lines = readme_lines()
    assert len(lines) >= 20
    for folder in ("examples", "rules"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
           "BAUHOF_STATE_DIR": str(tmp_path / "state")}
    ran: list[str] = []
    for line in lines:
        runnable = not SYNOPSIS.search(line) and line not in OUTSIDE
        argv = shlex.split(line) if runnable else [*_words_before_options(line), "--help"]
        result = subprocess.run([sys.executable, "-m", "shell", *argv], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=600,
                                check=False)
        assert result.returncode == 0, f"bauhof {line}: {result.stderr[-2000:]}"
        if runnable:
            ran.append(line)
    # What ran for real (so a README edit that makes them synopses shows up here).
    assert ran == [
        "db migrate", "db retention", "db retention --now 2026-06-30",
        "assets load herrenberg", "users create --role crew --name nord",
        "routes plan --date 2026-06-02",
        "decode --model dragino-lse01 --fport 2 --hex CE2900F107A5099B6E2890",
        "decode --event examples/up.json", "decode --event examples/up-object.json",
        "orders list --status open --json", "rules check rules/default_rules.yaml",
        "rules explain bin-0001", "deadletters list",
        "simulate --no-publish --days 1 --record day.jsonl.gz", "whatif day.jsonl.gz --json",
    ]


@pytest.mark.parametrize("line", sorted(OUTSIDE))
def test_outside_lines_are_still_in_the_readme(line: str) -> None:
    assert line in readme_lines()
