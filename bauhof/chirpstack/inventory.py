"""The import side of `bauhof chirpstack sync`: ChirpStack's devices registered in Bauhof.

A device Bauhof does not know is inserted (`registered_by = 'chirpstack'`) with its model
resolved as ingest does it (`ingest/devices.py` `resolve_model`): the `bauhof_model` tag first,
then the device profile's name, else kind `other`. A device Bauhof knows keeps everything an
operator set (name, model, asset, tags, application); only empty fields are filled and the
ChirpStack-owned profile id and name follow ChirpStack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from bauhof import codecs
from bauhof.chirpstack.api import ChirpStack
from bauhof.chirpstack.registration import insert_devices
from bauhof.chirpstack.sync import Change, StoredDevice


@dataclass(frozen=True, slots=True)
class Pulled:
    """What the import found: the summary lines and the rows to write."""

    changes: list[Change]
    inserts: list[tuple[Any, ...]]
    updates: list[tuple[str, dict[str, Any]]]


def model_of(tags: dict[str, str], profile_name: str) -> tuple[str | None, str]:
    """(model id or None, where it came from), the `bauhof_model` tag winning."""
    known = set(codecs.models())
    if tags.get("bauhof_model") in known:
        return tags["bauhof_model"], "bauhof_model tag"
    if profile_name in known:
        return profile_name, "device profile name"
    return None, ""


def pull(client: ChirpStack, stored: dict[str, StoredDevice],
         applications: list[str]) -> Pulled:
    """Compare each application's devices with Bauhof's; nothing is written here."""
    result = Pulled([], [], [])
    for app in applications:
        for item in sorted(client.devices(app), key=lambda i: str(i.dev_eui)):
            dev_eui = str(item.dev_eui).lower()
            row = stored.get(dev_eui)
            if row is None:
                _new_device(client, result, app, item)
            else:
                _known_device(client, result, app, item, row)
    return result


def _new_device(client: ChirpStack, result: Pulled, app: str, item: Any) -> None:
    dev_eui = str(item.dev_eui).lower()
    # List items carry no tags before ChirpStack 4.11: read the device for them.
    device = client.get_device(dev_eui)
    tags = dict(device.tags) if device is not None else {}
    model, source = model_of(tags, item.device_profile_name)
    kind = codecs.get(model).kind if model else "other"
    kept = {k: v for k, v in tags.items() if not k.startswith("bauhof_")}
    result.inserts.append((dev_eui, model, kind, item.name or None, app,
                           item.device_profile_id, item.device_profile_name, json.dumps(kept)))
    detail = (f"model {model} (from the {source})" if model else
              f"kind other: neither a bauhof_model tag nor the profile name "
              f"{item.device_profile_name!r} is a Bauhof model")
    result.changes.append(Change("bauhof", "device", dev_eui, "created", detail))


def _known_device(client: ChirpStack, result: Pulled, app: str, item: Any,
                  row: StoredDevice) -> None:
    if row.application_id is not None and row.application_id != app:
        result.changes.append(Change(
            "bauhof", "device", row.dev_eui, "skipped",
            f"Bauhof has it in application {row.application_id}, ChirpStack in {app}: "
            "Bauhof's value is kept"))
        return
    fill: dict[str, Any] = {}
    if row.application_id is None:
        fill["application_id"] = app
    if row.device_profile_id != item.device_profile_id:
        fill["device_profile_id"] = item.device_profile_id
    if row.device_profile_name != item.device_profile_name:
        fill["device_profile_name"] = item.device_profile_name
    if row.name is None and item.name:
        fill["name"] = item.name
    if row.model is None:
        device = client.get_device(row.dev_eui)
        model, _ = model_of(dict(device.tags) if device else {}, item.device_profile_name)
        if model:
            fill["model"], fill["kind"] = model, codecs.get(model).kind
    if not fill:
        result.changes.append(Change("bauhof", "device", row.dev_eui, "unchanged"))
        return
    result.updates.append((row.dev_eui, fill))
    result.changes.append(Change("bauhof", "device", row.dev_eui, "updated",
                                 "set " + ", ".join(fill)))


def store(conn: psycopg.Connection[Any], pulled: Pulled) -> None:
    """Write the import in one transaction."""
    with conn.transaction(), conn.cursor() as cur:
        if pulled.inserts:
            # Ingest may have registered the device meanwhile; it stays as it is.
            insert_devices(cur, pulled.inserts, "chirpstack")
        for dev_eui, fill in pulled.updates:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder())
                for column in fill)
            cur.execute(sql.SQL("UPDATE devices SET {} WHERE dev_eui = %s").format(assignments),
                        [*fill.values(), dev_eui])
