"""The simulated sensors: identity, radio, counters and random streams of each device, and what
it measures of the world when it wakes up to send.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from bauhof import codecs
from simulator import SimulatorError
from simulator.bins import sensor_distance_mm
from simulator.envelope import DeviceIdentity, Event, UplinkRenderer
from simulator.faults import FaultDice
from simulator.radio import Links
from simulator.scenario import Device, Scenario
from simulator.sensors import SIMULATED_MODELS, bin_readings, soil_readings, tracker_readings
from simulator.world import World

DEFAULT_INTERVAL_S = 1200


class EngineError(SimulatorError):
    """A scenario the engine cannot simulate; names the device and what to change."""


@dataclass
class DeviceSim:
    """One sensor's identity, radio, counters and random streams."""

    config: Device
    kind: str
    asset_type: str
    asset_id: str
    application_id: str
    device_info: Event
    links: Links
    interval_s: int
    noise: random.Random
    ids: random.Random
    radio: random.Random
    fault_rng: random.Random
    dev_addr: str
    place: tuple[float, float]
    renderer: UplinkRenderer  # its `up` events as JSON bytes
    index: int = 0  # its place in the scenario's device list
    f_cnt: int = 0
    last_us: int = 0
    last_status_us: int = 0
    silent_until_us: int = 0
    dead: bool = False
    generation: int = 0


def build(
    index: int, dev: Device, *, scenario: Scenario, world: World, seed: int, dice: FaultDice,
    run_key: str | None = None,
) -> DeviceSim:
    """The simulated device for `devices[index]`; EngineError when it cannot be simulated.

    `run_key` (seed, start and scenario; see `Simulator.run_key`) seeds the identifiers each
    uplink carries, so the same seed on another day or town is new data to ingest, while the
    same run replayed is recognised as duplicates.
    """
    where = f"devices[{index}] ({dev.dev_eui})"
    if dev.model not in SIMULATED_MODELS:
        raise EngineError(f"{where}: the simulator has no sensor model for {dev.model!r}")
    ref = dev.asset_ref
    if ref is None:
        raise EngineError(f"{where}: the simulator needs every sensor mounted on an asset")
    asset_type, asset_id = ref
    sim = scenario.simulation
    app = dev.application_id or sim.default_application
    kind = codecs.get(dev.model).kind
    place = world.place_of(asset_type, asset_id) or world.depot
    streams = f"{seed}:{{}}:{dev.dev_eui}"
    identity = DeviceIdentity(
        tenant_id=sim.tenant_id, tenant_name=sim.tenant_name, application_id=app,
        application_name=sim.applications[app], model=dev.model,
        device_name=dev.name or dev.dev_eui, dev_eui=dev.dev_eui, tags=dev.tags,
    )
    # The device's address stays what the seed alone made it (a device keeps its session).
    dev_addr = random.Random(streams.format("ids")).getrandbits(32)
    ids = random.Random(f"{run_key or seed}:ids:{dev.dev_eui}")
    links = Links(
        scenario.gateways, kind, random.Random(streams.format("shadowing")),
        tx_power_dbm=sim.tx_power_dbm, exponent=sim.path_loss_exponent,
        shadowing_db=sim.shadowing_db, place=place, mobile=asset_type == "vehicle",
    )
    device_info = identity.device_info()
    renderer = UplinkRenderer(device_info, dev_addr=f"{dev_addr:08x}", adr=not links.mobile,
                              dr=links.dr, region=sim.region)
    return DeviceSim(
        config=dev, kind=kind, asset_type=asset_type, asset_id=asset_id, application_id=app,
        device_info=device_info, links=links,
        interval_s=dev.expected_interval_s or DEFAULT_INTERVAL_S,
        noise=random.Random(streams.format("noise")), ids=ids,
        radio=random.Random(streams.format("radio")), fault_rng=dice.device_rng(dev.dev_eui),
        dev_addr=f"{dev_addr:08x}", place=place, renderer=renderer, index=index,
    )


def measure(dev: DeviceSim, world: World, t_us: int) -> tuple[codecs.Readings, dict[str, Any]]:
    """What the device reads now (noisy, quantised) and the true state it reads from."""
    model = dev.config.model
    battery = world.batteries[dev.config.dev_eui]
    air_c = world.weather.at(t_us).temperature_c
    if dev.asset_type == "green_area":
        soil = world.soil(dev.asset_id, t_us)
        readings = soil_readings(
            model, moisture_pct=soil.moisture_pct, soil_c=soil.temperature_c, air_c=air_c,
            conductivity_per_pct=world.conductivity[dev.asset_id], battery=battery,
            rng=dev.noise,
        )
        return readings, {"soil_moisture_pct": round(soil.moisture_pct, 3),
                          "soil_temperature_c": round(soil.temperature_c, 2)}
    if dev.asset_type == "bin":
        fill = world.bin_fill(dev.asset_id, t_us)
        b = world.bin_config[dev.asset_id]
        distance = sensor_distance_mm(fill, b.empty_distance_mm, b.full_distance_mm, dev.noise)
        return (bin_readings(model, distance, air_c, battery, dev.noise),
                {"fill_pct": round(fill * 100, 2)})
    place, moving, _ = world.vehicle_at(dev.asset_id, t_us)
    dev.place = place
    readings = tracker_readings(model, place=place, moving=moving, air_c=air_c,
                                battery=battery, rng=dev.noise)
    return readings, {"latitude": round(place[0], 6), "longitude": round(place[1], 6),
                      "moving": moving}
