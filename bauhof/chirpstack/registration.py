"""Devices Bauhof learns of from ChirpStack, by an event's `deviceInfo` (ingest) or by
`bauhof chirpstack sync`: one insert for both, so the two register the same columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import psycopg

# Who registered a device (the devices.registered_by check allows these and 'operator').
RegisteredBy = Literal["ingest", "chirpstack"]


def insert_devices(cur: psycopg.Cursor[Any], devices: Sequence[tuple[Any, ...]],
                   registered_by: RegisteredBy) -> None:
    """Insert devices Bauhof does not know yet, each `(dev_eui, model, kind, name,
    application_id, device_profile_id, device_profile_name, tags as JSON text)`; a device
    registered meanwhile (by another ingest worker, or the import) stays as it is."""
    cur.executemany(
        "INSERT INTO devices (dev_eui, model, kind, name, application_id,"
        " device_profile_id, device_profile_name, tags, registered_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
        " ON CONFLICT (dev_eui) DO NOTHING",
        [(*device, registered_by) for device in devices],
    )
