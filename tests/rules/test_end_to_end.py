"""End to end: the default town simulated at full speed, crews off, through `bauhof ingest`
into the rules engine, which then reads the stored stream (as after a restart); the orders are
checked against the simulator's ground truth: a week of the default town, crews off."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bauhof.services import Mosquitto
from rules import orders, ruleset
from rules.assets import Bin, Weather, load_town
from rules.engine import RulesEngine
from rules.watering import rain_hold
from simulator import scenario, truth
from simulator.bench import wait_for_rows
from simulator.bins import DISTANCE_NOISE_MM
from simulator.sensors import MOISTURE_NOISE_PCT
from simulator.session import Simulation
from tests.simulator.conftest import ingest_process, target

DAYS = 7.0
FAULTS = {"silent": 0.02, "battery": 0.01, "absurd": 0.002}


@pytest.fixture
def ingest(database_url: str, broker: Mosquitto, tmp_path: Path) -> Iterator[None]:
    """`bauhof ingest` as a process on the fixtures' broker and database, town loaded."""
    with ingest_process(database_url, broker, tmp_path):
        yield


def _silent_devices(entries: list[dict[str, Any]], intervals: dict[str, int]) -> set[str]:
    """Devices whose received uplinks have a gap longer than three expected intervals."""
    times: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        if e["kind"] == "uplink":
            times[e["dev_eui"]].append(datetime.fromisoformat(e["time"]).timestamp())
    end = max(t for ts in times.values() for t in ts)
    silent = set()
    for dev, ts in times.items():
        ts.sort()
        limit = 3 * intervals[dev]
        if any(b - a > limit for a, b in zip(ts, [*ts[1:], end], strict=True)):
            silent.add(dev)
    return silent


def _full_bins(entries: list[dict[str, Any]], bins: dict[str, Bin], thresholds: dict[str, float],
               *, measured: bool, margin: float = 0.0) -> set[str]:
    """Bins whose fill reached their threshold (plus `margin` % of the bin's own noise).

    measured: the fill the sensor reported (its distance through the bin's geometry, as the
    rules define it); else the simulator's true fill.
    """
    out = set()
    for e in entries:
        if e["kind"] != "uplink" or not e["asset"].startswith("bin/"):
            continue
        b = bins[e["asset"].split("/", 1)[1]]
        fill = b.fill_pct(e["readings"]["distance_mm"]) if measured else e["true"]["fill_pct"]
        noise = 100 * DISTANCE_NOISE_MM / (b.empty_distance_mm - b.full_distance_mm)
        if fill >= thresholds[b.id] + margin * noise:
            out.add(b.id)
    return out


def _raining(times: list[float], reports: list[dict[str, Any]], t: float,
             p: ruleset.WateringParams) -> bool:
    """Whether the newest weather report at `t` (reports sorted by time) holds watering back."""
    i = bisect.bisect_right(times, t) - 1
    if i < 0 or t - times[i] >= p.weather_max_age_h * 3600:
        return False
    w = reports[i]
    report = Weather(datetime.fromisoformat(w["time"]), w["rain_mm_h"], w["forecast_rain_mm_24h"])
    return rain_hold(report, p) is not None


def _dry_areas(entries: list[dict[str, Any]], params: dict[str, ruleset.WateringParams], *,
               measured: bool, margin: float = 0.0) -> set[str]:
    """Areas whose moisture (mean of their probes) stayed below the low threshold plus
    `margin` noise deviations for the sustain time, at a moment no rain held watering back."""
    reports = [e for e in entries if e["kind"] == "weather"]
    times = [datetime.fromisoformat(e["time"]).timestamp() for e in reports]
    probes: dict[str, dict[str, float]] = defaultdict(dict)
    since: dict[str, float | None] = {}
    out = set()
    for e in entries:
        if e["kind"] != "uplink" or not e["asset"].startswith("green_area/"):
            continue
        area = e["asset"].split("/", 1)[1]
        p = params[area]
        t = datetime.fromisoformat(e["time"]).timestamp()
        probes[area][e["dev_eui"]] = e["readings" if measured else "true"]["soil_moisture_pct"]
        value = sum(probes[area].values()) / len(probes[area])
        if value >= p.low_pct + margin * MOISTURE_NOISE_PCT:
            since[area] = None
            continue
        start = since.get(area)
        if start is None:
            since[area] = start = t
        if t - start >= p.sustain_h * 3600 and not _raining(times, reports, t, p):
            out.add(area)
    return out


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_week_of_the_default_town_gives_the_orders_the_truth_calls_for(
        database_url: str, broker: Mosquitto, ingest: None, tmp_path: Path) -> None:
    town = scenario.load("herrenberg")
    run = Simulation(town, seed=3, start=town.simulation.start, days=DAYS, faults=FAULTS,
                     truth=tmp_path / "truth.jsonl")
    run.execute(target(broker), speed=None, progress=False)
    entries = list(truth.read(tmp_path / "truth.jsonl"))
    uplinks = sum(1 for e in entries if e["kind"] == "uplink")
    # Ingest keeps the raw uplink of an absurd reading but refuses its readings.
    refused = {e["deduplication_id"] for e in entries
               if e["kind"] == "fault" and e["fault"] == "absurd"}
    entries = [e for e in entries if e.get("deduplication_id") not in refused
               or e["kind"] == "fault"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        stored = wait_for_rows(conn, uplinks - len(refused), 600)
        assert uplinks - len(refused) <= stored <= uplinks
        # One rule set for the engine and for what the truth calls for (no forecast: a bin's
        # order is opened when it is full, not ahead of it).
        rules = ruleset.parse("bins: {forecast: false}")
        engine = RulesEngine(database_url, rules)
        try:
            engine.catch_up()
        finally:
            engine.close()
        found = orders.list_orders(conn)
        intervals = {str(d): int(i) for d, i in conn.execute(
            "SELECT dev_eui, expected_interval_s FROM devices")}
        town_now = load_town(conn)
        soil = {str(d) for (d,) in conn.execute(
            "SELECT dev_eui FROM devices WHERE kind = 'soil'")}
    thresholds = {b.id: rules.bins_for(b.id, b.fill_threshold_pct).fill_threshold_pct
                  for b in town_now.bins.values()}
    watering = {a.id: rules.watering_for(a.id, a.plant_type, a.moisture_low_pct,
                                         a.moisture_clear_pct) for a in town_now.areas.values()}
    by_rule: dict[str, set[str]] = defaultdict(set)
    for order in found:
        # Areas whose probes fell silent are watered by their water balance instead.
        balance = order.params.get("source") == "water_balance"
        by_rule[order.rule + (":balance" if balance else "")].add(order.subject_id)
    faults: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e["kind"] == "fault":
            faults[e["fault"]].add(e["dev_eui"])
    expected_silent = _silent_devices(entries, intervals)
    assert by_rule["health.silent"] == expected_silent
    silent_areas = {town_now.devices[d].asset_id for d in expected_silent & soil}
    assert by_rule["watering.dry:balance"] <= silent_areas
    assert faults["silent"] <= by_rule["health.silent"]
    # Every absurd reading is impossible: soil moisture 300 % by the physical limits, a 9 m
    # distance by the bin sensor's own range, latitude 89.9° by the town's area.
    assert by_rule["health.impossible"] == faults["absurd"]
    assert faults["absurd"] & soil and faults["absurd"] - soil
    # Exactly the bins and areas the readings called for, by the rules' own definitions ...
    full = _full_bins(entries, town_now.bins, thresholds, measured=True)
    assert by_rule["bins.full"] == full
    dry = _dry_areas(entries, watering, measured=True)
    assert by_rule["watering.dry"] == dry
    # ... which are the ones the ground truth shows, but for those within five standard
    # deviations of the sensor noise of their threshold (either way is right for them).
    surely_full = _full_bins(entries, town_now.bins, thresholds, measured=False, margin=5)
    maybe_full = _full_bins(entries, town_now.bins, thresholds, measured=False, margin=-5)
    assert surely_full <= full <= maybe_full and len(surely_full) >= 30
    surely_dry = _dry_areas(entries, watering, measured=False, margin=-5)
    maybe_dry = _dry_areas(entries, watering, measured=False, margin=5)
    assert surely_dry <= dry <= maybe_dry and len(surely_dry) >= 4
    # Batteries that were made to die, and no others, are reported (some not low enough yet).
    assert by_rule["health.battery"] <= faults["battery"]


@pytest.mark.slow
def test_with_crews_on_orders_are_worked_off_and_confirmed_by_the_readings(
        database_url: str, broker: Mosquitto, ingest: None, tmp_path: Path) -> None:
    from simulator.crews import DatabaseCrews

    town = scenario.load("herrenberg")
    crews = DatabaseCrews(database_url)
    engine = RulesEngine(database_url, ruleset.parse("bins: {forecast: false}"))
    stop = threading.Event()
    worker = threading.Thread(target=engine.run, args=(stop,), kwargs={"poll_s": 0.05})
    worker.start()
    try:
        run = Simulation(town, seed=3, start=town.simulation.start, days=1.0, crews=crews,
                         truth=tmp_path / "truth.jsonl")
        run.execute(target(broker), speed=3600, progress=False)
    finally:
        stop.set()
        worker.join(30)
        engine.close()
        crews.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        found = orders.list_orders(conn)
        reopened = conn.execute(
            "SELECT count(*) FROM work_orders a JOIN work_orders b ON a.rule = b.rule "
            "AND a.subject_id = b.subject_id AND b.id > a.id WHERE a.status = 'done' "
            "AND a.kind = 'empty_bin' AND b.opened_at < a.resolved_at + interval '1 hour'"
        ).fetchone()
    done = [o for o in found if o.status == "done"]
    assert len(done) == run.summary["orders_done"] > 0
    assert all((o.resolved_by or "").startswith("crew:crew-") for o in done)
    # The readings after a crew emptied a bin confirm it: no empty-bin order comes back.
    assert reopened == (0,)
    emptied = [e for e in truth.read(tmp_path / "truth.jsonl")
               if e["kind"] == "emptied" and str(e.get("by", "")).startswith("crew-")]
    assert len(emptied) == sum(1 for o in done if o.kind == "empty_bin")
