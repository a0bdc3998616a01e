"""One fault's stage: a fresh database and broker, a fleet, its events and `bauhof ingest`."""

from __future__ import annotations

from typing import Any

from bauhof import codecs
from bauhof.services import Stage
from ingest import load
from reliability.lab import Lab, connection, probe_ingest, scalar, wait_until
from reliability.processes import Worker
from reliability.processes import ingest as ingest_worker
from reliability.proxy import Proxy
from reliability.publisher import PublishReport, ReliablePublisher
from reliability.report import Row, tally, uplink_ids, wait_stored

FLEET = 200


class IngestRun(Stage):
    """Context manager: ingest is running and subscribed on entry; everything stops on exit."""

    def __init__(self, lab: Lab, label: str, events: int, seed: int, *,
                 via_proxy: bool = False, batch_size: int = 500) -> None:
        self.lab = lab
        self.label = label
        self.database_url = lab.database(label)
        self.dbname = self.database_url.rsplit("/", 1)[1]
        self.broker = lab.broker()
        fleet = load.devices(FLEET, seed)
        with connection(self.database_url) as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO devices (dev_eui, model, kind, name) VALUES (%s, %s, %s, %s)",
                [(d, m, codecs.get(m).kind, f"{m}-{d[-4:]}") for d, m in fleet])
        self.messages = list(load.uplinks(events, fleet, seed=seed))
        self.ids = uplink_ids(self.messages)
        self.proxy = Proxy("127.0.0.1", self.broker.port) if via_proxy else None
        port = self.proxy.port if self.proxy else self.broker.port
        self.mqtt_port = port
        self.ingest: Worker = ingest_worker(self.database_url, f"mqtt://127.0.0.1:{port}",
                                            lab.log_dir(), label, batch_size)

    def start(self) -> None:
        """Start the proxy (if any) and ingest; return once ingest is subscribed."""
        if self.proxy is not None:
            self.proxy.start()
        self.ingest.start()
        probe_ingest(self.database_url, self.mqtt_port, self.ingest.alive)

    def stop(self) -> None:
        """Stop ingest and the proxy, drop the run's broker."""
        self.ingest.stop()
        if self.proxy is not None:
            self.proxy.close()
        self.lab.drop_broker(self.broker)

    def publisher(self, messages: list[tuple[str, bytes]] | None = None,
                  rate: float | None = None) -> ReliablePublisher:
        """A publisher of the run's events straight to the broker (not started)."""
        return ReliablePublisher("127.0.0.1", self.broker.port,
                                 self.messages if messages is None else messages,
                                 client_id=f"{self.label}-pub", rate=rate)

    def stored(self) -> int:
        """Raw uplinks stored so far (a connection of its own: the database may be down)."""
        with connection(self.database_url) as conn:
            return int(scalar(conn, "SELECT count(*) FROM raw_uplinks"))

    def wait_stored(self, at_least: float, timeout: float = 600.0) -> None:
        """Wait until ingest has stored `at_least` raw uplinks."""
        count = "SELECT count(*) FROM raw_uplinks"
        with connection(self.database_url) as conn:
            wait_until(f"{self.label}: waiting for {at_least:.0f} stored uplinks",
                       lambda: int(scalar(conn, count)) >= at_least, timeout,
                       lambda: f"{scalar(conn, count)} stored")

    def finish(self, fault: str, tried: int, report: PublishReport,
               ids: list[str] | None = None, **details: Any) -> Row:
        """Wait for ingest to store what was acknowledged, stop it cleanly, and count."""
        all_ids = self.ids if ids is None else ids
        published = [all_ids[i] for i in sorted(report.acked)]
        with connection(self.database_url) as conn:
            wait_stored(conn, len(published))
            if self.ingest.alive():
                # A worker restarted just now handles SIGTERM only once it runs.
                self.ingest.wait_logged("connected to")
            status = self.ingest.stop()
            counted = tally(conn, published, all_ids)
            dead = int(scalar(conn, "SELECT count(*) FROM dead_letters"))
        details.update({"ingest_exit_status": status, "ingest_starts": self.ingest.starts,
                        "publisher_sends": report.sends,
                        "publisher_connections": report.connections,
                        "dead_letters": dead})
        if counted.unpublished_stored:
            details["stored_but_not_acknowledged"] = counted.unpublished_stored
        return Row(fault, tried, counted.published, counted.stored, counted.duplicates,
                   counted.lost, details=details)
