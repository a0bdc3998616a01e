"""The event loop: a priority queue of what happens next, turned into MQTT messages.

Each device has its next uplink time in the queue; hourly weather, daily vehicle plans, bin
collections and delayed deliveries are queued alongside. Ties are broken by a fixed priority
and then by insertion order, and every random choice comes from a `random.Random` seeded from
the run's seed and a name (`"<seed>:noise:<dev_eui>"`), so the same seed gives the same bytes.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from bauhof import codecs
from simulator import devices
from simulator import faults as fault_mod
from simulator.citizens import CitizenBackend, Citizens
from simulator.clock import DAY_US, HOUR_US, US, iso
from simulator.crews import TICK_S, Crew, CrewBackend, Crews, SponsorVisit
from simulator.devices import DeviceSim, EngineError
from simulator.envelope import (
    Encoding,
    rx_info,
    serialize,
    status_event,
    topic,
    uplink_event,
)
from simulator.faults import FaultDice
from simulator.radio import spreading_factor
from simulator.recording import Message
from simulator.scenario import Scenario
from simulator.truth import Truth
from simulator.world import World

__all__ = ["EngineError", "Order", "Share", "Simulator", "merge", "split"]

# Queue priorities at equal times: plan the day, then weather, then work, then radio traffic.
DAY, HOUR, EMPTY, CREW, DELIVER, UPLINK = range(6)
# A message's place in a run: (time, priority, device index).
Order = tuple[int, int, int]
TRACKING_INTERVAL_S = 120
JITTER_US = 2 * US


def uuid4_text(bits: int) -> str:
    """`str(uuid.UUID(int=bits, version=4))` without the UUID object (one per uplink)."""
    # RFC 4122 §4.4: the variant bits 10, the version 4.
    bits = (bits & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def run_key(scenario: Scenario, seed: int, start_us: int) -> str:
    """What a run's deduplication ids derive from: the seed, the start and the scenario's
    content (a digest), so only the same run repeated gives the same ids."""
    # Sorted keys: the same scenario read from a file whose mappings are ordered differently
    # is the same scenario.
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{seed}:{start_us}:{digest}"


@dataclass(frozen=True, slots=True)
class Share:
    """The part of a run's traffic one simulator yields: the uplinks (and status events) of
    these devices, and the hourly weather messages if `weather`."""

    devices: frozenset[str]
    weather: bool


def split(scenario: Scenario, count: int) -> list[Share]:
    """The scenario's traffic in `count` shares of about equal size, for simulators that run
    in parallel: every asset's devices in one share (an asset's state advances as its sensors
    look at it), the weather in the first. Together the shares yield exactly the messages of
    the whole run (see `Simulator`)."""
    if count < 1:
        raise ValueError(f"cannot split a run into {count} shares")
    groups: dict[str, list[str]] = {}
    weights: dict[str, float] = {}
    for device in scenario.devices:
        asset = device.asset or device.dev_eui
        groups.setdefault(asset, []).append(device.dev_eui)
        interval = device.expected_interval_s or devices.DEFAULT_INTERVAL_S
        if asset.startswith("vehicle/"):
            # Tracked every two minutes on a shift of about a quarter of the week.
            interval = min(interval, 4 * TRACKING_INTERVAL_S)
        weights[asset] = weights.get(asset, 0.0) + 1 / interval
    loads = [0.0] * count
    members: list[set[str]] = [set() for _ in range(count)]
    for asset in sorted(groups, key=lambda a: (-weights[a], a)):
        lightest = loads.index(min(loads))
        loads[lightest] += weights[asset]
        members[lightest].update(groups[asset])
    return [Share(frozenset(m), weather=i == 0) for i, m in enumerate(members)]


def merge(shares: Iterable[Iterator[tuple[Order, Message]]]) -> Iterator[Message]:
    """The messages of a split run's shares (their `ordered()`) in the whole run's order."""
    for _, message in heapq.merge(*shares, key=itemgetter(0)):
        yield message


class Simulator:
    """Simulates the scenario from `start_us` to `end_us` and yields what gets published.

    With a `share` it yields only that share's messages, byte for byte as the whole run
    would: the town (weather, vehicles' days, collections, town-wide faults and every random
    stream) is simulated in full, only the other devices' uplinks are skipped. The shares of
    `split` merged by time are the whole run's stream (messages of different shares at the
    very same microsecond may come in another order). Crews and citizens act on the whole
    town and cannot be split.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int,
        start_us: int,
        end_us: int,
        encoding: Encoding = "json",
        faults: dict[str, float] | None = None,
        truth: Truth | None = None,
        crews: CrewBackend | None = None,
        citizens: CitizenBackend | None = None,
        share: Share | None = None,
    ) -> None:
        if share is not None and (crews is not None or citizens is not None):
            raise EngineError("a simulation with crews or citizens cannot be split in shares")
        self.scenario = scenario
        self.seed = seed
        self.start_us = start_us
        self.end_us = end_us
        self.encoding: Encoding = encoding
        self.truth = truth or Truth()
        self.dice = FaultDice(faults or {}, seed)
        self.world = World(scenario, seed, start_us, self.truth)
        self.run_key = run_key(scenario, seed, start_us)
        self.devices = [
            devices.build(i, d, scenario=scenario, world=self.world, seed=seed, dice=self.dice,
                          run_key=self.run_key)
            for i, d in enumerate(scenario.devices)
        ]
        self.share = share
        # The devices whose uplinks this run yields (all of them unless it has a share).
        self._mine = [share is None or d.config.dev_eui in share.devices for d in self.devices]
        self.crews: Crews | None = None
        if crews is not None:
            vans = sorted(v.id for v in scenario.vehicles if v.kind == "van")
            self.world.crew_vehicles.update(vans)
            self.crews = Crews(crews, self.world, vans, seed)
        self.citizens = Citizens(citizens, seed) if citizens is not None else None
        self.gateways_down: dict[str, int] = {}
        self.burst_until_us = 0
        self.published = 0
        self.now_us = start_us
        self._queue: list[tuple[int, int, int, int, Any]] = []
        self._seq = 0

    def _push(self, t_us: int, priority: int, item: Any, device: int = 0) -> None:
        # At equal times and priorities, devices' traffic is ordered by the device's index
        # (the same in every share of a split run), everything else by insertion.
        self._seq += 1
        heapq.heappush(self._queue, (t_us, priority, device, self._seq, item))

    def messages(self) -> Iterator[Message]:
        """Run the simulation, yielding each message at its virtual publish time, in order."""
        for _, message in self.ordered():
            yield message

    def ordered(self) -> Iterator[tuple[Order, Message]]:
        """The messages, each with its place in the whole run's order: the shares of a split
        run merged by it (`merge`) are the whole run's stream."""
        town_time = self.world.town_time
        self._push(self.start_us, DAY, town_time.local_midnight_us(self.start_us))
        self._push(-(-self.start_us // HOUR_US) * HOUR_US, HOUR, None)
        for dev, mine in zip(self.devices, self._mine, strict=True):
            dev.last_us = self.start_us
            dev.last_status_us = self.start_us - round(
                dev.noise.uniform(0, self.scenario.simulation.status_interval_h * 3600) * US
            )
            first = self.start_us + round(dev.noise.uniform(0, dev.interval_s) * US)
            if mine:
                self._push(first, UPLINK, (dev, dev.generation), dev.index)
        if self.crews is not None:
            self._push(self.start_us, CREW, None)
        while self._queue:
            t_us, priority, device, _, item = heapq.heappop(self._queue)
            if t_us >= self.end_us and priority != DELIVER:
                continue
            self.now_us = t_us
            if priority == DAY:
                self._plan_day(item)
            elif priority == HOUR:
                for message in self._hour(t_us):
                    yield (t_us, HOUR, 0), message
            elif priority == EMPTY:
                self.world.empty_bin(item[0], t_us, by=item[1])
            elif priority == CREW:
                self._crew(t_us, item)
            elif priority == DELIVER:
                for message in item:
                    yield (t_us, DELIVER, device), self._count(
                        Message(t_us, message.topic, message.payload, message.format))
            else:
                dev, generation = item
                if generation == dev.generation and not dev.dead:
                    for message in self._uplink(dev, t_us):
                        yield (t_us, UPLINK, device), message
        self.truth.summary(self.end_us, self.published)

    def _crew(self, t_us: int, who: Crew | SponsorVisit | None) -> None:
        assert self.crews is not None
        if who is None:
            for done_us, busy in self.crews.tick(t_us):
                self._push(done_us, CREW, busy)
            self._push(t_us + TICK_S * US, CREW, None)
            return
        order = who.order if isinstance(who, Crew) else None
        self.crews.complete(t_us, who)
        if order is not None and order.kind == "sensor_maintenance":
            for dev in self.devices:
                if dev.config.dev_eui == order.subject_id:
                    # Serviced: a new battery, restarted; it reports again a minute later.
                    dev.silent_until_us = 0
                    if dev.dead:
                        dev.dead = False
                        dev.generation += 1
                        self._push(t_us + 60 * US, UPLINK, (dev, dev.generation), dev.index)

    def _count(self, message: Message) -> Message:
        self.published += 1
        return message

    def _plan_day(self, day_us: int) -> None:
        if self.citizens is not None and day_us >= self.start_us:
            for event, subject in self.citizens.day(day_us):
                self.truth.write(day_us, "portal", event=event, subject=subject)
        for visit, vehicle in self.world.plan_day(day_us):
            if visit.time_us >= self.now_us:
                self._push(visit.time_us, EMPTY, (visit.stop, vehicle))
        self._push(self.world.town_time.local_midnight_us(day_us + DAY_US + 2 * HOUR_US),
                   DAY, self.world.town_time.local_midnight_us(day_us + DAY_US + 2 * HOUR_US))

    def _hour(self, t_us: int) -> Iterator[Message]:
        hour = self.world.weather.at(t_us)
        station = self.world.weather.station
        self.truth.write(t_us, "weather", station=station, rain_mm_h=hour.rain_mm_h,
                         temperature_c=hour.temperature_c,
                         forecast_rain_mm_24h=hour.forecast_rain_mm_24h)
        if self.share is None or self.share.weather:
            yield self._count(Message(t_us, f"bauhof/weather/{station}", hour.message(),
                                      "json"))
        for gateway, until in list(self.gateways_down.items()):
            if until <= t_us:
                del self.gateways_down[gateway]
        town = self.dice.town
        if self.dice.hourly("gateway-outage"):
            gateway = town.choice(self.scenario.gateways).id
            until = t_us + town.randint(*fault_mod.OUTAGE_HOURS) * HOUR_US
            self.gateways_down[gateway] = until
            self.truth.write(t_us, "fault", fault="gateway-outage", gateway=gateway,
                             until=iso(until))
        if self.dice.hourly("burst"):
            self.burst_until_us = t_us + fault_mod.BURST_MINUTES * 60 * US
            self.truth.write(t_us, "fault", fault="burst", until=iso(self.burst_until_us))
            for dev, mine in zip(self.devices, self._mine, strict=True):
                if not dev.dead:
                    dev.generation += 1
                    # Drawn for every device, so that each share draws the same numbers.
                    delay = round(town.uniform(0, fault_mod.BURST_INTERVAL_S) * US)
                    if mine:
                        self._push(t_us + delay, UPLINK, (dev, dev.generation), dev.index)
        self._push(t_us + HOUR_US, HOUR, None)

    def _next_uplink(self, dev: DeviceSim, t_us: int) -> None:
        if t_us < self.burst_until_us:
            interval_us = fault_mod.BURST_INTERVAL_S * US
        elif dev.asset_type == "vehicle":
            plan = self.world.plans[dev.asset_id]
            on_shift = plan.on_shift(t_us)
            interval_us = (TRACKING_INTERVAL_S if on_shift else dev.interval_s) * US
            if not on_shift and plan.legs and t_us < plan.legs[0].start_us:
                interval_us = min(interval_us, plan.legs[0].start_us - t_us)
        else:
            interval_us = dev.interval_s * US
        jitter = dev.noise.randint(-JITTER_US, JITTER_US) if interval_us > 4 * JITTER_US else 0
        self._push(t_us + interval_us + jitter, UPLINK, (dev, dev.generation), dev.index)

    def _device_faults(self, dev: DeviceSim, t_us: int) -> None:
        rng, eui = dev.fault_rng, dev.config.dev_eui
        seconds = (t_us - dev.last_us) / US
        if self.dice.device(rng, "fcnt-reset", seconds):
            self.truth.write(t_us, "fault", fault="fcnt-reset", dev_eui=eui, f_cnt_before=dev.f_cnt)
            dev.f_cnt = 0
        if t_us >= dev.silent_until_us and self.dice.device(rng, "silent", seconds):
            dev.silent_until_us = t_us + rng.randint(*fault_mod.SILENT_HOURS) * HOUR_US
            self.truth.write(t_us, "fault", fault="silent", dev_eui=eui,
                             until=iso(dev.silent_until_us))
        battery = self.world.batteries[eui]
        if not battery.dying_per_day and self.dice.device(rng, "battery", seconds):
            battery.dying_per_day = rng.uniform(*fault_mod.DYING_PER_DAY)
            self.truth.write(t_us, "fault", fault="battery", dev_eui=eui,
                             charge=round(battery.charge, 4),
                             per_day=round(battery.dying_per_day, 3))

    def _uplink(self, dev: DeviceSim, t_us: int) -> Iterator[Message]:
        self._next_uplink(dev, t_us)
        eui = dev.config.dev_eui
        if self.dice.rates:
            self._device_faults(dev, t_us)
        if t_us < dev.silent_until_us:
            return
        battery = self.world.batteries[eui]
        battery.use((t_us - dev.last_us) / US, spreading_factor(dev.links.dr))
        dev.last_us = t_us
        if battery.charge <= 0:
            dev.dead = True
            self.truth.write(t_us, "battery_dead", dev_eui=eui)
            return
        readings, true = devices.measure(dev, self.world, t_us)
        applied: list[str] = []
        rng = dev.fault_rng
        if self.dice.uplink(rng, "absurd"):
            name, value = fault_mod.ABSURD[dev.kind]
            readings = {**readings, name: value}
            applied.append("absurd")
        f_port, data = codecs.encode(dev.config.model, readings)
        if self.dice.uplink(rng, "truncated"):
            data = fault_mod.truncate(data, rng)
            applied.append("truncated")
        receptions = dev.links.receive(dev.place, dev.radio, frozenset(self.gateways_down))
        dedup = uuid4_text(dev.ids.getrandbits(128))
        uplink_ids = [dev.ids.getrandbits(32) for _ in receptions]
        channel = dev.ids.randrange(8)
        ns_delay_us = dev.ids.randrange(15_000, 40_000)
        f_cnt = dev.f_cnt
        dev.f_cnt = (dev.f_cnt + 1) % 2**32
        if not receptions:
            self._frame_truth(t_us, "lost", dev, f_cnt=f_cnt, f_port=f_port, gateways=0,
                              readings=readings, true=true)
            return
        up_topic = topic(dev.application_id, eui, "up")
        if self.encoding == "json":
            payload = dev.renderer.render(
                deduplication_id=dedup, t_us=t_us, f_cnt=f_cnt, f_port=f_port, data=data,
                receptions=receptions, ns_delay_us=ns_delay_us, uplink_ids=uplink_ids,
                channel=channel)
        else:
            event = uplink_event(
                dev.device_info, deduplication_id=dedup, t_us=t_us, dev_addr=dev.dev_addr,
                adr=not dev.links.mobile, dr=dev.links.dr, f_cnt=f_cnt, f_port=f_port,
                data=data, rx=rx_info(receptions, t_us, ns_delay_us, uplink_ids, channel),
                channel=channel, region=self.scenario.simulation.region,
            )
            payload = serialize(event, "up", self.encoding)
        if self.dice.uplink(rng, "malformed"):
            payload = fault_mod.malform(payload, self.encoding, rng)
            applied.append("malformed")
        batch = [Message(t_us, up_topic, payload, self.encoding)]
        status_due = self.scenario.simulation.status_interval_h * HOUR_US
        if t_us - dev.last_status_us >= status_due:
            dev.last_status_us = t_us
            status = status_event(dev.device_info, deduplication_id=dedup, t_us=t_us,
                                  margin=dev.links.margin_db(receptions),
                                  battery_pct=round(battery.charge * 100, 1))
            batch.append(Message(t_us, topic(dev.application_id, eui, "status"),
                                 serialize(status, "status", self.encoding), self.encoding))
        if self.dice.uplink(rng, "dup"):
            batch.insert(1, batch[0])
            applied.append("dup")
        if self.dice.uplink(rng, "late"):
            delay = round(rng.uniform(*fault_mod.LATE_DELAY_S) * US)
            self._push(t_us + delay, DELIVER, batch, dev.index)
            applied.append("late")
        else:
            for message in batch:
                yield self._count(message)
        for fault in applied:
            self.truth.write(t_us, "fault", fault=fault, dev_eui=eui, deduplication_id=dedup)
        self._frame_truth(t_us, "uplink", dev, f_cnt=f_cnt, f_port=f_port,
                          gateways=len(receptions), readings=readings, true=true,
                          deduplication_id=dedup, faults=applied)

    def _frame_truth(self, t_us: int, kind: str, dev: DeviceSim, *, f_cnt: int, f_port: int,
                     gateways: int, readings: codecs.Readings, true: dict[str, Any],
                     **first: Any) -> None:
        """A frame's ground truth (`uplink` or `lost`): the fields `first`, then what it
        carried. Only counted when no truth is written: building entries that go nowhere was
        ~5 % of the simulation's work."""
        if not self.truth.writes:
            self.truth.count(kind)
            return
        self.truth.write(t_us, kind, **first, dev_eui=dev.config.dev_eui,
                         asset=f"{dev.asset_type}/{dev.asset_id}", f_cnt=f_cnt, f_port=f_port,
                         gateways=gateways, readings=readings, true=true)
