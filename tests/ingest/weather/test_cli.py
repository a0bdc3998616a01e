"""`bauhof weather fetch` against a recorded answer on a local server: one JSON object, the
town's location from its assets, one clear line and status 2 or 1 when it cannot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shell.main import main
from tests.ingest.weather.server import Reply, WeatherServer, answer


@pytest.fixture
def server() -> Iterator[WeatherServer]:
    s = WeatherServer()
    yield s
    s.close()


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    for name in ("BAUHOF_WEATHER_SOURCE", "BAUHOF_WEATHER_URL"):
        monkeypatch.delenv(name, raising=False)


def test_fetch_prints_one_json_object_for_the_towns_location(
        env: None, conn: psycopg.Connection[Any], server: WeatherServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    for i, (lat, lon) in enumerate(((48.59, 8.86), (48.60, 8.88))):
        conn.execute("INSERT INTO green_areas (id, name, latitude, longitude) "
                     "VALUES (%s, 'x', %s, %s)", (f"ga{i}", lat, lon))
    server.play(Reply(answer("brightsky.json")))
    assert main(["weather", "fetch", "--base-url", server.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "source": "brightsky", "station": "dwd:10738", "stored": 30, "observed": 6,
        "forecast": 24, "first": "2026-07-08T06:00:00+00:00",
        "last": "2026-07-09T11:00:00+00:00", "rain_mm": 7.7}
    (_, query), = server.requests
    assert (query["lat"], query["lon"]) == (["48.5950"], ["8.8700"])
    assert main(["weather", "fetch", "--base-url", server.url, "--lat", "48.6", "--lon",
                 "8.87"]) == 0
    assert capsys.readouterr().out == (
        "weather brightsky (dwd:10738): 0 rows stored (0 observed, 0 forecast), no hours, "
        "0.0 mm rain\n")


def test_fetch_without_assets_or_with_a_failing_service_says_why(
        env: None, server: WeatherServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather", "fetch", "--base-url", server.url]) == 1
    assert capsys.readouterr().err == (
        "bauhof weather: no green areas or bins to take the town's location from: load the "
        "assets (`bauhof assets load`) or pass --lat/--lon\n")
    server.play(Reply(b"busy", status=503))
    assert main(["weather", "fetch", "--base-url", server.url, "--lat", "48.6", "--lon",
                 "8.87", "--attempts", "1"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "bauhof weather: weather brightsky: 1 attempts failed, the last: brightsky: HTTP 503 "
        "'busy'; the rules keep the rows already stored")


@pytest.mark.parametrize("argv", [
    ["weather", "fetch", "--lat", "48.6"],
    ["weather", "fetch", "--lat", "91", "--lon", "8"],
    ["weather", "fetch", "--source", "dwd"],
    ["weather", "fetch", "--days", "-1"],
    ["weather", "run", "--every", "10s"],
    ["weather"],
])
def test_bad_arguments_exit_2_with_one_line(env: None, argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bauhof weather")


def test_run_fetches_at_once_and_stops_cleanly_on_sigterm(
        database_url: str, conn: psycopg.Connection[Any], server: WeatherServer,
        tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    server.play(Reply(answer("open_meteo.json")))
    env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
           "BAUHOF_WEATHER_SOURCE": "open-meteo", "BAUHOF_WEATHER_URL": server.url}
    proc = subprocess.Popen([sys.executable, "-m", "shell", "weather", "run", "--lat",
                             "48.6", "--lon", "8.87", "--every", "1h"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            row = conn.execute("SELECT count(*) FROM weather").fetchone()
            if row == (30,) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert conn.execute("SELECT count(*), round(sum(rain_mm_h)::numeric, 1)::float8 "
                            "FROM weather").fetchone() == (30, 7.6)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "weather open-meteo (open-meteo:48.600,8.880): 30 rows stored" in err.decode()
    assert len(server.requests) == 1
