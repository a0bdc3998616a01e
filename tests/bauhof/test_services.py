"""Missing server programs are reported with the fix, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bauhof.services import Mosquitto, Postgres, ServiceError, free_port


def test_missing_timescaledb_names_the_fix(tmp_path: Path) -> None:
    cluster = Postgres(tmp_path / "data", free_port(), extension_dir=tmp_path / "empty")
    with pytest.raises(ServiceError) as caught:
        cluster.start()
    assert str(caught.value) == (
        "TimescaleDB is not installed for PostgreSQL 15: run `make setup` "
        "(it builds TimescaleDB from Debian's source package)")
    assert not (tmp_path / "data").exists()


def test_missing_mosquitto_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("bauhof.services.MOSQUITTO_FALLBACK", str(tmp_path / "mosquitto"))
    with pytest.raises(ServiceError) as caught:
        Mosquitto(tmp_path / "mqtt", free_port()).start()
    assert str(caught.value) == (
        "mosquitto not found: run `make setup` (it installs Debian's mosquitto)")
