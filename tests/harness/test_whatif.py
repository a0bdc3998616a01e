"""`bauhof whatif`: a recorded stream through ingest and rules in a throw-away database."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from bauhof import db
from harness import town as town_mod
from harness import whatif
from rules import ruleset
from rules.engine import RulesEngine
from shell.main import main
from simulator import recording, scenario
from simulator.clock import DAY_US, to_us
from simulator.engine import Simulator

START = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, int]]:
    """Two simulated days of a small town: (recording, scenario file, uplinks in it)."""
    folder = tmp_path_factory.mktemp("whatif")
    small = town_mod.subset(scenario.load("herrenberg"), bins=30, green_areas=4)
    scenario_file = folder / "small.yaml"
    scenario_file.write_text(yaml.safe_dump(small.model_dump(mode="json", exclude_none=True),
                                            allow_unicode=True), encoding="utf-8")
    path = folder / "two-days.jsonl.gz"
    recorder = recording.Recorder(path)
    uplinks = 0
    for message in Simulator(small, seed=3, start_us=to_us(START),
                             end_us=to_us(START) + 2 * DAY_US).messages():
        recorder.write(message)
        uplinks += message.topic.endswith("/event/up")
    recorder.close()
    yield path, scenario_file, uplinks


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for table in ("raw_uplinks", "readings", "work_orders", "defects", "dead_letters",
                  "devices", "rule_state"):
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        out[table] = int(row[0])
    return out


def _databases(conn: psycopg.Connection[Any], templates: bool = False) -> list[str]:
    """The server's databases (with whatif's migrated templates when asked)."""
    names = sorted(str(r[0]) for r in conn.execute("SELECT datname FROM pg_database"))
    return [n for n in names if templates or "_whatif_tpl_" not in n]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["whatif", *args, "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    result: dict[str, Any] = json.loads(out[0])
    return result


def _rules_file(folder: Path, name: str, text: str) -> str:
    """A rules file written in the folder, named as the command line takes it."""
    path = folder / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def town(conn: psycopg.Connection[Any], database_url: str, stream: tuple[Path, Path, int],
         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> psycopg.Connection[Any]:
    """The town's database, with its own assets, half a day of its data and rules run on it."""
    _path, scenario_file, _ = stream
    small = scenario.load(scenario_file)
    town_mod.load_assets(database_url, small)
    town_mod.feed(conn, Simulator(small, seed=9, start_us=to_us(START),
                                  end_us=to_us(START) + DAY_US // 2).messages())
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: START)
    engine.catch_up()
    engine.close()
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return conn


@pytest.fixture
def replay(town: psycopg.Connection[Any], stream: tuple[Path, Path, int],
           capsys: pytest.CaptureFixture[str]) -> Callable[..., dict[str, Any]]:
    """`bauhof whatif` over the recorded stream with its scenario and further arguments (on the
    town's server): the JSON it prints."""
    path, scenario_file, _ = stream
    return lambda *args: _run(capsys, str(path), "--scenario", str(scenario_file), *args)


def test_whatif_is_deterministic_and_never_touches_the_town(
        town: psycopg.Connection[Any], stream: tuple[Path, Path, int],
        replay: Callable[..., dict[str, Any]]) -> None:
    _path, _scenario_file, uplinks = stream
    before, databases = _counts(town), _databases(town)
    assert before["raw_uplinks"] > 0
    first = replay()
    second = replay()
    assert first.pop("wall_s") > 0 and second.pop("wall_s") > 0
    assert first == second
    assert first["uplinks"] == uplinks
    assert first["dead_letters"] == 0
    assert first["orders"]["bins.full"] > 0
    assert set(first) == {"messages", "uplinks", "dead_letters", "orders", "defects"}
    assert _counts(town) == before
    # Nothing is left but the migrated template the runs are copied from.
    assert _databases(town) == databases
    assert whatif.template_name(town.info.dsn) in _databases(town, templates=True)


def test_a_transaction_open_elsewhere_on_the_server_changes_nothing(
        town: psycopg.Connection[Any], replay: Callable[..., dict[str, Any]]) -> None:
    """Another database's open transaction holds the server-wide snapshot xmin back; what-if,
    its throw-away database's only writer, still reads each batch as soon as it is committed
    (before, every device went silent once the stream's clock ran ahead of the rules)."""
    alone = replay()
    with psycopg.connect(town.info.dsn) as other:
        other.execute("SELECT pg_current_xact_id()")  # a transaction id, held until the end
        busy = replay()
        other.rollback()
    alone.pop("wall_s")
    busy.pop("wall_s")
    assert busy == alone
    assert "health.silent" not in busy["orders"]


def test_the_template_follows_the_migrations(
        town: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url = town.info.dsn
    with whatif.throwaway(url):
        pass
    before = whatif.template_name(url)
    migrations = db.available_migrations()
    changed = [*migrations[:-1], dataclasses.replace(
        migrations[-1], sql=migrations[-1].sql + "\nCREATE TABLE whatif_probe (x int);")]
    monkeypatch.setattr(db, "available_migrations", lambda: changed)
    after = whatif.template_name(url)
    assert after != before
    with whatif.throwaway(url) as (_name, copy), db.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM whatif_probe").fetchone() == (0,)
    left = _databases(town, templates=True)
    assert after in left and before not in left


def test_rules_without_bins_open_no_bin_orders(
        town: psycopg.Connection[Any], replay: Callable[..., dict[str, Any]],
        tmp_path: Path) -> None:
    no_bins = _rules_file(tmp_path, "no-bins.yaml", "bins: {enabled: false}\n")
    before = _counts(town)
    default = replay()
    without = replay("--rules", no_bins)
    assert sum(n for rule, n in default["orders"].items() if rule.startswith("bins.")) > 0
    assert without["orders"] == {rule: n for rule, n in default["orders"].items()
                                 if not rule.startswith("bins.")}
    compared = replay("--compare", no_bins)
    assert compared["a"]["orders"] == default["orders"]
    assert compared["b"]["orders"] == without["orders"]
    assert set(compared["changes"]) == {r for r in default["orders"] if r.startswith("bins.")}
    full = compared["changes"]["bins.full"]
    assert (full["gained"], full["lost"]) == (0, default["orders"]["bins.full"])
    assert len(full["examples_lost"]) == 3 and full["examples_gained"] == []
    assert full["examples_lost"][0].startswith("bins.full bin:")
    assert _counts(town) == before


def test_forced_threshold_opens_more_bin_orders(
        replay: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    low = _rules_file(tmp_path, "low.yaml", "bins: {fill_threshold_pct: 40}\n")
    forced = _rules_file(tmp_path, "forced.yaml", "bins: {force: {fill_threshold_pct: 40}}\n")
    default = replay()
    # Every bin of the town has its own threshold: the section's value changes nothing ...
    assert replay("--rules", low)["orders"] == default["orders"]
    # ... and `force` wins over it.
    assert replay("--rules", forced)["orders"]["bins.full"] > default["orders"]["bins.full"]


def test_keep_leaves_the_database_and_bad_arguments_exit_2(
        town: psycopg.Connection[Any], stream: tuple[Path, Path, int],
        replay: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    path, _scenario_file, _ = stream
    databases = _databases(town)
    kept = replay("--keep")
    name = kept["database"]
    assert _databases(town) == sorted([*databases, name])
    town.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    for args, message in (
            ([], "give a recording STREAM or --from-db (one of them)"),
            ([str(path), "--from-db"], "give a recording STREAM or --from-db (one of them)"),
            (["nosuch.jsonl"], "no recording nosuch.jsonl"),
            ([str(path), "--rules", "nosuch.yaml"], "--rules: no rules file nosuch.yaml"),
            (["--from-db", "--since", "notadate"],
             "--since 'notadate': expected ISO 8601 like 2026-06-01T06:00Z"),
            ([str(path), "--scenario", "nosuch"],
             "scenario nosuch: no such file, and no packaged scenario of that name "
             "(herrenberg)")):
        assert main(["whatif", *args]) == 2
        assert capsys.readouterr().err == f"bauhof whatif: error: {message}\n"


def test_whatif_from_the_towns_database(
        town: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]) -> None:
    before = _counts(town)
    result = _run(capsys, "--from-db", "--until", "2026-06-01T06:00Z")
    row = town.execute("SELECT count(*) FROM raw_uplinks "
                       "WHERE time < '2026-06-01T06:00Z'").fetchone()
    assert row is not None
    assert result["uplinks"] == row[0] > 0
    assert result["dead_letters"] == 0
    assert _counts(town) == before


def test_readable_tables(stream: tuple[Path, Path, int], replay: Callable[..., dict[str, Any]],
                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, scenario_file, uplinks = stream
    numbers = replay()
    assert main(["whatif", str(path), "--scenario", str(scenario_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"packaged rules: {numbers['messages']:,} messages, "
                               f"{uplinks:,} uplinks stored, 0 dead letters, ")
    assert lines[1] == "  orders:"
    assert lines[2:2 + len(numbers["orders"])] == [
        f"    {rule:<24} {count:>7,}" for rule, count in sorted(numbers["orders"].items())]
    no_bins = _rules_file(tmp_path, "no-bins.yaml", "bins: {enabled: false}\n")
    assert main(["whatif", str(path), "--scenario", str(scenario_file),
                 "--compare", no_bins]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"orders per rule: A = packaged rules, B = {no_bins} "
                               f"({uplinks:,} uplinks, ")
    full = numbers["orders"]["bins.full"]
    assert f"  {'bins.full':<24} {full:>7,} {0:>7,} {0:>7,} {full:>7,}" in lines
    start = lines.index("  lost bins.full, e.g.:")
    assert len(lines[start + 1:start + 4]) == 3
    assert all(line.startswith("    bin:") and " opened 2026-06-0" in line
               for line in lines[start + 1:start + 4])
