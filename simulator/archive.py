"""Recordings rebuilt from a Bauhof database: every stored raw uplink as an `up` event again.

The event carries what `raw_uplinks` kept — deduplicationId, time, fCnt, fPort, the payload
bytes, confirmed, dr, frequency, the gateways' `rxInfo` as stored (or one entry from rssi/snr
when it was not), `object` — with `deviceInfo` completed from the `devices` table. What ingest
does not store (devAddr, tenant, application name) is left empty, as ChirpStack leaves unset
fields. Messages come in time order, published at their event time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bauhof import db
from simulator.clock import iso, to_us
from simulator.envelope import Event, topic
from simulator.radio import spreading_factor
from simulator.recording import Message

QUERY = """
SELECT r.time, r.dev_eui, r.deduplication_id, r.application_id, r.f_cnt, r.f_port, r.payload,
       r.confirmed, r.dr, r.frequency, r.rssi, r.snr, r.rx_info, r.object,
       d.name, d.model, d.device_profile_id, d.device_profile_name, d.tags
FROM raw_uplinks r LEFT JOIN devices d ON d.dev_eui = r.dev_eui
WHERE (%(since)s::timestamptz IS NULL OR r.time >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR r.time < %(until)s)
ORDER BY r.time, r.deduplication_id
"""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def rebuild(row: tuple[Any, ...]) -> tuple[str, Event]:
    """The topic and `up` event of one raw_uplinks row (joined with its device)."""
    (time, dev_eui, dedup, app, f_cnt, f_port, payload, confirmed, dr, frequency, rssi, snr,
     rx_info, obj, name, model, profile_id, profile_name, tags) = row
    t_us = to_us(time)
    rx = _json(rx_info)
    if not rx:
        rx = [] if rssi is None else [{"rssi": rssi, "snr": snr if snr is not None else 0.0,
                                       "gwTime": iso(t_us), "crcStatus": "CRC_OK"}]
    event: Event = {
        "deduplicationId": str(dedup),
        "time": iso(t_us),
        "deviceInfo": {
            "tenantId": "", "tenantName": "", "applicationId": app, "applicationName": "",
            "deviceProfileId": profile_id or "", "deviceProfileName": profile_name or model or "",
            "deviceName": name or dev_eui, "devEui": dev_eui, "deviceClassEnabled": "CLASS_A",
            "tags": _json(tags) or {},
        },
        "devAddr": "",
        "adr": False,
        "dr": dr if dr is not None else 0,
        "fCnt": f_cnt,
        "fPort": f_port,
        "confirmed": bool(confirmed),
        "data": base64.b64encode(bytes(payload)).decode(),
    }
    if obj is not None:
        event["object"] = _json(obj)
    event["rxInfo"] = rx
    if frequency is not None:
        lora = {"bandwidth": 125000, "codeRate": "CR_4_5"}
        if dr is not None and 0 <= dr <= 5:
            lora["spreadingFactor"] = spreading_factor(dr)
        event["txInfo"] = {"frequency": frequency, "modulation": {"lora": lora}}
    return topic(app, dev_eui, "up"), event


def event_time(row: tuple[Any, ...]) -> datetime:
    """The `time` column of a row."""
    moment: datetime = row[0]
    return moment


def from_database(
    url: str, since: datetime | None = None, until: datetime | None = None
) -> Iterator[Message]:
    """Messages rebuilt from `raw_uplinks`, in time order, streamed with a server-side cursor."""
    with db.connect(url) as conn, conn.cursor(name="bauhof_replay") as cursor:
        cursor.itersize = 5000
        cursor.execute(QUERY, {"since": since, "until": until})
        for row in cursor:
            event_topic, event = rebuild(row)
            payload = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
            yield Message(to_us(event_time(row)), event_topic, payload, "json")
