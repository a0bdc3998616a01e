"""`bauhof bench replay` on its own private services prints one JSON object with its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_bench_replay_prints_one_json_object(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAUHOF_")}
    done = subprocess.run(
        [sys.executable, "-m", "bauhof.cli", "bench", "replay", "--days", "0.05", "--json"],
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
