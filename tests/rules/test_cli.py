"""The command line: rules check, orders list, argument errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rules import orders
from shell.main import main
from tests.rules import factory as f
from tests.rules.conftest import MakeEngine, rules_check


def test_rules_check_accepts_the_defaults_and_names_a_bad_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    assert rules_check(capsys, good, "bins: {fill_threshold_pct: 70}\n"
                                     "overrides: {b1: {bins: {confirm_readings: 2}}}\n") == (
        f"{good}: ok (version 1, 1 overrides, 0 plant types)\n"
        "  watering: packaged defaults\n"
        "  bins: fill_threshold_pct 70.0\n"
        "    note: bins.fill_threshold_pct 70.0 applies only to assets without their own "
        "fill_threshold_pct; to win over theirs, put it under bins.force "
        "(see `bauhof rules explain ASSET`)\n"
        "  sensor_health: packaged defaults\n"
        "  vehicles: packaged defaults\n"
        "  overrides for 1 assets: b1\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sensor_health: {silent_intervals: 0}\n")
    assert main(["rules", "check", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"bauhof rules: rules file {bad}: sensor_health.silent_intervals: "
        "Input should be greater than 0\n")


def test_bad_arguments_exit_2_with_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "shell", "rules", "--shard", "2/2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "bauhof rules: error: argument --shard: '2/2': need 0 <= I < N "
        "(see `bauhof rules --help`)")
    result = subprocess.run([sys.executable, "-m", "shell", "orders", "list", "--status",
                             "closed"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "invalid choice: 'closed'" in result.stderr


def test_orders_list_json(conn: psycopg.Connection[Any], database_url: str,
                          make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    f.bin_(conn)
    f.bin_(conn, "b2", dev=12)
    engine = make_engine()
    f.ingest(conn, [f.fill(2, 0, 90.0), f.fill(12, 0, 95.0)])
    engine.step()
    first, second = orders.list_orders(conn)
    orders.transition(conn, second.id, "done", "crew-1", at=f.at(2))
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    assert main(["orders", "list", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {"id": first.id, "kind": "empty_bin", "status": "open", "subject_type": "bin",
         "subject_id": "b1", "opened_at": "2026-06-01T00:00:00+00:00", "resolved_at": None,
         "resolved_by": None},
        {"id": second.id, "kind": "empty_bin", "status": "done", "subject_type": "bin",
         "subject_id": "b2", "opened_at": "2026-06-01T00:00:00+00:00",
         "resolved_at": "2026-06-01T02:00:00+00:00", "resolved_by": "crew-1"}]
    assert main(["orders", "list", "--json", "--status", "done", "--kind", "empty_bin"]) == 0
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()] == [second.id]


def test_rules_once_processes_and_exits(conn: psycopg.Connection[Any], database_url: str,
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    f.bin_(conn)
    f.ingest(conn, [f.fill(2, 0, 90.0)])
    rules = tmp_path / "r.yaml"
    rules.write_text("bins: {forecast: false}\n")
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.setenv("BAUHOF_MQTT_URL", "mqtt://127.0.0.1:1")
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "--once", "--rules", str(rules)]) == 0
    assert [o[1:] for o in f.orders(conn)] == [("empty_bin", "open", "b1", "bins.full")]
