"""The soak's verdicts, its text and plot from samples, and the reliability commands' CLI."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reliability import report, soak
from reliability.report import Row


def _samples(rss: list[float], connections: list[int], lags: list[float]) -> list[dict[str, Any]]:
    return [{"minute": float(i), "rss_mb": {"ingest": r, "rules": 80.0, "simulate": 70.0},
             "lag_s": lag, "db_connections": c, "uplinks": 100 * i, "orders": i,
             "orders_closed": i // 2, "simulated_time": None}
            for i, (r, c, lag) in enumerate(zip(rss, connections, lags, strict=True))]


def test_a_flat_run_passes_every_check() -> None:
    figures = soak.summarise(_samples([60, 61, 61, 61.5, 62, 62], [9, 10, 10, 10, 10, 9],
                                      [0.2, 0.3, 0.2, 0.4, 0.2, 0.3]),
                             {"simulate": 0, "api": -15, "rules": 0, "ingest": 0})
    assert figures["rss_growth_second_half_mb"] == {"ingest": 0.5, "rules": 0.0,
                                                    "simulate": 0.0}
    assert figures["rss_peak_mb"] == {"ingest": 62.0, "rules": 80.0, "simulate": 70.0}
    assert (figures["lag_max_s"], figures["lag_last_s"]) == (0.4, 0.3)
    assert (figures["db_connections_min"], figures["db_connections_max"]) == (9, 10)
    assert (figures["uplinks"], figures["orders"], figures["orders_closed"]) == (500, 5, 2)
    assert {k: figures[k] for k in ("memory_flat", "lag_bounded", "connections_flat",
                                    "clean_exits", "ok")} == dict.fromkeys(
        ("memory_flat", "lag_bounded", "connections_flat", "clean_exits", "ok"), True)


def test_growth_lag_leaks_and_crashes_are_each_flagged() -> None:
    figures = soak.summarise(_samples([60, 70, 90, 120], [9, 9, 12, 15], [0.2, 5, 45, 60]),
                             {"simulate": 0, "api": 0, "rules": 1, "ingest": 0})
    assert figures["rss_growth_second_half_mb"]["ingest"] == 30.0
    assert {k: figures[k] for k in ("memory_flat", "lag_bounded", "connections_flat",
                                    "clean_exits", "ok")} == dict.fromkeys(
        ("memory_flat", "lag_bounded", "connections_flat", "clean_exits", "ok"), False)
    assert "exit statuses: simulate 0, api 0, rules 1, ingest 0" in soak.describe(
        {**figures, "minutes": 4, "speed": 60, "simulated_days": 0.17,
         "simulated_end": "2026-06-01T04:00:00+00:00"})


def test_the_plot_is_a_png_of_the_chosen_size(tmp_path: Path) -> None:
    path = tmp_path / "plots" / "soak.png"
    soak.draw(_samples([60, 61, 62], [9, 10, 10], [0.2, 0.3, 0.2]), path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (800, 900)


def test_the_fault_table_and_the_json_summary() -> None:
    rows = [Row("kill -9 ingest", 2, 3000, 3000, 0, 0),
            Row("rules engine killed", 3, 5452, 5452, 0, 0, 38, 37, 1, 0)]
    assert report.table(rows).splitlines() == [
        "| fault               | tried | published | stored | duplicates | orders expected |"
        " orders found |",
        "|---------------------|-------|-----------|--------|------------|-----------------|"
        "--------------|",
        "| kill -9 ingest      |     2 |     3,000 |  3,000 |          0 |               — |"
        "            — |",
        "| rules engine killed |     3 |     5,452 |  5,452 |          0 |              38 |"
        "           37 |",
    ]
    summary = report.summary(rows)
    assert {k: v for k, v in summary.items() if k != "rows"} == {
        "lost": 0, "duplicated": 0, "orders_missing": 1, "orders_duplicated": 0, "errors": 0}
    assert [r["fault"] for r in summary["rows"]] == ["kill -9 ingest", "rules engine killed"]
    assert json.loads(json.dumps(summary)) == summary


@pytest.mark.parametrize(("args", "message"), [
    (["bench", "faults", "--only", "nope"], "argument --only: unknown fault 'nope'"),
    (["bench", "faults", "--events", "0"], "argument --events: 0 must be positive"),
    (["bench", "soak", "--minutes", "0"], "argument --minutes: 0 must be more than 0"),
])
def test_bad_arguments_give_one_line_and_status_2(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "shell", *args], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert message in result.stderr
