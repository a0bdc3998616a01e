"""`bauhof ingest` and `bauhof bench ingest`."""

from __future__ import annotations

import argparse
from typing import Any

from bauhof.cli import bench_command, command
from bauhof.cli import positive_int as _positive
from bauhof.metrics import add_port_argument


def register(commands: Any, bench: Any) -> None:
    """Add the ingest commands."""
    parser = command(commands, "ingest", cmd_ingest,
                     help="store ChirpStack events from MQTT in TimescaleDB")
    parser.add_argument("--client-id", default=None,
                        help="MQTT client id; stable across restarts, unique per worker "
                             "(default: $BAUHOF_MQTT_CLIENT_ID, else bauhof-ingest in "
                             "development and an unguessable one in production)")
    parser.add_argument("--share", metavar="GROUP",
                        help="join the MQTT 5 shared subscription $share/GROUP/…")
    parser.add_argument("--batch-size", type=_positive, default=2000)
    parser.add_argument("--batch-ms", type=_positive, default=100,
                        help="longest wait before a partial batch is written")
    add_port_argument(parser)

    bench_parser = bench_command(
        bench, "ingest", cmd_bench_ingest,
        help="end-to-end ingest throughput, bare limits and peak memory",
    )
    bench_parser.add_argument("--events", type=_positive, default=100_000)
    bench_parser.add_argument("--workers", type=_positive, default=1,
                              help="ingest processes on one shared subscription")

    from ingest import deadletters

    deadletters.register(commands)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Subscribe to ChirpStack v4 application events (QoS 1, persistent session) and store them
    exactly once. SIGTERM flushes, acknowledges and exits 0."""
    from bauhof import metrics, settings
    from ingest.metrics import MeteredIngestWorker
    from ingest.worker import IngestConfig, IngestWorker

    cfg = settings.load()
    config = IngestConfig(
        database_url=cfg.database_url, mqtt=cfg.mqtt,
        client_id=args.client_id or cfg.mqtt_client_id,
        share_group=args.share, mqtt_ca_file=cfg.mqtt_ca_file, batch_size=args.batch_size,
        batch_seconds=args.batch_ms / 1000, object_keymap=cfg.object_keymap,
    )
    stop_metrics = metrics.serve(None, None)
    if args.metrics_port is None:
        worker = IngestWorker(config)
    else:
        worker = metered = MeteredIngestWorker(config)
        stop_metrics = metrics.serve(metered.registry, args.metrics_port, args.metrics_addr)
    worker.install_signal_handlers()
    try:
        worker.run()
    finally:
        stop_metrics()
    return 0


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    """Run the ingest benchmark."""
    from ingest.bench import run_bench

    return run_bench(args.events, as_json=args.json, workers=args.workers)
