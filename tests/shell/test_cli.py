"""The `bauhof` command line as a user runs it: real processes, real services."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bauhof.services import free_port
from shell.main import build_parser

VECTORS = Path(__file__).resolve().parents[3] / "shared/reference/decoder-vectors.json"
UP = Path(__file__).resolve().parents[3] / "shared/reference/chirpstack/up.json"


def bauhof(*args: str, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line."""
    return subprocess.run([sys.executable, "-m", "shell", *args], capture_output=True,
                          text=True, env=env or os.environ.copy(), cwd=cwd, timeout=120,
                          check=False)


def _commands() -> list[list[str]]:
    parser = build_parser()
    found: list[list[str]] = []

    def walk(p: object, prefix: list[str]) -> None:
        for action in getattr(p, "_actions", []):
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for name, sub in choices.items():
                    found.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(parser, [])
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from shell.main import main

    commands = _commands()
    names = {" ".join(c) for c in commands}
    assert {"services", "db", "assets", "decode", "ingest", "bench", "bench ingest"} <= names
    # In-process: the same parser the command line builds, without 40 interpreter starts.
    for command in commands:
        with pytest.raises(SystemExit) as exited:
            main([*command, "--help"])
        assert exited.value.code == 0, command
        assert capsys.readouterr().out.startswith(f"usage: bauhof {' '.join(command)}"), command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "bauhof: error: argument COMMAND: invalid choice: 'frobnicate'"),
        (["ingest", "--batch-size", "0"],
         "bauhof ingest: error: argument --batch-size: 0 must be positive"),
        (["decode", "--hex", "00"], "bauhof decode: error: --model, --fport required"),
        (["decode", "--model", "dragino-lse01", "--fport", "2", "--hex", "zz"],
         "bauhof decode: error: --hex 'zz' is not hexadecimal"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(args: list[str], message: str) -> None:
    result = bauhof(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(message)


def test_decode_prints_the_design_contract() -> None:
    for vector in json.loads(VECTORS.read_text()):
        result = bauhof("decode", "--model", vector["model"], "--fport", str(vector["fPort"]),
                        "--hex", vector["hex"])
        if "error" in vector:
            assert result.returncode == 1
            assert result.stdout == ""
            assert vector["error"] in result.stderr
            assert result.stderr.count("\n") == 1
        else:
            assert result.returncode == 0, result.stderr
            out = json.loads(result.stdout)
            assert set(out) == {"model", "readings", "warnings"}
            assert out["model"] == vector["model"]
            assert out["readings"] == vector["readings"]
            assert out["warnings"] == vector.get("warnings", out["warnings"])


def test_decode_event_file_json_and_protobuf(tmp_path: Path) -> None:
    from tests import factories

    body = factories.uplink("24e124538b223213", bytes.fromhex("01755C03824408040001"),
                            f_port=85, profile="milesight-em310-udl")
    (tmp_path / "up.json").write_bytes(factories.encode(body))
    (tmp_path / "up.bin").write_bytes(factories.protobuf_uplink(body))
    expected = {"model": "milesight-em310-udl",
                "readings": {"battery_pct": 92, "distance_mm": 2116, "tilted": True},
                "warnings": []}
    for name in ("up.json", "up.bin"):
        result = bauhof("decode", "--event", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == expected
    # The reference event's profile names no model: the user must say which.
    result = bauhof("decode", "--event", str(UP))
    assert result.returncode == 1
    assert result.stderr.startswith(f"bauhof decode: {UP}: no model: pass --model")


def test_services_up_status_down() -> None:
    state = Path(tempfile.mkdtemp(prefix="bauhof-test-cli-"))
    state.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("BAUHOF_DATABASE_URL", "BAUHOF_MQTT_URL")}
    pg_port, mqtt_port = free_port(), free_port()
    env.update(BAUHOF_STATE_DIR=str(state), BAUHOF_PG_PORT=str(pg_port),
               BAUHOF_MQTT_PORT=str(mqtt_port))
    try:
        up = bauhof("services", "up", env=env, cwd=state)
        assert up.returncode == 0, up.stderr
        assert up.stdout.splitlines() == [
            f"database  up  postgresql://bauhof@127.0.0.1:{pg_port}/bauhof  "
            f"(data in {state / 'postgres'})",
            f"mqtt      up  mqtt://127.0.0.1:{mqtt_port}  (data in {state / 'mosquitto'})",
        ]
        before = bauhof("services", "status", env=env, cwd=state)
        assert before.returncode == 0
        assert before.stdout.splitlines() == [
            f"database  postgresql://bauhof@127.0.0.1:{pg_port}/bauhof  "
            "healthy, but not migrated (run `bauhof db migrate`)",
            f"mqtt      mqtt://127.0.0.1:{mqtt_port}  healthy",
        ]
        migrate = bauhof("db", "migrate", env=env, cwd=state)
        assert migrate.stdout.splitlines()[:2] == ["applied 0001_foundation.sql",
                                                   "applied 0002_weather.sql"]
        again = bauhof("db", "migrate", env=env, cwd=state)
        assert again.stdout == "database is up to date\n"
        after = bauhof("services", "status", env=env, cwd=state)
        assert re.search(r"  healthy, TimescaleDB 2\.\d+\.\d+$", after.stdout.splitlines()[0])
        down = bauhof("services", "down", env=env, cwd=state)
        assert down.stdout.splitlines() == ["mqtt      stopped", "database  stopped"]
        dead = bauhof("services", "status", env=env, cwd=state)
        assert dead.returncode == 1
        assert f"mqtt      mqtt://127.0.0.1:{mqtt_port}  DOWN (cannot connect to 127.0.0.1:" \
            in dead.stdout
    finally:
        bauhof("services", "down", env=env, cwd=state)
        shutil.rmtree(state, ignore_errors=True)
