"""`bauhof bench replay` on its own private services prints one JSON object with its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def assert_rate_is_messages_over_wall(figures: dict[str, Any]) -> None:
    """events_per_s is messages / wall_s, within the rounding of both figures: wall_s to
    hundredths (a run of 0.2 s is up to 2.5 % off), events_per_s to tenths."""
    wall_s, messages = figures["wall_s"], figures["messages"]
    assert (messages / (wall_s + 0.005) - 0.05 <= figures["events_per_s"]
            <= messages / (wall_s - 0.005) + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [["--mqtt"], ["--from-recording"]])
def test_bench_replay_prints_one_json_object(tmp_path: Path, mode: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAUHOF_")}
    done = subprocess.run(
        [sys.executable, "-m", "shell", "bench", "replay", "--days", "0.05", "--json",
         *mode],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert len(done.stdout.strip().splitlines()) == 1
    assert figures["simulated_days"] == 0.05
    assert figures["stored"] == figures["uplinks"] == figures["readings"] > 1000
    assert figures["dead_letters"] == 0
    assert figures["wall_s"] > 0
    assert_rate_is_messages_over_wall(figures)
    recording = mode == ["--from-recording"]
    assert figures["mode"] == ("recording" if recording else "mqtt")
    # Where the time went adds up to the end-to-end time (a recording is generated apart).
    parts = figures["publish_s"] + figures["ingest_tail_s"] + (
        figures["read_recording_s"] if recording else figures["generate_s"])
    assert abs(parts - figures["wall_s"]) <= 0.03
    assert figures["generate_s"] > 0


@pytest.mark.slow
def test_bench_replay_feeds_ingest_directly_by_default(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAUHOF_")}
    done = subprocess.run(
        [sys.executable, "-m", "shell", "bench", "replay", "--days", "0.05", "--json",
         "--workers", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert (figures["mode"], figures["workers"], figures["simulated_days"]) == ("direct", 2, 0.05)
    assert figures["stored"] == figures["uplinks"] == figures["readings"] > 1000
    assert figures["messages"] > figures["uplinks"]  # weather and device status besides
    assert figures["dead_letters"] == 0
    assert_rate_is_messages_over_wall(figures)
    for part in ("generate_s", "prepare_s", "write_s", "workers_cpu_s", "postgres_cpu_s"):
        assert figures[part] > 0
