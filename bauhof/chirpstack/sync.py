"""`bauhof chirpstack sync`: Bauhof's devices into ChirpStack, ChirpStack's devices into Bauhof.

To ChirpStack (docs/chirpstack.md): one device profile per Bauhof model, named after the model
id so that ingest resolves the model from an event's `deviceProfileName`; then each device
Bauhof's operators registered (name, description, tags with `bauhof_model`, profile) and its
OTAA AppKey from a keys file. Everything is compared first and written only when it differs,
so a second run changes nothing. The import side is bauhof/chirpstack/inventory.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from chirpstack_api import api, common

from bauhof.chirpstack.api import ChirpStack, NotConfiguredError

Direction = Literal["both", "to-chirpstack", "from-chirpstack"]
Action = Literal["created", "updated", "unchanged", "skipped"]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# ChirpStack marks a device inactive after this long without an uplink; used when no device
# of a model names its expected interval.
DEFAULT_UPLINK_INTERVAL_S = 3600
# The profile fields Bauhof owns; an operator's other settings (ADR, class B/C, ...) stay.
PROFILE_FIELDS = ("region", "mac_version", "reg_params_revision", "supports_otaa",
                  "payload_codec_runtime", "payload_codec_script", "uplink_interval")
DEVICE_FIELDS = ("name", "description", "device_profile_id")


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the summary: what happened (or would) to one object on one side."""

    side: Literal["chirpstack", "bauhof"]
    kind: str
    key: str
    action: Action
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredDevice:
    """A row of Bauhof's `devices` table, as far as sync uses it."""

    dev_eui: str
    model: str | None
    kind: str
    name: str | None
    asset: str | None
    expected_interval_s: int | None
    application_id: str | None
    device_profile_id: str | None
    device_profile_name: str | None
    tags: dict[str, str]
    registered_by: str


def stored_devices(conn: psycopg.Connection[Any]) -> dict[str, StoredDevice]:
    """Every device Bauhof knows, by DevEUI."""
    rows = conn.execute(
        "SELECT dev_eui, model, kind, name, asset_type || '/' || asset_id, expected_interval_s,"
        " application_id, device_profile_id, device_profile_name, tags, registered_by"
        " FROM devices ORDER BY dev_eui").fetchall()
    return {r[0]: StoredDevice(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                               {str(k): str(v) for k, v in (r[9] or {}).items()}, r[10])
            for r in rows}


def push(client: ChirpStack, devices: Iterable[StoredDevice], *, tenant_id: str | None,
         application_id: str | None, keys: dict[str, str], dry_run: bool) -> list[Change]:
    """Create or update the profiles, devices and keys of the operators' devices in ChirpStack."""
    changes: list[Change] = []
    mine = [d for d in devices if d.registered_by == "operator"]
    targets: list[tuple[StoredDevice, str]] = []
    for device in mine:
        app = device.application_id or application_id
        reason = _why_not(device, app, application_id)
        if reason:
            changes.append(Change("chirpstack", "device", device.dev_eui, "skipped", reason))
        else:
            assert app is not None
            targets.append((device, app))
    if targets and tenant_id is None:
        raise NotConfiguredError("BAUHOF_CHIRPSTACK_TENANT_ID", "is not set: device profiles "
                                 "belong to a tenant; copy its id from ChirpStack's web UI")
    profile_ids: dict[str, str | None] = {}
    for model in sorted({str(d.model) for d, _ in targets}):
        interval = max((d.expected_interval_s for d, _ in targets
                        if d.model == model and d.expected_interval_s),
                       default=DEFAULT_UPLINK_INTERVAL_S)
        change, profile_id = _sync_profile(client, str(tenant_id), model, interval, dry_run)
        changes.append(change)
        if change.action != "skipped":
            profile_ids[model] = profile_id
    for device, app in targets:
        if str(device.model) not in profile_ids:
            changes.append(Change("chirpstack", "device", device.dev_eui, "skipped",
                                  f"device profile {device.model} is ambiguous"))
            continue
        change = _sync_device(client, device, app, profile_ids[str(device.model)], dry_run)
        changes.append(change)
        if change.action == "skipped":
            continue
        if device.dev_eui in keys:
            changes.append(_sync_keys(client, device.dev_eui, keys[device.dev_eui], dry_run))
        elif change.action == "created":
            changes.append(Change("chirpstack", "keys", device.dev_eui, "skipped",
                                  "no AppKey in the keys file: it cannot join until one is set"))
    for dev_eui in sorted(set(keys) - {d.dev_eui for d in mine}):
        changes.append(Change("chirpstack", "keys", dev_eui, "skipped",
                              "in the keys file, but not a device of Bauhof's asset files"))
    return changes


def _why_not(device: StoredDevice, app: str | None, only: str | None) -> str:
    if not device.model:
        return "no model: set one in the asset file"
    if only is not None and app != only:
        return f"in application {app}, not {only}"
    if app is None:
        return "no application_id: set it in the asset file or pass --application-id"
    if not UUID.match(app):
        return f"application_id {app!r} is not a ChirpStack application id (a UUID)"
    return ""


def desired_profile(profile: Any, tenant_id: str, model: str, interval_s: int) -> Any:
    """`profile` with Bauhof's settings for `model` applied (in place; also returned).

    Payload codec NONE: Bauhof decodes the bytes itself (bauhof/codecs), so a codec in
    ChirpStack would only add a second, possibly different, decoding and ERROR log events.
    """
    profile.tenant_id = tenant_id
    profile.name = model
    profile.region = common.Region.EU868
    profile.mac_version = common.MacVersion.LORAWAN_1_0_3
    profile.reg_params_revision = common.RegParamsRevision.A
    profile.supports_otaa = True
    profile.payload_codec_runtime = api.CodecRuntime.NONE
    profile.payload_codec_script = ""
    profile.uplink_interval = interval_s
    profile.tags["bauhof_model"] = model
    return profile


def _sync_profile(client: ChirpStack, tenant_id: str, model: str, interval_s: int,
                  dry_run: bool) -> tuple[Change, str | None]:
    found = client.profiles_named(tenant_id, model)
    if len(found) > 1:
        return Change("chirpstack", "device profile", model, "skipped",
                      f"{len(found)} profiles have this name in the tenant: rename all "
                      "but one"), None
    if not found:
        profile = desired_profile(api.DeviceProfile(), tenant_id, model, interval_s)
        profile.description = ("Bauhof model " + model + ": payloads are decoded by Bauhof, "
                               "so the codec is NONE.")
        profile.adr_algorithm_id = "default"
        profile.device_status_req_interval = 1
        profile.flush_queue_on_activate = True
        detail = f"EU868, LoRaWAN 1.0.3, OTAA, codec NONE, uplink interval {interval_s} s"
        profile_id = None if dry_run else client.create_profile(profile)
        return Change("chirpstack", "device profile", model, "created", detail), profile_id
    current = client.get_profile(found[0].id)
    desired = api.DeviceProfile()
    desired.CopyFrom(current)
    desired_profile(desired, tenant_id, model, interval_s)
    diffs = _differences(current, desired, PROFILE_FIELDS)
    if not diffs:
        return Change("chirpstack", "device profile", model, "unchanged"), str(current.id)
    if not dry_run:
        client.update_profile(desired)
    return (Change("chirpstack", "device profile", model, "updated", "; ".join(diffs)),
            str(current.id))


def _device_description(device: StoredDevice) -> str:
    where = f" on {device.asset}" if device.asset else ""
    return f"Bauhof {device.kind} sensor{where} (model {device.model})"


def _bauhof_tags(device: StoredDevice) -> dict[str, str]:
    tags = dict(device.tags)
    tags["bauhof_model"] = str(device.model)
    if device.asset:
        tags["bauhof_asset"] = device.asset
    return tags


def _sync_device(client: ChirpStack, device: StoredDevice, app: str, profile_id: str | None,
                 dry_run: bool) -> Change:
    current = client.get_device(device.dev_eui)
    name = device.name or device.dev_eui
    if current is None:
        if not dry_run:
            client.create_device(api.Device(
                dev_eui=device.dev_eui, name=name, description=_device_description(device),
                application_id=app, device_profile_id=str(profile_id),
                tags=_bauhof_tags(device)))
        return Change("chirpstack", "device", device.dev_eui, "created",
                      f"{name}, profile {device.model}")
    if current.application_id != app:
        return Change("chirpstack", "device", device.dev_eui, "skipped",
                      f"ChirpStack has it in application {current.application_id}, Bauhof in "
                      f"{app}: move it in ChirpStack or correct the asset file")
    desired = api.Device()
    desired.CopyFrom(current)
    desired.name = device.name or current.name or name  # Bauhof without a name keeps ChirpStack's
    desired.description = _device_description(device)
    desired.device_profile_id = profile_id or "(new profile)"
    desired.tags.update(_bauhof_tags(device))
    diffs = _differences(current, desired, DEVICE_FIELDS)
    if not diffs:
        return Change("chirpstack", "device", device.dev_eui, "unchanged")
    if not dry_run:
        client.update_device(desired)
    return Change("chirpstack", "device", device.dev_eui, "updated", "; ".join(diffs))


def _sync_keys(client: ChirpStack, dev_eui: str, app_key: str, dry_run: bool) -> Change:
    # LoRaWAN 1.0.x: the AppKey goes into nwk_key; app_key is only for 1.1 devices.
    current = client.get_keys(dev_eui)
    if current is None:
        if not dry_run:
            client.create_keys(api.DeviceKeys(dev_eui=dev_eui, nwk_key=app_key))
        return Change("chirpstack", "keys", dev_eui, "created", "AppKey set (as nwk_key)")
    if current.nwk_key.lower() == app_key:
        return Change("chirpstack", "keys", dev_eui, "unchanged")
    if not dry_run:
        client.update_keys(api.DeviceKeys(dev_eui=dev_eui, nwk_key=app_key,
                                          app_key=current.app_key))
    return Change("chirpstack", "keys", dev_eui, "updated", "AppKey replaced")


def _differences(current: Any, desired: Any, fields: tuple[str, ...]) -> list[str]:
    diffs = []
    for field in fields:
        old, new = getattr(current, field), getattr(desired, field)
        if old == new:
            continue
        if field == "payload_codec_script":
            diffs.append("codec script removed")
            continue
        descriptor = current.DESCRIPTOR.fields_by_name[field]
        if descriptor.enum_type is not None:
            old = descriptor.enum_type.values_by_number[old].name
            new = descriptor.enum_type.values_by_number[new].name
        diffs.append(f"{field} {json.dumps(old, ensure_ascii=False)} → "
                     f"{json.dumps(new, ensure_ascii=False)}")
    added = {k: v for k, v in desired.tags.items() if current.tags.get(k) != v}
    if added:
        diffs.append("tags " + ", ".join(f"{k}={v}" for k, v in sorted(added.items())))
    return diffs
