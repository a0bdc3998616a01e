"""BAUHOF_RULES_FILE (in the environment or only in `.env`) is the rules file of `bauhof rules`
without --rules, the same the API validates rule settings against (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from shell.main import main
from tests.rules import factory as f


def test_the_rules_file_only_in_dotenv_is_the_engines(
        conn: psycopg.Connection[Any], database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    f.bin_(conn, "b1", dev=2, threshold=80)
    (tmp_path / "town.yaml").write_text("bins: {force: {fill_threshold_pct: 60}}\n")
    (tmp_path / "other.yaml").write_text("bins: {force: {fill_threshold_pct: 70}}\n")
    (tmp_path / ".env").write_text("BAUHOF_RULES_FILE=town.yaml\n")
    monkeypatch.delenv("BAUHOF_RULES_FILE", raising=False)
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)

    def threshold(*argv: str) -> list[str]:
        assert main(["rules", "explain", "b1", *argv]) == 0
        rows = {line.split()[0]: line.split(None, 2)[1:]
                for line in capsys.readouterr().out.splitlines()[1:-1]}
        return rows["fill_threshold_pct"]

    town = tmp_path / "town.yaml"
    assert threshold() == ["60.0", f"{town} bins.force"]
    assert threshold("--rules", str(tmp_path / "other.yaml")) == [
        "70.0", f"{tmp_path / 'other.yaml'} bins.force"]
    monkeypatch.setenv("BAUHOF_RULES_FILE", str(tmp_path / "other.yaml"))
    assert threshold() == ["70.0", f"{tmp_path / 'other.yaml'} bins.force"]
