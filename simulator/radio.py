"""LoRa radio links: which gateways hear an uplink, and with what RSSI and SNR.

Log-distance path loss at 868 MHz with shadowing (Rappaport, "Wireless Communications", §4.9):

    PL(d) = PL(1 m) + 10·n·log10(d / 1 m) + X_dg + L_kind + F        PL(1 m) = 31.2 dB
    RSSI  = P_tx + G_gw - PL(d)                                       P_tx 14 dBm, G_gw 3 dBi
    SNR   = RSSI - N,   N = -174 + 10·log10(125 kHz) + 6 dB = -117 dBm      (capped at 13.5)

n is the path-loss exponent (3 in a small town), X_dg a fixed shadowing of each device-gateway
pair drawn once from N(0, sigma), L_kind the installation loss (soil probe near the ground 6 dB,
sensor under a bin lid 8 dB, tracker on a roof 0 dB) and F fast fading N(0, 2 dB) per uplink.
A gateway demodulates when SNR ≥ the spreading factor's limit (SF7 -7.5 dB … SF12 -20 dB).
Fixed devices use ADR: the fastest data rate leaving a 10 dB margin on the best link; trackers
keep DR3 (SF9) without ADR, as mobile devices should.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

from bauhof.geo import flat_distance_m
from simulator.scenario import Gateway

PL_1M_DB = 31.2
GATEWAY_GAIN_DBI = 3.0
NOISE_FLOOR_DBM = -174 + 10 * math.log10(125_000) + 6.0
SNR_CAP_DB = 13.5
FADING_SIGMA_DB = 2.0
ADR_MARGIN_DB = 10.0
INSTALLATION_LOSS_DB = {"soil": 6.0, "bin": 8.0, "tracker": 0.0, "other": 0.0}
# Demodulation limits per spreading factor (Semtech SX1276 datasheet, table 13).
REQUIRED_SNR_DB = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
MOBILE_DR = 3
# EU868 uplink channels of an 8-channel gateway, in its channel order.
CHANNELS_HZ = (868100000, 868300000, 868500000, 867100000,
               867300000, 867500000, 867700000, 867900000)


class Reception(NamedTuple):
    """One gateway's reception of an uplink (a tuple: made for every uplink and gateway)."""

    gateway: Gateway
    rssi: int
    snr: float


def path_loss_db(distance: float, exponent: float) -> float:
    """Median path loss in dB at `distance` metres."""
    return PL_1M_DB + 10 * exponent * math.log10(max(distance, 1.0))


def spreading_factor(dr: int) -> int:
    """EU868 data rates 0-5 are SF12-SF7 at 125 kHz."""
    return 12 - dr


class Links:
    """The radio situation of one device: shadowing per gateway and its data rate."""

    def __init__(
        self,
        gateways: list[Gateway],
        kind: str,
        rng: random.Random,
        *,
        tx_power_dbm: float,
        exponent: float,
        shadowing_db: float,
        place: tuple[float, float],
        mobile: bool,
    ) -> None:
        self.gateways = gateways
        self.loss_db = INSTALLATION_LOSS_DB.get(kind, 0.0)
        self.tx_power_dbm = tx_power_dbm
        self.exponent = exponent
        self.shadow_db = [rng.gauss(0, shadowing_db) for _ in gateways]
        self.mobile = mobile
        # Fixed devices: the median SNR per gateway never changes, so compute it once.
        self._fixed = None if mobile else [self.mean_snr(i, place) for i in range(len(gateways))]
        self.dr = MOBILE_DR if mobile else self._adr(place)

    def mean_snr(self, index: int, place: tuple[float, float]) -> float:
        """Median SNR at gateway `index` (before fading and the cap)."""
        gateway = self.gateways[index]
        loss = path_loss_db(
            flat_distance_m(place[0], place[1], gateway.latitude, gateway.longitude), self.exponent
        ) + self.shadow_db[index] + self.loss_db
        return self.tx_power_dbm + GATEWAY_GAIN_DBI - loss - NOISE_FLOOR_DBM

    def _adr(self, place: tuple[float, float]) -> int:
        best = max(self.mean_snr(i, place) for i in range(len(self.gateways)))
        for dr in range(5, -1, -1):
            if best - REQUIRED_SNR_DB[spreading_factor(dr)] >= ADR_MARGIN_DB:
                return dr
        return 0

    def receive(
        self, place: tuple[float, float], rng: random.Random, down: frozenset[str]
    ) -> list[Reception]:
        """The gateways that hear an uplink sent from `place`, best first."""
        required = REQUIRED_SNR_DB[spreading_factor(self.dr)]
        heard = []
        fixed = self._fixed
        for index, gateway in enumerate(self.gateways):
            median = fixed[index] if fixed is not None else self.mean_snr(index, place)
            snr = median + rng.gauss(0, FADING_SIGMA_DB)
            if gateway.id in down or snr < required:
                continue
            rssi = round(snr + NOISE_FLOOR_DBM)
            heard.append(Reception(gateway, rssi, round(min(snr, SNR_CAP_DB), 1)))
        heard.sort(key=lambda r: (-r.rssi, r.gateway.id))
        return heard

    def margin_db(self, receptions: list[Reception]) -> int:
        """Demodulation margin of the best reception, as a device-status `margin` (0-31)."""
        if not receptions:
            return 0
        best = max(r.snr for r in receptions)
        return max(0, min(31, int(best - REQUIRED_SNR_DB[spreading_factor(self.dr)])))
