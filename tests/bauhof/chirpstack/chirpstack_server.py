"""A ChirpStack v4 gRPC API in-process: the device-profile and device services, backed by dicts.

It speaks the real wire format (chirpstack_api's servicers on a real grpc server) and follows
ChirpStack's documented behaviour where sync depends on it: the `authorization: Bearer` token
is checked on every call (UNAUTHENTICATED otherwise), a missing object is NOT_FOUND, a second
create is ALREADY_EXISTS, lists page with limit/offset and total_count, profile lists filter
by tenant and name substring, device list items carry no tags (as before ChirpStack 4.11),
and keys created without `app_key` read back as the null key. Every authorised call is recorded.
"""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

import grpc
from chirpstack_api import api
from google.protobuf import empty_pb2

TOKEN = "api-token-for-tests"
TENANT = "52f14cd4-c6f1-4fbd-8f87-4025e1d49242"
NULL_KEY = "0" * 32
WRITES = ("Create", "Update", "Delete", "CreateKeys", "UpdateKeys", "DeleteKeys")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ChirpStackState:
    """The server's data and the calls it received."""

    def __init__(self) -> None:
        self.token = TOKEN
        self.port = 0
        self.profiles: dict[str, Any] = {}
        self.devices: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.calls: list[tuple[str, Any]] = []
        self._ids = itertools.count(1)
        self.lock = threading.Lock()

    def new_id(self) -> str:
        """Deterministic UUIDs: 00000000-0000-4000-8000-000000000001, …"""
        return f"00000000-0000-4000-8000-{next(self._ids):012d}"

    def writes(self) -> list[tuple[str, Any]]:
        """The calls that change something, in order."""
        return [(name, msg) for name, msg in self.calls if name.split("/")[1] in WRITES]

    def add_profile(self, name: str, **fields: Any) -> str:
        """Seed a device profile of the test tenant; return its id."""
        profile = api.DeviceProfile(id=self.new_id(), tenant_id=TENANT, name=name, **fields)
        self.profiles[profile.id] = profile
        return str(profile.id)

    def add_device(self, dev_eui: str, application_id: str, profile_id: str, name: str,
                   **fields: Any) -> None:
        """Seed a device."""
        self.devices[dev_eui] = api.Device(dev_eui=dev_eui, application_id=application_id,
                                           device_profile_id=profile_id, name=name, **fields)

    def enter(self, context: Any, method: str, request: Any) -> None:
        """Check the token and record the call."""
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != f"Bearer {self.token}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Unauthenticated: invalid token")
        copy = type(request)()
        copy.CopyFrom(request)
        with self.lock:
            self.calls.append((method, copy))

    @staticmethod
    def replace(context: Any, store: dict[str, Any], key: str, message: Any) -> Any:
        """An update: the stored object under `key` becomes `message`; NOT_FOUND if none."""
        if key not in store:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        store[key] = message
        return empty_pb2.Empty()


def _copy(message: Any) -> Any:
    result = type(message)()
    result.CopyFrom(message)
    return result


def _page(items: list[Any], limit: int, offset: int) -> list[Any]:
    return items[offset:offset + (limit or 10)]


class _Stored:
    """Get and Update of one kind of object, alike in ChirpStack's services: `service` names
    it, the state's `store` holds it under its `key` field (the Get request's too), requests
    carry it in `field`, a Get answers with `response`."""

    service: str
    store: str
    key: str
    field: str
    response: Any

    def __init__(self, state: ChirpStackState) -> None:
        self.state = state

    def Get(self, request: Any, context: Any) -> Any:
        self.state.enter(context, f"{self.service}/Get", request)
        key = getattr(request, self.key)
        store = getattr(self.state, self.store)
        if key not in store:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Object does not exist (id: {key})")
        return self.response(**{self.field: store[key]})

    def Update(self, request: Any, context: Any) -> Any:
        self.state.enter(context, f"{self.service}/Update", request)
        message = _copy(getattr(request, self.field))
        return self.state.replace(context, getattr(self.state, self.store),
                                  getattr(message, self.key), message)


class Profiles(_Stored, api.DeviceProfileServiceServicer):
    """DeviceProfileService: Create, Get, Update, List."""

    service, store, key, field = "DeviceProfileService", "profiles", "id", "device_profile"
    response = api.GetDeviceProfileResponse

    def Create(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceProfileService/Create", request)
        if not _UUID.match(request.device_profile.tenant_id):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid tenant_id")
        profile = _copy(request.device_profile)
        profile.id = self.state.new_id()
        self.state.profiles[profile.id] = profile
        return api.CreateDeviceProfileResponse(id=profile.id)

    def List(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceProfileService/List", request)
        found = sorted((p for p in self.state.profiles.values()
                        if p.tenant_id == request.tenant_id
                        and request.search.lower() in p.name.lower()), key=lambda p: p.name)
        return api.ListDeviceProfilesResponse(total_count=len(found), result=[
            api.DeviceProfileListItem(id=p.id, name=p.name, region=p.region,
                                      mac_version=p.mac_version,
                                      reg_params_revision=p.reg_params_revision,
                                      supports_otaa=p.supports_otaa)
            for p in _page(found, request.limit, request.offset)])


class Devices(_Stored, api.DeviceServiceServicer):
    """DeviceService: Create, Get, Update, List, CreateKeys, GetKeys, UpdateKeys."""

    service, store, key, field = "DeviceService", "devices", "dev_eui", "device"
    response = api.GetDeviceResponse

    def Create(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceService/Create", request)
        device = request.device
        if device.dev_eui in self.state.devices:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "Object already exists")
        if device.device_profile_id not in self.state.profiles:
            context.abort(grpc.StatusCode.NOT_FOUND, "device profile does not exist")
        self.state.devices[device.dev_eui] = _copy(device)
        return empty_pb2.Empty()

    def List(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceService/List", request)
        if not _UUID.match(request.application_id):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid application_id")
        found = sorted((d for d in self.state.devices.values()
                        if d.application_id == request.application_id), key=lambda d: d.name)
        return api.ListDevicesResponse(total_count=len(found), result=[
            api.DeviceListItem(dev_eui=d.dev_eui, name=d.name, description=d.description,
                               device_profile_id=d.device_profile_id,
                               device_profile_name=self.state.profiles[d.device_profile_id].name)
            for d in _page(found, request.limit, request.offset)])

    def CreateKeys(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceService/CreateKeys", request)
        keys = _copy(request.device_keys)
        if keys.dev_eui not in self.state.devices:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        if keys.dev_eui in self.state.keys:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, "Object already exists")
        keys.app_key = keys.app_key or NULL_KEY
        self.state.keys[keys.dev_eui] = keys
        return empty_pb2.Empty()

    def GetKeys(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceService/GetKeys", request)
        if request.dev_eui not in self.state.keys:
            context.abort(grpc.StatusCode.NOT_FOUND, "Object does not exist")
        return api.GetDeviceKeysResponse(device_keys=self.state.keys[request.dev_eui])

    def UpdateKeys(self, request: Any, context: Any) -> Any:
        self.state.enter(context, "DeviceService/UpdateKeys", request)
        keys = _copy(request.device_keys)
        keys.app_key = keys.app_key or NULL_KEY
        return self.state.replace(context, self.state.keys, keys.dev_eui, keys)
