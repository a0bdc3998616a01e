"""`bauhof bench rules`: latency from MQTT publish to committed order, under background load.

On a private PostgreSQL+TimescaleDB and Mosquitto (free ports, temporary directories),
`bauhof ingest` and `bauhof rules` run as processes. A paced publisher process sends
background uplinks of 500 devices at `rate` per second, stamped like a live stream (event time
keeps pace with the wall clock; a back-dated stream would make the engine judge the whole
fleet silent at once and time that storm instead of the steady state); after a warm-up,
`probes` bin uplinks, each crossing its bin's fill threshold, are published one at a time.
A connection LISTENing on the outbox channel notes when each probe's empty-bin order commits
(NOTIFY is delivered at commit); latency is that moment minus the moment of publishing.
"""

from __future__ import annotations

import base64
import json
import multiprocessing as mp
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

import numpy as np
import psycopg

from bauhof import codecs
from bauhof.mqtt import make_client
from bauhof.mqttwire import connect_packet, publish_packet
from bauhof.services import PrivateStack
from bauhof.settings import parse_mqtt_url
from ingest import load
from rules.errors import RulesError
from rules.outbox import CHANNEL

FLEET = 500
PROBE_MODEL = "milesight-em310-udl"
START_TIMEOUT_S = 60.0
ORDER_TIMEOUT_S = 10.0


def _note(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def _paced(mqtt_url: str, messages: list[tuple[str, bytes]], rate: int, stop: Any) -> None:
    """Publish at QoS 1, `rate` a second in 10 ms slices, from a process of its own."""
    target = parse_mqtt_url(mqtt_url)
    packets = [publish_packet(t, p, (i % 65535) + 1) for i, (t, p) in enumerate(messages)]
    sock = socket.create_connection((target.host, target.port))
    sock.sendall(connect_packet(f"bench-load-{uuid.uuid4().hex[:6]}"))
    sock.recv(4)

    def drain() -> None:  # PUBACKs: read and drop, so the socket never fills up
        try:
            while sock.recv(65536):
                pass
        except OSError:
            return  # closed at the end of the run

    threading.Thread(target=drain, daemon=True).start()
    per_slice = max(1, rate // 100)
    started = time.perf_counter()
    for index in range(0, len(packets), per_slice):
        if stop.is_set():
            break
        sock.sendall(b"".join(packets[index:index + per_slice]))
        due = started + (index // per_slice + 1) * 0.01
        time.sleep(max(0.0, due - time.perf_counter()))
    sock.sendall(b"\xe0\x00")
    sock.close()


def _probe_event(dev_eui: str, fill_distance_mm: int, f_cnt: int) -> bytes:
    fport, payload = codecs.encode(PROBE_MODEL, {"battery_pct": 90, "distance_mm":
                                                 fill_distance_mm, "tilted": False})
    stamp = datetime.now(UTC).isoformat()
    event = {
        "deduplicationId": str(uuid.uuid4()), "time": stamp,
        "deviceInfo": {"tenantId": "t", "tenantName": "Stadt",
                       "applicationId": load.APPLICATION_ID, "applicationName": "bauhof",
                       "deviceProfileId": "p", "deviceProfileName": PROBE_MODEL,
                       "deviceName": dev_eui, "devEui": dev_eui, "deviceClassEnabled": "CLASS_A",
                       "tags": {}},
        "devAddr": dev_eui[-8:], "adr": True, "dr": 5, "fCnt": f_cnt, "fPort": fport,
        "confirmed": False, "data": base64.b64encode(payload).decode(),
        "rxInfo": [{"gatewayId": "e4e124dadef64eee", "uplinkId": 1, "nsTime": stamp,
                    "rssi": -80, "snr": 7.5, "channel": 0, "context": "AA==",
                    "crcStatus": "CRC_OK"}],
        "txInfo": {"frequency": 868100000, "modulation": {"lora": {
            "bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}}},
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _setup(conn: psycopg.Connection[Any], fleet: list[tuple[str, str]], probes: int) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (dev_eui, model, kind, name, expected_interval_s) "
            "VALUES (%s, %s, %s, %s, 60)",
            [(d, m, codecs.get(m).kind, f"{m}-{d[-4:]}") for d, m in fleet])
        cur.executemany(
            "INSERT INTO bins (id, latitude, longitude, volume_l, empty_distance_mm, "
            "full_distance_mm) VALUES (%s, 48.6, 8.87, 240, 1000, 100)",
            [(f"bench-bin-{i}",) for i in range(probes)])
        cur.executemany(
            "INSERT INTO devices (dev_eui, model, kind, asset_type, asset_id, "
            "expected_interval_s) VALUES (%s, %s, 'bin', 'bin', %s, 3600)",
            [(_probe_eui(i), PROBE_MODEL, f"bench-bin-{i}") for i in range(probes)])


def _probe_eui(i: int) -> str:
    return f"b0b0b0b0{i:08x}"


def _wait_for(conn: psycopg.Connection[Any], app: str, proc: subprocess.Popen[bytes],
              log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
    while conn.execute(query, (app,)).fetchone() != (1,):
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            err = log.read().decode(errors="replace")[-500:]
            raise RulesError(f"{app} did not start: {err}")
        time.sleep(0.05)


def _note_slow_steps(log: IO[bytes]) -> None:
    """Repeat the engine's reports of steps that alone took a second (where a tail came from)."""
    log.seek(0)
    slow = [line for line in log.read().decode(errors="replace").splitlines()
            if "bauhof.rules: step of" in line]
    for line in slow[:10]:
        _note(f"slow rules step: {line}")
    if len(slow) > 10:
        _note(f"… and {len(slow) - 10} more slow rules steps")


def run_bench(rate: int = 1000, seconds: int = 20, probes: int = 100) -> dict[str, Any]:
    """Run the benchmark on private services; return the figures."""
    ctx = mp.get_context("fork")
    fleet = load.devices(FLEET)
    with PrivateStack() as stack, psycopg.connect(stack.database_url, autocommit=True) as conn:
        _setup(conn, fleet, probes)
        # Logs go to files: a pipe nobody reads would stall a process once its buffer fills.
        logs = [(stack.root / f"{name}.log").open("w+b") for name in ("ingest", "rules")]
        procs = [subprocess.Popen([sys.executable, "-m", "shell", *args], env=stack.env(),
                                  stdout=subprocess.DEVNULL, stderr=log)
                 for args, log in zip((["ingest", "--client-id", "bench-ingest"], ["rules"]),
                                      logs, strict=True)]
        stop = ctx.Event()
        loader = None
        try:
            _wait_for(conn, "bauhof-ingest", procs[0], logs[0])
            _wait_for(conn, "bauhof-rules-0", procs[1], logs[1])
            _note(f"encoding {rate * (seconds + 5)} background uplinks")
            background = list(load.uplinks(rate * (seconds + 5), fleet,
                                           start=datetime.now(UTC), rate=rate))
            loader = ctx.Process(target=_paced, args=(stack.mqtt_url, background, rate, stop))
            time.sleep(1.0)  # ingest subscribes after connecting to the database
            latencies = _measure(stack.mqtt_url, stack.database_url, loader, seconds, probes)
        finally:
            stop.set()
            if loader is not None and loader.pid is not None:
                loader.join(30)
            for proc in procs:
                proc.terminate()
                proc.wait(60)
            _note_slow_steps(logs[1])
            for log in logs:
                log.close()
        counts = conn.execute("SELECT (SELECT count(*) FROM readings), "
                              "(SELECT count(*) FROM work_orders WHERE kind = 'empty_bin')"
                              ).fetchone()
    assert counts is not None
    found = np.array([v for v in latencies if v is not None]) * 1000
    return {
        "background_rate": rate, "seconds": seconds, "probes": probes,
        "orders_committed": len(found), "missing": probes - len(found),
        "p50_ms": round(float(np.percentile(found, 50)), 1) if len(found) else None,
        "p99_ms": round(float(np.percentile(found, 99)), 1) if len(found) else None,
        "max_ms": round(float(found.max()), 1) if len(found) else None,
        "readings_stored": int(counts[0]), "empty_bin_orders": int(counts[1]),
    }


def _measure(mqtt_url: str, database_url: str, loader: Any, seconds: int, probes: int) -> (
    list[float | None]
):
    committed: dict[str, float] = {}
    ready = threading.Event()
    finished = threading.Event()

    def listen() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            ready.set()
            last = 0
            while not finished.is_set() or len(committed) < probes:
                for _ in conn.notifies(timeout=0.5, stop_after=1):
                    pass
                seen = time.perf_counter()
                for oid, subject in conn.execute(
                        "SELECT id, subject_id FROM work_orders WHERE id > %s "
                        "AND kind = 'empty_bin' ORDER BY id", (last,)).fetchall():
                    committed.setdefault(str(subject), seen)
                    last = int(oid)
                if finished.is_set() and time.perf_counter() > deadline:
                    return

    deadline = float("inf")
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    target = parse_mqtt_url(mqtt_url)
    client = make_client(target)
    client.connect(target.host, target.port)
    client.loop_start()
    loader.start()
    time.sleep(2.0)  # let the background load reach its rate
    _note(f"publishing {probes} threshold crossings over {seconds} s")
    published: dict[str, float] = {}
    gap = seconds / probes
    for i in range(probes):
        body = _probe_event(_probe_eui(i), 150, i + 1)  # 150 mm: 94 % full
        published[f"bench-bin-{i}"] = time.perf_counter()
        client.publish(f"application/{load.APPLICATION_ID}/device/{_probe_eui(i)}/event/up",
                       body, qos=1).wait_for_publish(5)
        time.sleep(gap)
    deadline = time.perf_counter() + ORDER_TIMEOUT_S
    finished.set()
    listener.join(ORDER_TIMEOUT_S + 5)
    client.disconnect()
    client.loop_stop()
    return [committed[b] - t if b in committed else None for b, t in published.items()]
