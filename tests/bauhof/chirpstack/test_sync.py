"""`bauhof chirpstack sync` against an in-process ChirpStack gRPC API and a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from chirpstack_api import api, common

from bauhof import assets
from shell.main import main
from tests.bauhof.chirpstack.chirpstack_server import NULL_KEY, TENANT, ChirpStackState
from tests.factories import APP

OTHER_APP = "9d6f7b0e-5c1a-4e8b-9f3a-2b7c8d9e0f1a"
KEY_BIN = "2b7e151628aed2a6abf7158809cf4f3c"
KEY_SOIL = "000102030405060708090a0b0c0d0e0f"
KEY_OLD = "ffeeddccbbaa99887766554433221100"
P = "00000000-0000-4000-8000-"  # the test server's ids: P + 12 digits

TOWN = f"""
green_areas:
  - {{id: ga-1, name: Stadtpark, latitude: 48.59, longitude: 8.87}}
bins:
  - {{id: bin-17, latitude: 48.6, longitude: 8.87, volume_l: 240, empty_distance_mm: 1000,
      full_distance_mm: 200}}
devices:
  - {{dev_eui: A840410001810001, model: dragino-lse01, name: Soil Stadtpark,
      asset: green_area/ga-1, expected_interval_s: 1200, application_id: {APP}}}
  - {{dev_eui: a840410001810002, model: dragino-lse01, name: Soil Rosengarten,
      expected_interval_s: 1800, application_id: {APP}}}
  - {{dev_eui: 24e124000000000a, model: milesight-em310-udl, name: Bin 17, asset: bin/bin-17,
      tags: {{route: north}}}}
"""
KEYS = f"""
24E124000000000A: {KEY_BIN}
a840410001810001: "{KEY_SOIL}"
ffffffffffffffff: {KEY_OLD}
"""


@pytest.fixture
def town(chirpstack: ChirpStackState, database_url: str, monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Path:
    """Settings for the test server and database, the town's assets loaded, a keys file."""
    monkeypatch.chdir(tmp_path)
    for name, value in (("BAUHOF_DATABASE_URL", database_url),
                        ("BAUHOF_MQTT_URL", "mqtt://127.0.0.1:1"),
                        ("BAUHOF_CHIRPSTACK_API", f"127.0.0.1:{chirpstack.port}"),
                        ("BAUHOF_CHIRPSTACK_API_TOKEN", chirpstack.token),
                        ("BAUHOF_CHIRPSTACK_TENANT_ID", TENANT)):
        monkeypatch.setenv(name, value)
    (tmp_path / "town.yaml").write_text(TOWN)
    assets.load_file(database_url, tmp_path / "town.yaml")
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    keys.chmod(0o600)
    return keys


def sync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command; (exit status, stdout, stderr)."""
    status = main(["chirpstack", "sync", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def refusal(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the command expecting a refusal (status 1, nothing on stdout); its stderr."""
    status, out, err = sync(capsys, *args)
    assert (status, out) == (1, "")
    return err


def rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """The devices table as sync leaves it."""
    return conn.execute(
        "SELECT dev_eui, model, kind, name, asset_type, asset_id, application_id,"
        " device_profile_id, device_profile_name, tags, registered_by"
        " FROM devices ORDER BY dev_eui").fetchall()


def seed_chirpstack_side(state: ChirpStackState) -> None:
    """Three devices only ChirpStack knows, under two profiles."""
    em500 = state.add_profile("milesight-em500-smtc")
    generic = state.add_profile("Generic Class A")
    state.add_device("0004a30b001c0530", APP, em500, "Soil Friedhof", tags={"site": "Friedhof"})
    state.add_device("0004a30b001c0531", APP, generic, "Bin Markt",
                     tags={"bauhof_model": "dragino-ldds75", "crew": "east"})
    state.add_device("0004a30b001c0532", APP, generic, "Weather mast")


def bauhof_profile(model: str, interval: int) -> Any:
    """The device profile sync creates for a model."""
    return api.DeviceProfile(
        tenant_id=TENANT, name=model,
        description=f"Bauhof model {model}: payloads are decoded by Bauhof, so the codec is NONE.",
        region=common.Region.EU868, mac_version=common.MacVersion.LORAWAN_1_0_3,
        reg_params_revision=common.RegParamsRevision.A, adr_algorithm_id="default",
        payload_codec_runtime=api.CodecRuntime.NONE, uplink_interval=interval,
        device_status_req_interval=1, supports_otaa=True, flush_queue_on_activate=True,
        tags={"bauhof_model": model})


FIRST_RUN = """\
side        object          id                   result   detail
chirpstack  device profile  dragino-lse01        created  EU868, LoRaWAN 1.0.3, OTAA, codec NONE, uplink interval 1800 s
chirpstack  device profile  milesight-em310-udl  created  EU868, LoRaWAN 1.0.3, OTAA, codec NONE, uplink interval 3600 s
chirpstack  device          24e124000000000a     created  Bin 17, profile milesight-em310-udl
chirpstack  keys            24e124000000000a     created  AppKey set (as nwk_key)
chirpstack  device          a840410001810001     created  Soil Stadtpark, profile dragino-lse01
chirpstack  keys            a840410001810001     created  AppKey set (as nwk_key)
chirpstack  device          a840410001810002     created  Soil Rosengarten, profile dragino-lse01
chirpstack  keys            a840410001810002     skipped  no AppKey in the keys file: it cannot join until one is set
chirpstack  keys            ffffffffffffffff     skipped  in the keys file, but not a device of Bauhof's asset files
bauhof      device          0004a30b001c0530     created  model milesight-em500-smtc (from the device profile name)
bauhof      device          0004a30b001c0531     created  model dragino-ldds75 (from the bauhof_model tag)
bauhof      device          0004a30b001c0532     created  kind other: neither a bauhof_model tag nor the profile name 'Generic Class A' is a Bauhof model
bauhof      device          24e124000000000a     updated  set application_id, device_profile_id, device_profile_name
bauhof      device          a840410001810001     updated  set device_profile_id, device_profile_name
bauhof      device          a840410001810002     updated  set device_profile_id, device_profile_name
10 created, 3 updated, 0 unchanged, 2 skipped
"""  # noqa: E501

SECOND_RUN = """\
side        object          id                   result     detail
chirpstack  device profile  dragino-lse01        unchanged
chirpstack  device profile  milesight-em310-udl  unchanged
chirpstack  device          24e124000000000a     unchanged
chirpstack  keys            24e124000000000a     unchanged
chirpstack  device          a840410001810001     unchanged
chirpstack  keys            a840410001810001     unchanged
chirpstack  device          a840410001810002     unchanged
chirpstack  keys            ffffffffffffffff     skipped    in the keys file, but not a device of Bauhof's asset files
bauhof      device          0004a30b001c0530     unchanged
bauhof      device          0004a30b001c0531     unchanged
bauhof      device          0004a30b001c0532     unchanged
bauhof      device          24e124000000000a     unchanged
bauhof      device          a840410001810001     unchanged
bauhof      device          a840410001810002     unchanged
0 created, 0 updated, 13 unchanged, 1 skipped
already in sync: nothing changed
"""  # noqa: E501


def test_first_run_registers_both_sides_and_a_second_run_changes_nothing(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_chirpstack_side(chirpstack)
    status, out, err = sync(capsys, "--application-id", APP, "--keys", str(town))
    assert (status, err) == (0, "")
    assert out == FIRST_RUN
    assert chirpstack.writes() == [
        ("DeviceProfileService/Create", api.CreateDeviceProfileRequest(
            device_profile=bauhof_profile("dragino-lse01", 1800))),
        ("DeviceProfileService/Create", api.CreateDeviceProfileRequest(
            device_profile=bauhof_profile("milesight-em310-udl", 3600))),
        ("DeviceService/Create", api.CreateDeviceRequest(device=api.Device(
            dev_eui="24e124000000000a", name="Bin 17", application_id=APP,
            description="Bauhof bin sensor on bin/bin-17 (model milesight-em310-udl)",
            device_profile_id=P + "000000000004",
            tags={"route": "north", "bauhof_model": "milesight-em310-udl",
                  "bauhof_asset": "bin/bin-17"}))),
        ("DeviceService/CreateKeys", api.CreateDeviceKeysRequest(device_keys=api.DeviceKeys(
            dev_eui="24e124000000000a", nwk_key=KEY_BIN))),
        ("DeviceService/Create", api.CreateDeviceRequest(device=api.Device(
            dev_eui="a840410001810001", name="Soil Stadtpark", application_id=APP,
            description="Bauhof soil sensor on green_area/ga-1 (model dragino-lse01)",
            device_profile_id=P + "000000000003",
            tags={"bauhof_model": "dragino-lse01", "bauhof_asset": "green_area/ga-1"}))),
        ("DeviceService/CreateKeys", api.CreateDeviceKeysRequest(device_keys=api.DeviceKeys(
            dev_eui="a840410001810001", nwk_key=KEY_SOIL))),
        ("DeviceService/Create", api.CreateDeviceRequest(device=api.Device(
            dev_eui="a840410001810002", name="Soil Rosengarten", application_id=APP,
            description="Bauhof soil sensor (model dragino-lse01)",
            device_profile_id=P + "000000000003", tags={"bauhof_model": "dragino-lse01"}))),
    ]
    lse01, em310, em500, generic = (P + "000000000003", P + "000000000004",
                                    P + "000000000001", P + "000000000002")
    expected = [
        ("0004a30b001c0530", "milesight-em500-smtc", "soil", "Soil Friedhof", None, None, APP,
         em500, "milesight-em500-smtc", {"site": "Friedhof"}, "chirpstack"),
        ("0004a30b001c0531", "dragino-ldds75", "bin", "Bin Markt", None, None, APP, generic,
         "Generic Class A", {"crew": "east"}, "chirpstack"),
        ("0004a30b001c0532", None, "other", "Weather mast", None, None, APP, generic,
         "Generic Class A", {}, "chirpstack"),
        ("24e124000000000a", "milesight-em310-udl", "bin", "Bin 17", "bin", "bin-17", APP,
         em310, "milesight-em310-udl", {"route": "north"}, "operator"),
        ("a840410001810001", "dragino-lse01", "soil", "Soil Stadtpark", "green_area", "ga-1",
         APP, lse01, "dragino-lse01", {}, "operator"),
        ("a840410001810002", "dragino-lse01", "soil", "Soil Rosengarten", None, None, APP,
         lse01, "dragino-lse01", {}, "operator"),
    ]
    assert rows(conn) == expected
    # Keys never appear in the output, and Bauhof's database never holds them.
    for key in (KEY_BIN, KEY_SOIL, KEY_OLD):
        assert key not in out
        assert key not in json.dumps([list(map(str, r)) for r in rows(conn)])

    chirpstack.calls.clear()
    status, out, err = sync(capsys, "--application-id", APP, "--keys", str(town))
    assert (status, out, err) == (0, SECOND_RUN, "")
    assert chirpstack.writes() == []
    assert rows(conn) == expected


def test_dry_run_changes_nothing_and_shows_what_a_run_would_do(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_chirpstack_side(chirpstack)
    before = rows(conn)
    status, out, err = sync(capsys, "--application-id", APP, "--keys", str(town), "--dry-run")
    assert (status, err) == (0, "")
    assert out.splitlines()[1:4] == [
        "chirpstack  device profile  dragino-lse01        would create  EU868, LoRaWAN 1.0.3, "
        "OTAA, codec NONE, uplink interval 1800 s",
        "chirpstack  device profile  milesight-em310-udl  would create  EU868, LoRaWAN 1.0.3, "
        "OTAA, codec NONE, uplink interval 3600 s",
        "chirpstack  device          24e124000000000a     would create  Bin 17, profile "
        "milesight-em310-udl",
    ]
    # Not yet in ChirpStack, so the import sees only ChirpStack's own three devices.
    assert out.splitlines()[-2:] == ["10 created, 0 updated, 0 unchanged, 2 skipped",
                                     "dry run: nothing was changed"]
    assert chirpstack.writes() == []
    assert rows(conn) == before
    assert sorted(chirpstack.devices) == ["0004a30b001c0530", "0004a30b001c0531",
                                          "0004a30b001c0532"]


def test_a_wrong_token_is_one_clear_line_and_status_1(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAUHOF_CHIRPSTACK_API_TOKEN", "not-the-token")
    before = rows(conn)
    assert refusal(capsys, "--application-id", APP) == (
        f"bauhof chirpstack sync: ChirpStack at 127.0.0.1:{chirpstack.port} refused the API "
        "token (Unauthenticated: invalid token): create an API key in ChirpStack's web UI "
        "(tenant → API keys) and set BAUHOF_CHIRPSTACK_API_TOKEN to it\n")
    assert chirpstack.calls == []
    assert rows(conn) == before


def test_settings_missing_are_named(town: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAUHOF_CHIRPSTACK_TENANT_ID")
    assert sync(capsys, "--direction", "to-chirpstack", "--application-id", APP) == (
        1, "", "bauhof chirpstack sync: BAUHOF_CHIRPSTACK_TENANT_ID is not set: device profiles "
               "belong to a tenant; copy its id from ChirpStack's web UI\n")
    monkeypatch.setenv("BAUHOF_CHIRPSTACK_API", "chirpstack")
    assert sync(capsys) == (
        1, "", "bauhof chirpstack sync: BAUHOF_CHIRPSTACK_API 'chirpstack' is not host:port "
               "(e.g. chirpstack:8080 or https://chirpstack.example.org)\n")
    with pytest.raises(SystemExit) as exited:
        main(["chirpstack", "sync", "--application-id", "app-1"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "bauhof chirpstack sync: error: argument --application-id: 'app-1' is not a ChirpStack "
        "id (a UUID) (see `bauhof chirpstack sync --help`)\n")


def test_existing_objects_are_updated_and_what_operators_set_in_chirpstack_stays(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = chirpstack.add_profile(
        "dragino-lse01", region=common.Region.EU868, mac_version=common.MacVersion.LORAWAN_1_0_3,
        reg_params_revision=common.RegParamsRevision.A, supports_otaa=True,
        supports_class_b=True, adr_algorithm_id="default",
        payload_codec_runtime=api.CodecRuntime.JS, payload_codec_script="function decode(){}",
        uplink_interval=7200, tags={"owner": "it"})
    chirpstack.add_profile("milesight-em310-udl")
    chirpstack.add_profile("milesight-em310-udl")
    chirpstack.add_device("a840410001810001", APP, profile, "LSE01 #1", skip_fcnt_check=True,
                          join_eui="70b3d57ed0000000", variables={"ttn_id": "lse-1"},
                          tags={"installer": "acme"})
    chirpstack.keys["a840410001810001"] = api.DeviceKeys(
        dev_eui="a840410001810001", nwk_key=KEY_OLD, app_key=NULL_KEY)
    chirpstack.add_device("a840410001810002", OTHER_APP, profile, "Rosengarten")

    status, out, err = sync(capsys, "--direction", "to-chirpstack", "--application-id", APP,
                            "--keys", str(town))
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "side        object          id                   result   detail",
        'chirpstack  device profile  dragino-lse01        updated  payload_codec_runtime "JS" → '
        '"NONE"; codec script removed; uplink_interval 7200 → 1800; tags '
        'bauhof_model=dragino-lse01',
        "chirpstack  device profile  milesight-em310-udl  skipped  2 profiles have this name in "
        "the tenant: rename all but one",
        "chirpstack  device          24e124000000000a     skipped  device profile "
        "milesight-em310-udl is ambiguous",
        'chirpstack  device          a840410001810001     updated  name "LSE01 #1" → "Soil '
        'Stadtpark"; description "" → "Bauhof soil sensor on green_area/ga-1 (model '
        'dragino-lse01)"; tags bauhof_asset=green_area/ga-1, bauhof_model=dragino-lse01',
        "chirpstack  keys            a840410001810001     updated  AppKey replaced",
        f"chirpstack  device          a840410001810002     skipped  ChirpStack has it in "
        f"application {OTHER_APP}, Bauhof in {APP}: move it in ChirpStack or correct the "
        "asset file",
        "chirpstack  keys            ffffffffffffffff     skipped  in the keys file, but not a "
        "device of Bauhof's asset files",
        "0 created, 3 updated, 0 unchanged, 4 skipped",
    ]
    # Whole objects go back, so ADR, class B, variables, tags and join EUI survive.
    assert chirpstack.writes() == [
        ("DeviceProfileService/Update", api.UpdateDeviceProfileRequest(
            device_profile=api.DeviceProfile(
                id=profile, tenant_id=TENANT, name="dragino-lse01",
                region=common.Region.EU868, mac_version=common.MacVersion.LORAWAN_1_0_3,
                reg_params_revision=common.RegParamsRevision.A, supports_otaa=True,
                supports_class_b=True, adr_algorithm_id="default",
                payload_codec_runtime=api.CodecRuntime.NONE, uplink_interval=1800,
                tags={"owner": "it", "bauhof_model": "dragino-lse01"}))),
        ("DeviceService/Update", api.UpdateDeviceRequest(device=api.Device(
            dev_eui="a840410001810001", name="Soil Stadtpark", application_id=APP,
            description="Bauhof soil sensor on green_area/ga-1 (model dragino-lse01)",
            device_profile_id=profile, skip_fcnt_check=True, join_eui="70b3d57ed0000000",
            variables={"ttn_id": "lse-1"},
            tags={"installer": "acme", "bauhof_model": "dragino-lse01",
                  "bauhof_asset": "green_area/ga-1"}))),
        ("DeviceService/UpdateKeys", api.UpdateDeviceKeysRequest(device_keys=api.DeviceKeys(
            dev_eui="a840410001810001", nwk_key=KEY_SOIL, app_key=NULL_KEY))),
    ]
    assert KEY_OLD not in out and KEY_SOIL not in out


def test_the_import_never_overwrites_what_an_operator_set(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    conn.execute("UPDATE devices SET application_id = %s WHERE dev_eui = 'a840410001810001'",
                 (OTHER_APP,))
    generic = chirpstack.add_profile("Generic Class A")
    chirpstack.add_device("24e124000000000a", APP, generic, "EM310 #4",
                          tags={"bauhof_model": "milesight-em400-udl"})
    chirpstack.add_device("a840410001810001", APP, generic, "LSE01 #1")
    before = {r[0]: r for r in rows(conn)}

    status, out, err = sync(capsys, "--direction", "from-chirpstack", "--application-id", APP)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "side    object  id                result   detail",
        "bauhof  device  24e124000000000a  updated  set application_id, device_profile_id, "
        "device_profile_name",
        f"bauhof  device  a840410001810001  skipped  Bauhof has it in application {OTHER_APP}, "
        f"ChirpStack in {APP}: Bauhof's value is kept",
        "0 created, 1 updated, 0 unchanged, 1 skipped",
    ]
    after = {r[0]: r for r in rows(conn)}
    # Name, model, kind, asset and tags are the operator's; only empty or ChirpStack-owned
    # fields were written.
    assert after["24e124000000000a"] == (
        "24e124000000000a", "milesight-em310-udl", "bin", "Bin 17", "bin", "bin-17", APP,
        generic, "Generic Class A", {"route": "north"}, "operator")
    assert after["a840410001810001"] == before["a840410001810001"]
    assert chirpstack.writes() == []


def test_the_import_pages_through_a_large_application(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    profile = chirpstack.add_profile("dragino-ldds75")
    for n in range(250):
        chirpstack.add_device(f"70b3d5000000{n:04x}", APP, profile, f"Bin {n:03d}")
    status, out, _ = sync(capsys, "--direction", "from-chirpstack", "--application-id", APP)
    assert status == 0
    assert out.splitlines()[-1] == "250 created, 0 updated, 0 unchanged, 0 skipped"
    assert [(m.offset, m.limit) for name, m in chirpstack.calls
            if name == "DeviceService/List"] == [(0, 100), (100, 100), (200, 100)]
    assert conn.execute("SELECT count(*), count(DISTINCT name) FROM devices"
                        " WHERE registered_by = 'chirpstack' AND model = 'dragino-ldds75'"
                        " AND kind = 'bin'").fetchone() == (250, 250)


def test_a_bad_keys_file_names_lines_and_never_the_keys(
        town: Path, chirpstack: ChirpStackState, capsys: pytest.CaptureFixture[str]) -> None:
    town.write_text(f"a840410001810001: 2b7e1516\n24e124000000000a: {KEY_BIN}\n"
                    f"24E124000000000A: {KEY_BIN}\nnot-an-eui: {KEY_SOIL}\n")
    assert refusal(capsys, "--application-id", APP, "--keys", str(town)) == (
        f"bauhof chirpstack sync: keys file {town}: line 1: the AppKey of a840410001810001 is "
        "not 32 hex digits; line 3: DevEUI 24e124000000000a appears twice; line 4: "
        "'not-an-eui' is not a DevEUI of 16 hex digits\n")
    assert chirpstack.calls == []
    town.write_text(f"24e124000000000a: {KEY_BIN}\n")
    town.chmod(0o644)
    status, _, err = sync(capsys, "--application-id", APP, "--keys", str(town), "--dry-run")
    assert status == 0
    assert err == (f"bauhof chirpstack sync: warning: {town} holds keys and is readable by "
                   f"other users: chmod 600 {town}\n")


def test_tls_with_a_private_ca(town: Path, conn: psycopg.Connection[Any],
                               capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import subprocess

    import grpc

    from tests.bauhof.chirpstack.conftest import serve

    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    state = ChirpStackState()
    server = serve(state, grpc.ssl_server_credentials(
        [((tmp_path / "key.pem").read_bytes(), (tmp_path / "cert.pem").read_bytes())]),
        host="localhost")
    try:
        monkeypatch.setenv("BAUHOF_CHIRPSTACK_API", f"https://localhost:{state.port}")
        monkeypatch.setenv("BAUHOF_CHIRPSTACK_CA_FILE", str(tmp_path / "cert.pem"))
        status, out, err = sync(capsys, "--application-id", APP, "--dry-run")
        assert (status, err) == (0, "")
        # Two profiles and three devices; no keys file, so three "no AppKey" lines.
        assert out.splitlines()[-2:] == ["5 created, 0 updated, 0 unchanged, 3 skipped",
                                         "dry run: nothing was changed"]
        assert [name for name, _ in state.calls][:2] == ["DeviceProfileService/List",
                                                         "DeviceProfileService/List"]
        # Without the CA the certificate is not trusted: nothing is sent.
        monkeypatch.delenv("BAUHOF_CHIRPSTACK_CA_FILE")
        calls = len(state.calls)
        err = refusal(capsys, "--application-id", APP, "--dry-run")
        assert err.startswith(f"bauhof chirpstack sync: cannot reach ChirpStack's gRPC API at "
                              f"localhost:{state.port} to list device profiles (")
        assert len(state.calls) == calls
    finally:
        server.stop(None).wait(5)


def test_a_device_without_a_name_in_bauhof_keeps_chirpstacks_name(
        town: Path, chirpstack: ChirpStackState, conn: psycopg.Connection[Any],
        capsys: pytest.CaptureFixture[str]) -> None:
    conn.execute("DELETE FROM devices WHERE dev_eui <> '24e124000000000a'")
    conn.execute("UPDATE devices SET name = NULL, application_id = %s", (APP,))
    profile = chirpstack.add_profile("milesight-em310-udl")
    chirpstack.add_device("24e124000000000a", APP, profile, "EM310 #4")
    status, out, _ = sync(capsys, "--direction", "to-chirpstack")
    assert status == 0
    assert out.splitlines()[2] == (
        'chirpstack  device          24e124000000000a     updated  description "" → "Bauhof bin '
        'sensor on bin/bin-17 (model milesight-em310-udl)"; tags bauhof_asset=bin/bin-17, '
        "bauhof_model=milesight-em310-udl, route=north")
    assert chirpstack.devices["24e124000000000a"].name == "EM310 #4"
