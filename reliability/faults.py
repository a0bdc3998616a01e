"""One function per fault, each against real processes; each returns a report row.

Every run streams realistic ChirpStack uplinks (`ingest.load`) of a registered fleet through
a fresh Mosquitto into `bauhof ingest` (a subprocess) and a fresh database, disturbs it, lets
it recover on its own, and counts: every uplink the broker acknowledged must be stored exactly
once, with its readings.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from reliability import StepFailed
from reliability.ingest_run import IngestRun
from reliability.lab import Lab, connection, scalar, wait_until
from reliability.report import Row

Condition = Callable[..., Row]


def kill_ingest(lab: Lab, *, events: int, kills: int, seed: int = 1) -> Row:
    """`kill -9` of ingest at `kills` random moments of the stream, restarted each time."""
    rng = random.Random(seed)
    with IngestRun(lab, "kill9", events, seed) as run:
        # Paced over about ten seconds (or as fast as ingest), so every kill is mid-stream.
        publisher = run.publisher(rate=max(events / 10, 200.0)).start()
        # Random moments while ingest works through the stream.
        marks = sorted(rng.uniform(0.05, 0.9) * events for _ in range(kills))
        killed_at = []
        for mark in marks:
            run.wait_stored(mark)
            time.sleep(rng.uniform(0.0, 0.15))  # a random instant, not a synchronisation
            run.ingest.kill9()
            killed_at.append(run.stored())
            run.ingest.start()
        return run.finish("kill -9 ingest", kills, publisher.join(300), killed_at=killed_at)


def postgres_outage(lab: Lab, *, events: int, seconds: float, seed: int = 2) -> Row:
    """PostgreSQL stopped (`pg_ctl stop -m fast`) for `seconds` mid-stream, then started."""
    with IngestRun(lab, "pgstop", events, seed) as run:
        publisher = run.publisher(rate=max(events / 10, 200.0)).start()
        run.wait_stored(events / 4)
        lab.postgres.stop("fast")
        stopped = time.monotonic()
        # The outage itself: ingest must ride it out on its own.
        time.sleep(seconds)
        alive = run.ingest.alive()
        lab.postgres.start()
        outage = time.monotonic() - stopped
        row = run.finish("PostgreSQL stopped", 1, publisher.join(300),
                         outage_s=round(outage, 1), ingest_alive_during_outage=alive)
        row.details["retries_logged"] = run.ingest.log_text().count("retrying in")
        return row


def broker_restart(lab: Lab, *, events: int, restarts: int, seed: int = 3) -> Row:
    """Mosquitto stopped (it saves its persistence file) and started mid-stream."""
    with IngestRun(lab, "brokerrestart", events, seed) as run:
        # Slower than ingest, so that the restarts hit the publisher mid-stream as well.
        publisher = run.publisher(rate=min(max(events / 8, 200.0), 2000.0)).start()
        for n in range(restarts):
            run.wait_stored(events * (n + 1) / (restarts + 2))
            run.broker.stop()
            run.broker.start()
        return run.finish("broker restarted", restarts, publisher.join(300),
                          publisher_reconnects=max(0, publisher.connections - 1))


def network_cut(lab: Lab, *, events: int, cuts: int, refuse_s: float, seed: int = 4) -> Row:
    """The connection between ingest and the broker reset `cuts` times; after the last cut
    new connections are refused for `refuse_s` seconds."""
    with IngestRun(lab, "netcut", events, seed, via_proxy=True) as run:
        assert run.proxy is not None
        publisher = run.publisher(rate=max(events / 8, 200.0)).start()
        proxy = run.proxy
        reset = 0
        for n in range(cuts):
            run.wait_stored(events * (n + 1) / (cuts + 2))
            # Cut a live connection: ingest may still be reconnecting after the last cut.
            wait_until("network cut: ingest connected through the proxy",
                       lambda: proxy.open_connections > 0, 60.0)
            if n == cuts - 1:
                proxy.refuse(refuse_s)
            reset += proxy.cut()
        row = run.finish("network to broker cut", cuts, publisher.join(300),
                         connections_reset=reset)
        # Read once everything is stored: the refused attempts come after the last cut.
        row.details["connections_refused"] = proxy.refused
        return row


def backlog(lab: Lab, *, events: int, seed: int = 5) -> Row:
    """Ingest stopped while `events` queue at the broker, then started: drain rate and
    completeness; then as many again with ingest running, for the sustained rate."""
    with IngestRun(lab, "backlog", 2 * events, seed) as run:
        queued, live = run.messages[:events], run.messages[events:]
        if run.ingest.stop() != 0:
            raise StepFailed("stopping ingest for the backlog", run.ingest.log_text()[-500:])
        first = run.publisher(queued).run()
        with connection(run.database_url) as conn:
            started = time.monotonic()
            run.ingest.start()
            run.wait_stored(1, timeout=60)
            first_row = time.monotonic()
            run.wait_stored(len(first.acked), timeout=600)
            drained = time.monotonic()
            live_from = time.monotonic()
            second = run.publisher(live).start().join(300)
            run.wait_stored(len(first.acked) + len(second.acked), timeout=600)
            live_s = time.monotonic() - live_from
            batches = int(scalar(conn, "SELECT count(*) FROM ingest_batches"))
        acked = frozenset(first.acked | {i + events for i in second.acked})
        report = type(first)(2 * events, acked, first.sends + second.sends,
                             first.connections + second.connections,
                             first.seconds + second.seconds)
        drain_s = drained - first_row
        return run.finish(
            "backlog drained", 1, report, backlog_events=events,
            start_to_first_row_s=round(first_row - started, 2),
            drain_s=round(drain_s, 2),
            drain_per_s=round(events / drain_s, 1) if drain_s > 0 else None,
            sustained_per_s=round(events / live_s, 1) if live_s > 0 else None,
            batches=batches)


# Database conditions: what PostgreSQL answers when it cannot take writes. ----------------

_DISK_FULL = """
CREATE FUNCTION reliability_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'could not extend file "base/raw_uplinks": No space left on device'
    USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
END $$;
CREATE TRIGGER reliability_disk_full BEFORE INSERT ON raw_uplinks
  FOR EACH ROW EXECUTE FUNCTION reliability_disk_full();
"""


def read_only(lab: Lab, *, events: int, seconds: float, seed: int = 6) -> Row:
    """The database turned read-only (`default_transaction_read_only`, ingest's connection
    terminated so that it reconnects into read-only sessions) for `seconds`, then writable."""
    with IngestRun(lab, "readonly", events, seed) as run, \
            connection(lab.postgres.url("postgres")) as admin:
        admin.execute(f'ALTER DATABASE "{run.dbname}" SET default_transaction_read_only = on')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND application_name = 'bauhof-ingest'", (run.dbname,))
        return _condition(run, "database read-only", seconds, admin.execute, (
            f'ALTER DATABASE "{run.dbname}" RESET default_transaction_read_only',))


def disk_full(lab: Lab, *, events: int, seconds: float, seed: int = 7) -> Row:
    """Every insert into raw_uplinks answered with SQLSTATE 53100 `disk_full` for `seconds`.

    A trigger gives PostgreSQL's own answer to a full disk (error class, message and hint);
    filling a real file system is not possible on a shared machine.
    """
    with IngestRun(lab, "diskfull", events, seed) as run, connection(run.database_url) as conn:
        conn.execute(_DISK_FULL)
        return _condition(run, "disk full", seconds, conn.execute, (
            "DROP TRIGGER reliability_disk_full ON raw_uplinks",
            "DROP FUNCTION reliability_disk_full()"))


def _condition(run: IngestRun, fault: str, seconds: float, execute: object,
               clear: tuple[str, ...]) -> Row:
    """Stream while the database refuses writes, hold it for `seconds`, clear it, count."""
    assert callable(execute)
    before = run.stored()
    report = run.publisher().run()
    held_from = time.monotonic()
    # The condition itself lasts this long; ingest must neither crash nor acknowledge.
    time.sleep(max(0.0, seconds - (time.monotonic() - held_from)))
    during = run.stored() - before
    alive = run.ingest.alive()
    for sql in clear:
        execute(sql)
    row = run.finish(fault, 1, report, stored_during_condition=during,
                     ingest_alive_during_condition=alive)
    lines = [line for line in run.ingest.log_text().splitlines()
             if " ERROR " in line or " WARNING " in line]
    said = [line.split(": ", 1)[-1] for line in lines]
    row.details["errors_logged"] = len(lines)
    # What an operator reads, each distinct message once.
    row.details["log_says"] = " | ".join(dict.fromkeys(said))[:1000]
    return row


# Poison: messages built to break a parser, on every topic ingest subscribes to. -----------

_APP = "c3f2c4aa-07c8-4d6c-8a86-7ea2d4a31dca"
_EUI = "24e124538b223213"


def poison_messages() -> list[tuple[str, bytes]]:
    """One message per way of breaking a parser, on each subscribed topic (issue 13)."""
    def event(kind: str) -> str:
        return f"application/{_APP}/device/{_EUI}/event/{kind}"

    digits = b'{"time":"2026-12-04T21:00:00+00:00","rain_mm_h":1' + b"0" * 4300 + b"}"
    deep_object = (b'{"deduplicationId":"00000000-0000-4000-8000-000000000001",'
                   b'"time":"2026-06-01T12:00:00+00:00","deviceInfo":{"devEui":"' +
                   _EUI.encode() + b'"},"fPort":2,"data":"AA==","object":' +
                   b'{"a":' * 600 + b"1" + b"}" * 600 + b"}")
    bombs = [digits, b"[" * 5000, b"{" * 5000, deep_object, b"\x0a\xff\xff\xff" * 100,
             b'{"time":"\\u0000"}', b"x" * 300_000]
    topics = ["bauhof/weather/herrenberg", *(event(k) for k in (
        "up", "status", "join", "log", "location", "ack", "txack", "integration"))]
    return [(topic, bomb) for topic in topics for bomb in bombs]


def poison(lab: Lab, *, events: int, seed: int = 8) -> Row:
    """Every poison message on every subscribed topic, spread over a stream of uplinks:
    ingest must stay up (one start), store every good uplink once and dead-letter each."""
    import paho.mqtt.client as paho

    from bauhof.mqtt import make_client
    from bauhof.settings import parse_mqtt_url

    bad = poison_messages()
    with IngestRun(lab, "poison", events, seed) as run:
        publisher = run.publisher(rate=max(events / 8, 200.0)).start()
        client = make_client(parse_mqtt_url(f"mqtt://127.0.0.1:{run.broker.port}"),
                             "poison-messages")
        client.connect("127.0.0.1", run.broker.port)
        client.loop_start()
        wait_until("poison: publisher connected", client.is_connected, 10.0)
        down_seen = 0
        try:
            for n, (topic, payload) in enumerate(bad):
                run.wait_stored(events * (n + 1) / (len(bad) + 2))
                info = client.publish(topic, payload, qos=1)
                info.wait_for_publish(10)
                if info.rc != paho.MQTT_ERR_SUCCESS:
                    raise StepFailed(f"publishing poison on {topic}", str(info.rc))
                down_seen += 0 if run.ingest.alive() else 1
        finally:
            client.disconnect()
            client.loop_stop()
        report = publisher.join(300)
        with connection(run.database_url) as conn:
            wait_until("poison: every poison message dead-lettered",
                       lambda: int(scalar(conn, "SELECT count(*) FROM dead_letters"))
                       >= len(bad), 60.0)
        alive = run.ingest.alive() and not down_seen
        row = run.finish("poison messages", len(bad), report, ingest_never_down=alive,
                         poison_topics=len({t for t, _ in bad}))
        if not alive or row.details["ingest_starts"] != 1:
            row.details["error"] = "ingest went down on a poison message"
        if row.details["dead_letters"] != len(bad):
            row.details["error"] = (f"{row.details['dead_letters']} dead letters for "
                                    f"{len(bad)} poison messages")
        return row
