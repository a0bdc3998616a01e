"""MQTT over TLS as docs/deployment.md enables it: the commented listener in mosquitto.conf
turned on, a private CA, and Bauhof connecting with mqtts:// and BAUHOF_MQTT_CA_FILE."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bauhof.mqtt import probe
from bauhof.services import free_port, port_open
from bauhof.settings import Settings, load
from tests.deploy.conftest import PASSWORDS, broker_config_for_test, run_entrypoint

TLS_LINES = ("#listener 8883\n", "#certfile /mosquitto/certs/server.crt\n",
             "#keyfile /mosquitto/certs/server.key\n", "#tls_version tlsv1.2\n")


def openssl(*args: str, cwd: Path) -> None:
    """Run openssl quietly, failing the test with its message."""
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def make_certificates(directory: Path) -> None:
    """A CA, and a server certificate it signs for 127.0.0.1 and localhost."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=Bauhof test CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr", cwd=directory)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt",
            cwd=directory)


@pytest.fixture
def tls_port(tmp_path: Path) -> Iterator[int]:
    """A production-configured broker with the documented TLS listener enabled; its TLS port."""
    assert run_entrypoint(tmp_path / "dynamic-security.json", PASSWORDS).returncode == 0
    make_certificates(tmp_path)
    port = free_port()
    conf = broker_config_for_test(tmp_path, free_port())
    for line in TLS_LINES:
        assert conf.count(line) == 1, f"mosquitto.conf no longer documents {line!r}"
        conf = conf.replace(line, line.removeprefix("#"))
    conf = conf.replace("listener 8883\n", f"listener {port} 127.0.0.1\n")
    conf = conf.replace("/mosquitto/certs/", f"{tmp_path}/")
    (tmp_path / "mosquitto.conf").write_text(conf, encoding="utf-8")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with (tmp_path / "mosquitto.log").open("wb") as log:
        process = subprocess.Popen([binary, "-c", str(tmp_path / "mosquitto.conf")],
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not port_open(port):
            assert process.poll() is None and time.monotonic() < deadline, (
                (tmp_path / "mosquitto.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def _production(tls_port: int, tmp_path: Path, **extra: str) -> Settings:
    """Production settings with Bauhof's MQTT user on the TLS listener."""
    return load(environ={
        "BAUHOF_ENV": "production",
        "BAUHOF_DATABASE_URL": "postgresql://bauhof:x@timescaledb/bauhof",
        "BAUHOF_MQTT_URL": f"mqtts://bauhof:{PASSWORDS['MQTT_BAUHOF_PASSWORD']}"
                           f"@127.0.0.1:{tls_port}",
        **extra,
    }, cwd=tmp_path)


def test_bauhof_connects_over_tls_with_the_ca_file(tls_port: int, tmp_path: Path) -> None:
    cfg = _production(tls_port, tmp_path, BAUHOF_MQTT_CA_FILE=str(tmp_path / "ca.crt"))
    assert (cfg.mqtt.tls, cfg.mqtt.port) == (True, tls_port)
    assert probe(cfg.mqtt, cfg.mqtt_ca_file) is None


def test_the_server_certificate_is_trusted_only_through_the_ca_file(
    tls_port: int, tmp_path: Path,
) -> None:
    cfg = _production(tls_port, tmp_path)
    # Without the CA file the handshake fails, and its socket is closed (an open one would be
    # a ResourceWarning, an error under this suite's warning filter, and a leak per retry).
    failure = re.sub(r" \(_ssl\.c:\d+\)$", "", probe(cfg.mqtt) or "")  # CPython's source line
    assert failure == (f"cannot connect to 127.0.0.1:{tls_port}: [SSL: CERTIFICATE_VERIFY_FAILED]"
                       " certificate verify failed: unable to get local issuer certificate")
    assert [c for c in psutil.Process().net_connections("tcp")
            if c.raddr and c.raddr.port == tls_port] == []
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        context = ssl.create_default_context()
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            context.wrap_socket(raw, server_hostname="127.0.0.1")
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
