"""ChirpStack v4's gRPC API (`chirpstack_api.api`): settings, a channel, errors one can act on.

Only the calls `bauhof chirpstack sync` needs. Every call carries the API token as
`authorization: Bearer <token>` metadata and a deadline; a gRPC status becomes an `ApiError`
whose message says what to change (the token, the address, the key's rights).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc  # grpcio ships no type hints (see the mypy overrides)
from chirpstack_api import api

from bauhof.errors import ReasonError
from bauhof.settings import ChirpStackSection

CALL_TIMEOUT_S = 15.0
PAGE = 100


class ChirpStackError(Exception):
    """Base of every error talking to ChirpStack's API or sending it downlinks."""


class NotConfiguredError(ChirpStackError, ReasonError):
    """A setting the command needs is missing or malformed; `name` is the variable."""

    template = "{name} {reason}"
    name: str
    reason: str


class ApiError(ChirpStackError):
    """ChirpStack answered a call with an error status."""

    def __init__(self, target: str, operation: str, code: grpc.StatusCode, details: str) -> None:
        self.target, self.operation, self.code, self.details = target, operation, code, details
        super().__init__(_explain(target, operation, code, details))


def _explain(target: str, operation: str, code: grpc.StatusCode, details: str) -> str:
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return (f"ChirpStack at {target} refused the API token ({details or 'unauthenticated'}): "
                "create an API key in ChirpStack's web UI (tenant → API keys) and set "
                "BAUHOF_CHIRPSTACK_API_TOKEN to it")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return (f"the API token may not {operation} ({details}): use an API key of the tenant "
                "that owns the application, or an admin key")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return (f"cannot reach ChirpStack's gRPC API at {target} to {operation} ({details}): "
                "check BAUHOF_CHIRPSTACK_API (host:port, https:// for TLS) and that ChirpStack "
                "is running")
    return f"ChirpStack could not {operation}: {code.name} {details}".rstrip()


@dataclass(frozen=True, slots=True)
class ChirpStackApiSettings:
    """Where ChirpStack's gRPC API is and how to log in; the token is never shown."""

    target: str
    tls: bool
    token: str
    tenant_id: str | None
    ca_file: str | None = None


def connection_settings(section: ChirpStackSection) -> ChirpStackApiSettings:
    """Check the settings' `chirpstack` section (BAUHOF_CHIRPSTACK_API, _API_TOKEN, _TENANT_ID
    and _CA_FILE); NotConfiguredError names a variable that is missing or malformed."""
    raw = section.api
    if not raw:
        raise NotConfiguredError("BAUHOF_CHIRPSTACK_API", "is not set: give host:port of "
                                 "ChirpStack's gRPC API, e.g. chirpstack:8080")
    tls = raw.startswith("https://")
    address = raw.removeprefix("https://").removeprefix("http://").rstrip("/")
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = address, "443" if tls else ""
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise NotConfiguredError("BAUHOF_CHIRPSTACK_API", f"{raw!r} is not host:port "
                                 "(e.g. chirpstack:8080 or https://chirpstack.example.org)")
    token = section.token
    if not token:
        raise NotConfiguredError("BAUHOF_CHIRPSTACK_API_TOKEN", "is not set: create an API key "
                                 "in ChirpStack's web UI (tenant → API keys)")
    return ChirpStackApiSettings(target=f"{host}:{port}", tls=tls, token=token,
                                 tenant_id=section.tenant_id, ca_file=section.ca_file)


class ChirpStack:
    """A client of ChirpStack's device-profile and device services over one channel."""

    def __init__(self, settings: ChirpStackApiSettings) -> None:
        self.settings = settings
        if settings.tls:
            roots = Path(settings.ca_file).read_bytes() if settings.ca_file else None
            self._channel = grpc.secure_channel(settings.target,
                                                grpc.ssl_channel_credentials(roots))
        else:
            self._channel = grpc.insecure_channel(settings.target)
        self._profiles = api.DeviceProfileServiceStub(self._channel)
        self._devices = api.DeviceServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {settings.token}"),)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> ChirpStack:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, operation: str, method: Callable[..., Any], request: Any,
              missing_ok: bool = False) -> Any:
        try:
            return method(request, metadata=self._metadata, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as exc:
            code = exc.code()
            if missing_ok and code == grpc.StatusCode.NOT_FOUND:
                return None
            raise ApiError(self.settings.target, operation, code,
                           exc.details() or "") from None

    def _pages(self, operation: str, method: Callable[..., Any],
               make: Callable[[int], Any]) -> Iterator[Any]:
        offset = 0
        while True:
            response = self._call(operation, method, make(offset))
            yield from response.result
            offset += len(response.result)
            if not response.result or offset >= response.total_count:
                return

    def profiles_named(self, tenant_id: str, name: str) -> list[Any]:
        """The tenant's device profiles whose name is exactly `name`."""
        return [item for item in self._pages(
            "list device profiles", self._profiles.List,
            lambda offset: api.ListDeviceProfilesRequest(
                tenant_id=tenant_id, search=name, limit=PAGE, offset=offset))
            if item.name == name]

    def get_profile(self, profile_id: str) -> Any:
        """One device profile (`api.DeviceProfile`)."""
        response = self._call("read a device profile", self._profiles.Get,
                              api.GetDeviceProfileRequest(id=profile_id))
        return response.device_profile

    def create_profile(self, profile: Any) -> str:
        """Create a device profile; return its id."""
        response = self._call("create a device profile", self._profiles.Create,
                              api.CreateDeviceProfileRequest(device_profile=profile))
        return str(response.id)

    def update_profile(self, profile: Any) -> None:
        """Replace a device profile."""
        self._call("update a device profile", self._profiles.Update,
                   api.UpdateDeviceProfileRequest(device_profile=profile))

    def devices(self, application_id: str) -> list[Any]:
        """Every device of an application (`api.DeviceListItem`)."""
        return list(self._pages(
            "list devices", self._devices.List,
            lambda offset: api.ListDevicesRequest(
                application_id=application_id, limit=PAGE, offset=offset)))

    def get_device(self, dev_eui: str) -> Any | None:
        """One device (`api.Device`), or None when ChirpStack has none with this DevEUI."""
        response = self._call("read a device", self._devices.Get,
                              api.GetDeviceRequest(dev_eui=dev_eui), missing_ok=True)
        return None if response is None else response.device

    def create_device(self, device: Any) -> None:
        """Create a device."""
        self._call("create a device", self._devices.Create,
                   api.CreateDeviceRequest(device=device))

    def update_device(self, device: Any) -> None:
        """Replace a device (tags and variables included)."""
        self._call("update a device", self._devices.Update,
                   api.UpdateDeviceRequest(device=device))

    def get_keys(self, dev_eui: str) -> Any | None:
        """A device's OTAA keys (`api.DeviceKeys`), or None when it has none."""
        response = self._call("read device keys", self._devices.GetKeys,
                              api.GetDeviceKeysRequest(dev_eui=dev_eui), missing_ok=True)
        return None if response is None else response.device_keys

    def create_keys(self, keys: Any) -> None:
        """Set a device's OTAA keys."""
        self._call("create device keys", self._devices.CreateKeys,
                   api.CreateDeviceKeysRequest(device_keys=keys))

    def update_keys(self, keys: Any) -> None:
        """Replace a device's OTAA keys."""
        self._call("update device keys", self._devices.UpdateKeys,
                   api.UpdateDeviceKeysRequest(device_keys=keys))
