"""`bauhof bench ingest`: end-to-end throughput against its limits, and peak memory.

Three measurements on one private broker and database (fresh, on free ports):
1. a bare paho subscriber that only counts the messages (the MQTT receive limit);
2. a bare binary COPY of the same rows (the database write limit);
3. `bauhof ingest` as a separate process: first publish to last row committed, all rows
   counted, and its peak RSS (VmHWM) read from /proc before it is stopped.
The publisher runs in its own process on pre-encoded messages and counts PUBACKs, so a
message dropped on the way is noticed instead of silently shortening the run.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bauhof.mqtt import make_client
from bauhof.services import PrivateStack
from bauhof.settings import parse_mqtt_url
from ingest import load
from ingest.rawpublish import publish_all

FLEET_SIZE = 500


def _progress(text: str, quiet: bool) -> None:
    if not quiet:
        print(f"  {text}", file=sys.stderr, flush=True)


def _publisher(mqtt_url: str, messages: list[tuple[str, bytes]], result: Any) -> None:
    """Publish every message from a process of its own; report what was acknowledged."""
    target = parse_mqtt_url(mqtt_url)
    outcome = publish_all(target.host, target.port, messages, client_id=f"bench-{os.getpid()}")
    result.put((outcome.sent, outcome.acked, outcome.started, outcome.seconds))


def _bare_subscriber(mqtt_url: str, expected: int, ready: Any, result: Any) -> None:
    """Count messages at QoS 1 (auto-acknowledged), first to last."""
    target = parse_mqtt_url(mqtt_url)
    client = make_client(target, f"bench-sub-{os.getpid()}")
    count = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(_c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        nonlocal count, first, last
        count += 1
        last = time.perf_counter()
        if count == 1:
            first = last
        if count == expected:
            done.set()

    def on_subscribe(*_a: object) -> None:
        ready.set()

    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.connect(target.host, target.port)
    client.subscribe("application/+/device/+/event/+", qos=1)
    client.loop_start()
    done.wait(600)
    client.disconnect()
    client.loop_stop()
    result.put((count, last - first))


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _register_fleet(conn: Any, fleet: list[tuple[str, str]]) -> None:
    from bauhof import codecs

    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (dev_eui, model, kind, name) VALUES (%s, %s, %s, %s)",
            [(d, m, codecs.get(m).kind, f"{m}-{d[-4:]}") for d, m in fleet],
        )


def _bare_copy(conn: Any, messages: list[tuple[str, bytes]]) -> float:
    """Rows per second of a binary COPY of the same rows into tables shaped like ingest's
    staging tables (JSON as text, no indexes): the database's write limit for this data."""
    from ingest.pipeline import Pipeline
    from ingest.prepare import Message
    from ingest.writer import RAW_COLUMNS, RAW_TYPES, READING_ALL, READING_TYPES

    pipeline = Pipeline("bench")
    pipeline.connect(conn)  # the staging tables, the devices
    batch = pipeline.build(Message(topic, payload, 0, 0, 0.0, 0) for topic, payload in messages)
    conn.execute("CREATE TEMP TABLE bench_raw (LIKE stage_raw)")
    conn.execute("CREATE TEMP TABLE bench_readings (LIKE stage_readings)")
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        for table, columns, types, rows in (
            ("bench_raw", RAW_COLUMNS, RAW_TYPES, batch.raw),
            ("bench_readings", READING_ALL, READING_TYPES, batch.readings),
        ):
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
                          ) as copy:
                copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
    elapsed = time.perf_counter() - started
    return len(batch.raw) / elapsed


def _count(conn: Any, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def run_bench(events: int, as_json: bool = False, workers: int = 1) -> int:
    """Run all three measurements and print the figures."""
    import psycopg

    quiet = as_json
    ctx = mp.get_context("fork")
    fleet = load.devices(FLEET_SIZE)
    _progress(f"encoding {events} uplinks of {FLEET_SIZE} devices", quiet)
    messages = list(load.uplinks(events, fleet))
    with PrivateStack() as stack:
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            _register_fleet(conn, fleet)

        _progress("bare subscriber", quiet)
        ready, sub_result, pub_result = ctx.Event(), ctx.Queue(), ctx.Queue()
        sub = ctx.Process(target=_bare_subscriber,
                          args=(stack.mqtt_url, events, ready, sub_result))
        sub.start()
        ready.wait(30)
        pub = ctx.Process(target=_publisher, args=(stack.mqtt_url, messages, pub_result))
        pub.start()
        sub_count, sub_seconds = sub_result.get(timeout=900)
        pub_result.get(timeout=900)
        sub.join()
        pub.join()
        bare_rate = sub_count / sub_seconds if sub_seconds > 0 else float("nan")

        _progress("bare COPY", quiet)
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            copy_rate = _bare_copy(conn, messages)

        _progress(f"bauhof ingest ({workers} worker(s)), end to end", quiet)
        share = ["--share", "bench"] if workers > 1 else []
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "shell", "ingest", "--client-id",
                 f"bench-ingest-{n}", *share],
                env=stack.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for n in range(workers)
        ]
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while _count(conn, "SELECT count(*) FROM pg_stat_activity"
                               " WHERE application_name = 'bauhof-ingest'") < workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("bauhof ingest did not start")
                time.sleep(0.05)
            time.sleep(1.0)  # the subscription follows the database connection
            pub = ctx.Process(target=_publisher, args=(stack.mqtt_url, messages, pub_result))
            pub.start()
            sent, acked, pub_started, pub_seconds = pub_result.get(timeout=900)
            pub.join()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                if _count(conn, "SELECT count(*) FROM raw_uplinks") >= events:
                    break
                time.sleep(0.02)
            finished = time.perf_counter()
            peak_rss = max(_peak_rss_mb(p.pid) for p in procs)
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(60)
            distinct = _count(conn, "SELECT count(DISTINCT deduplication_id) FROM raw_uplinks")
            readings = _count(conn, "SELECT count(*) FROM readings")
            stored = _count(conn, "SELECT count(*) FROM raw_uplinks")
            dead = _count(conn, "SELECT count(*) FROM dead_letters")
    wall = finished - pub_started
    figures = {
        "events": events,
        "workers": workers,
        "published": sent,
        "publisher_acked": acked,
        "wall_s": round(wall, 3),
        "events_per_s": round(events / wall, 1),
        "publisher_per_s": round(sent / pub_seconds, 1),
        "bare_subscriber_per_s": round(bare_rate, 1),
        "copy_rows_per_s": round(copy_rate, 1),
        "ratio_to_subscriber": round(events / wall / bare_rate, 3),
        "peak_rss_mb": round(peak_rss, 1),  # of the largest worker
        "lost": events - distinct,
        "duplicated": stored - distinct,
        "readings": readings,
        "dead_lettered": dead,
    }
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:24} {value}")
    ok = figures["lost"] == 0 and figures["duplicated"] == 0 and sent == events == acked
    return 0 if ok else 1
