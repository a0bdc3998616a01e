"""The commands: help, one-line errors with exit 2, identical recordings, simulate and replay
against a real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bauhof.services import Mosquitto
from shell.main import main
from simulator.recording import read
from tests.simulator.conftest import Collector


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer `.env` or services leak into these runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAUHOF_MQTT_URL", "mqtt://127.0.0.1:1")
    monkeypatch.setenv("BAUHOF_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")


@pytest.mark.parametrize("argv", [["simulate", "--help"], ["replay", "--help"],
                                  ["bench", "replay", "--help"]])
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    assert "usage: bauhof" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "error"), [
    (["simulate", "--speed", "fast"], "--speed 'fast': a number (3600 = an hour per second)"),
    (["simulate", "--faults", "gremlins"], "--faults 'gremlins': unknown fault"),
    (["simulate", "--start", "soon"], "--start 'soon': expected ISO 8601"),
    (["simulate", "--days", "-1"], "argument --days: -1 must be more than 0 days"),
    (["simulate", "--no-publish"], "--no-publish needs --record or --truth"),
    (["replay"], "give a recording FILE or --from-db"),
    (["replay", "missing.jsonl"], "no recording missing.jsonl"),
])
def test_bad_arguments_give_one_line_and_status_2(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(str(exc.code))
    err = capsys.readouterr().err
    assert status == 2
    assert error in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_scenario_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "atlantis", "--no-publish", "--truth", "t"]) == 2
    assert capsys.readouterr().err == (
        "bauhof simulate: error: --scenario atlantis: no such file, and no packaged scenario "
        "of that name (herrenberg)\n")


def test_an_unwritable_recording_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--no-publish", "--record", "no/such/dir/rec.jsonl"]) == 1
    assert capsys.readouterr().err.strip() == (
        "bauhof simulate: cannot use no/such/dir/rec.jsonl: No such file or directory")


def test_an_unreachable_broker_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--days", "0.01", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("bauhof simulate: cannot connect to the MQTT broker at 127.0.0.1:1")


def test_the_same_seed_twice_gives_identical_files(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        assert main(["simulate", "--no-publish", "--quiet", "--days", "0.05", "--seed", seed,
                     "--record", f"{name}.jsonl", "--truth", f"{name}.truth.jsonl"]) == 0
        runs.append(((tmp_path / f"{name}.jsonl").read_bytes(),
                     (tmp_path / f"{name}.truth.jsonl").read_bytes()))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]
    assert runs[0][1] != runs[2][1]


def test_simulate_publishes_what_it_records_and_replay_publishes_it_again(
    broker: Mosquitto, collector: Collector, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BAUHOF_MQTT_URL", f"mqtt://127.0.0.1:{broker.port}")
    assert main(["simulate", "--speed", "max", "--days", "0.03", "--encoding", "protobuf",
                 "--faults", "dup,malformed=0.05", "--record", "rec.jsonl.gz", "--quiet"]) == 0
    recorded = [(m.topic, m.payload) for m in read(tmp_path / "rec.jsonl.gz")]
    assert len(recorded) > 400
    assert collector.wait_for(len(recorded)) == recorded
    assert "messages published" in capsys.readouterr().out
    assert main(["replay", "rec.jsonl.gz", "--quiet"]) == 0
    assert collector.wait_for(2 * len(recorded))[len(recorded):] == recorded
    assert f"replayed {len(recorded):,} messages" in capsys.readouterr().out


def test_crews_without_a_database_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--crews", "--no-publish", "--truth", "t", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bauhof simulate: --crews: cannot connect to the database")


def test_sigterm_stops_a_run_cleanly(broker: Mosquitto, tmp_path: Path) -> None:
    env = {**os.environ, "BAUHOF_MQTT_URL": f"mqtt://127.0.0.1:{broker.port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shell", "simulate", "--speed", "3600", "--days", "1",
         "--record", "rec.jsonl", "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not ((tmp_path / "rec.jsonl").exists() and (tmp_path / "rec.jsonl").stat().st_size):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    recorded = list(read(tmp_path / "rec.jsonl"))
    assert recorded
    assert recorded[-1].time_us - recorded[0].time_us < 86400 * 10**6
