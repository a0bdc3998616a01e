"""The `--metrics-port` option shared by `bauhof ingest` and `bauhof rules`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shell.main import build_parser


def test_port_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAUHOF_METRICS_PORT", raising=False)
    assert build_parser().parse_args(["ingest"]).metrics_port is None
    assert build_parser().parse_args(["rules", "--metrics-port", "9101"]).metrics_port == 9101
    monkeypatch.setenv("BAUHOF_METRICS_PORT", "9102")
    assert build_parser().parse_args(["ingest"]).metrics_port == 9102


@pytest.mark.parametrize(("value", "message"), [
    ("0", "0 is not a port number (1..65535)"),
    ("70000", "70000 is not a port number (1..65535)"),
    ("metrics", "'metrics' is not a port number"),
])
def test_a_bad_port_is_refused_before_anything_starts(value: str, message: str) -> None:
    env = {**os.environ, "BAUHOF_METRICS_PORT": value}
    result = subprocess.run([sys.executable, "-m", "shell", "ingest"], check=False,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"bauhof ingest: error: argument --metrics-port: {message} "
        "(see `bauhof ingest --help`)")


def test_worker_metrics_listen_on_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from bauhof import metrics
    from bauhof.services import free_port

    monkeypatch.delenv("BAUHOF_METRICS_ADDR", raising=False)
    assert build_parser().parse_args(["ingest"]).metrics_addr == "127.0.0.1"
    assert build_parser().parse_args(["rules", "--metrics-addr", "0.0.0.0"]).metrics_addr \
        == "0.0.0.0"
    monkeypatch.setenv("BAUHOF_METRICS_ADDR", "::1")
    assert build_parser().parse_args(["rules"]).metrics_addr == "::1"
    port = free_port()
    stop = metrics.serve(metrics.new_registry(), port,
                         build_parser().parse_args(["ingest"]).metrics_addr)
    try:
        listening = [line.split()[1] for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]
                     if line.split()[3] == "0A" and line.split()[1].endswith(f":{port:04X}")]
    finally:
        stop()
    assert listening == [f"00000000000000000000000001000000:{port:04X}"]
