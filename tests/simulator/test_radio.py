"""Radio links: log-distance path loss, several gateways, ADR and outages."""

from __future__ import annotations

import random

import pytest

from bauhof.geo import offset
from simulator.radio import NOISE_FLOOR_DBM, Links, path_loss_db, spreading_factor
from simulator.scenario import Gateway

CENTRE = (48.6, 8.87)
GATEWAYS = [
    Gateway(id="0016c001ffa10001", name="A", latitude=CENTRE[0], longitude=CENTRE[1]),
    Gateway(id="0016c001ffa10002", name="B", latitude=offset(*CENTRE, 1500, 0)[0],
            longitude=CENTRE[1]),
]


def _links(place: tuple[float, float], kind: str = "bin", shadowing: float = 0.0) -> Links:
    return Links(GATEWAYS, kind, random.Random(1), tx_power_dbm=14, exponent=3.0,
                 shadowing_db=shadowing, place=place, mobile=False)


def test_path_loss_at_stated_distances() -> None:
    assert path_loss_db(1000, 3.0) == pytest.approx(31.2 + 90)
    assert path_loss_db(0.2, 3.0) == pytest.approx(31.2)
    assert round(NOISE_FLOOR_DBM, 2) == -117.03


def test_median_snr_follows_distance_and_installation_loss() -> None:
    place = offset(*CENTRE, 0, 100)
    links = _links(place)
    # 14 dBm + 3 dBi - (31.2 + 30·log10(100 m)) - 8 dB under a bin lid - noise floor.
    assert links.mean_snr(0, place) == pytest.approx(14 + 3 - 91.2 - 8 - NOISE_FLOOR_DBM,
                                                     abs=0.05)
    assert _links(place, "tracker").mean_snr(0, place) == pytest.approx(
        links.mean_snr(0, place) + 8)


def test_one_uplink_is_heard_by_several_gateways_best_first() -> None:
    place = offset(*CENTRE, 750, 0)
    receptions = _links(place).receive(place, random.Random(3), frozenset())
    assert [r.gateway.id for r in receptions] in (
        ["0016c001ffa10001", "0016c001ffa10002"], ["0016c001ffa10002", "0016c001ffa10001"])
    assert receptions[0].rssi >= receptions[1].rssi
    assert all(r.snr == round(r.snr, 1) and r.snr <= 13.5 for r in receptions)


def test_adr_picks_fast_rates_near_and_slow_rates_far() -> None:
    assert _links(offset(*CENTRE, 0, 50)).dr == 5
    far = offset(*CENTRE, 0, 6000)
    assert _links(far).dr < 5
    assert spreading_factor(_links(far).dr) > 7


def test_a_gateway_in_outage_hears_nothing() -> None:
    place = offset(*CENTRE, 10, 0)
    receptions = _links(place).receive(place, random.Random(3), frozenset({"0016c001ffa10001"}))
    assert [r.gateway.id for r in receptions] == ["0016c001ffa10002"]


def test_too_far_means_lost() -> None:
    place = offset(*CENTRE, 0, 80_000)
    assert _links(place).receive(place, random.Random(3), frozenset()) == []
