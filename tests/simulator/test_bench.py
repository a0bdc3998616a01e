"""`bauhof bench replay` on its own private services prints one JSON object with its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("mode", [[], ["--from-recording"]])
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
    assert figures["events_per_s"] == pytest.approx(figures["messages"] / figures["wall_s"],
                                                    rel=0.02)
    assert figures["mode"] == ("recording" if mode else "generated while sending")
    # Where the time went adds up to the end-to-end time (a recording is generated apart).
    parts = figures["publish_s"] + figures["ingest_tail_s"] + (
        figures["read_recording_s"] if mode else figures["generate_s"])
    assert abs(parts - figures["wall_s"]) <= 0.03
    assert figures["generate_s"] > 0
