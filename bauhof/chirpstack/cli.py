"""`bauhof chirpstack sync` and `bauhof downlink`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from bauhof.chirpstack.api import ChirpStackError
from bauhof.chirpstack.sync import UUID, Change
from bauhof.cli import argument_type, command, fail

_VERB = {"created": "create", "updated": "update"}


def register(commands: Any, bench: Any) -> None:
    """Add `chirpstack sync` and `downlink`."""
    chirpstack = commands.add_parser(
        "chirpstack", help="ChirpStack's device registry (sync)",
        description="Work with ChirpStack v4 through its gRPC API (docs/chirpstack.md).")
    sub = chirpstack.add_subparsers(dest="chirpstack_command", metavar="COMMAND", required=True)
    sync = sub.add_parser(
        "sync", help="register Bauhof's devices in ChirpStack and ChirpStack's in Bauhof",
        description="To ChirpStack: a device profile per model (named after the model id), "
                    "the operators' devices and their AppKeys. From ChirpStack: devices Bauhof "
                    "does not know. Settings: BAUHOF_CHIRPSTACK_API, BAUHOF_CHIRPSTACK_API_TOKEN,"
                    " BAUHOF_CHIRPSTACK_TENANT_ID. Changes only what differs.")
    sync.add_argument("--direction", choices=("both", "to-chirpstack", "from-chirpstack"),
                      default="both", help="default: both (to ChirpStack first)")
    sync.add_argument("--application-id", metavar="ID", type=_uuid,
                      help="ChirpStack application for devices without application_id; "
                           "only this application is synced")
    sync.add_argument("--keys", metavar="FILE", type=Path,
                      help="YAML file of DevEUI: AppKey (never printed, never stored by Bauhof)")
    sync.add_argument("--dry-run", action="store_true", help="show what would change, change "
                                                             "nothing")
    sync.set_defaults(handler=cmd_sync)

    downlink = command(commands, "downlink", cmd_downlink,
                       help="queue a downlink through ChirpStack's MQTT integration")
    downlink.add_argument("--dev-eui", required=True, type=_dev_eui, metavar="DEVEUI")
    what = downlink.add_mutually_exclusive_group(required=True)
    what.add_argument("--hex", type=argument_type(bytes.fromhex, "hexadecimal"), metavar="HEX",
                      help="payload bytes as hex")
    what.add_argument("--interval", type=_duration, metavar="DURATION",
                      help="set the uplink interval: seconds, or 90s, 20m, 6h")
    downlink.add_argument("--fport", type=int, metavar="N", help="LoRaWAN fPort (with --hex)")
    downlink.add_argument("--confirmed", action="store_true", help="ask the device to ack")
    downlink.add_argument("--application-id", metavar="ID",
                          help="ChirpStack application (default: the device's in Bauhof)")
    downlink.add_argument("--model", help="model id (default: the device's in Bauhof)")


def _uuid(text: str) -> str:
    if not UUID.match(text.lower()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a ChirpStack id (a UUID)")
    return text.lower()


def _dev_eui(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{16}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a DevEUI of 16 hex digits")
    return text.lower()


def _duration(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*([smh]?)", text.strip())
    if not match or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 1200, 20m or 6h")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


def render(changes: list[Change], dry_run: bool) -> str:
    """The summary table and a closing line with the counts."""
    rows = [(c.side, c.kind, c.key,
             f"would {_VERB[c.action]}" if dry_run and c.action in _VERB else c.action,
             c.detail) for c in changes]
    header = ("side", "object", "id", "result", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell
                       for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    counts = {a: sum(c.action == a for c in changes)
              for a in ("created", "updated", "unchanged", "skipped")}
    lines.append(", ".join(f"{n} {a}" for a, n in counts.items()))
    if dry_run:
        lines.append("dry run: nothing was changed")
    elif counts["created"] == counts["updated"] == 0:
        lines.append("already in sync: nothing changed")
    return "\n".join(lines)


def cmd_sync(args: argparse.Namespace) -> int:
    """Run the sync and print the summary."""
    from bauhof import db
    from bauhof import settings as settings_mod
    from bauhof.chirpstack import api, inventory, sync
    from bauhof.chirpstack.keys import loosely_readable, read_keys

    try:
        cfg = settings_mod.load()
        config = api.connection_settings(cfg.chirpstack)
        keys = read_keys(args.keys) if args.keys else {}
        if args.keys and loosely_readable(args.keys):
            print(f"bauhof chirpstack sync: warning: {args.keys} holds keys and is readable by "
                  f"other users: chmod 600 {args.keys}", file=sys.stderr)
        changes: list[Change] = []
        with api.ChirpStack(config) as client, db.connect(cfg.database_url) as conn:
            stored = sync.stored_devices(conn)
            if args.direction in ("both", "to-chirpstack"):
                changes += sync.push(client, stored.values(), tenant_id=config.tenant_id,
                                     application_id=args.application_id, keys=keys,
                                     dry_run=args.dry_run)
            if args.direction in ("both", "from-chirpstack"):
                apps = ([args.application_id] if args.application_id else
                        sorted({d.application_id for d in stored.values()
                                if d.application_id and UUID.match(d.application_id)}))
                if not apps:
                    raise api.NotConfiguredError("--application-id", "is needed: Bauhof knows "
                                                 "no ChirpStack application to read")
                pulled = inventory.pull(client, stored, apps)
                if not args.dry_run:
                    inventory.store(conn, pulled)
                changes += pulled.changes
    except ChirpStackError as exc:
        return fail("chirpstack sync", exc)
    print(render(changes, args.dry_run))
    return 0


def cmd_downlink(args: argparse.Namespace) -> int:
    """Publish to application/<app>/device/<DevEUI>/command/down; ChirpStack sends it after the
    device's next uplink. --interval uses the model's documented command (docs/chirpstack.md)."""
    from bauhof import settings as settings_mod
    from bauhof.chirpstack import downlink as dl

    if args.hex is not None and args.fport is None:
        return fail("downlink", "--fport N is needed with --hex", 2)
    if args.interval is not None and args.fport is not None:
        print("bauhof downlink: error: --interval takes the fPort from the model; drop --fport",
              file=sys.stderr)
        return 2
    cfg = settings_mod.load()
    application_id, model = args.application_id, args.model
    try:
        if application_id is None or (args.interval is not None and model is None):
            stored_app, stored_model = _stored(cfg.database_url, args.dev_eui)
            application_id, model = application_id or stored_app, model or stored_model
        if not application_id:
            raise dl.DownlinkError(f"no ChirpStack application known for {args.dev_eui}: "
                                   "pass --application-id (or run `bauhof chirpstack sync`)")
        if args.interval is not None:
            if not model:
                raise dl.DownlinkError(f"no model known for {args.dev_eui}: pass --model")
            fport, data = dl.interval_command(model, args.interval)
        else:
            fport, data = args.fport, args.hex
        message = dl.Downlink(application_id, args.dev_eui, fport, data, args.confirmed)
        dl.publish(message, cfg.mqtt, cfg.mqtt_ca_file)
    except ChirpStackError as exc:
        return fail("downlink", exc)
    kind = "confirmed" if args.confirmed else "unconfirmed"
    print(f"queued {data.hex()} on fPort {fport} ({kind}) for {args.dev_eui} via "
          f"{message.topic}; ChirpStack sends it after the device's next uplink")
    return 0


def _stored(database_url: str, dev_eui: str) -> tuple[str | None, str | None]:
    from bauhof import db
    from bauhof.chirpstack.downlink import DownlinkError

    with db.connect(database_url) as conn:
        row = conn.execute("SELECT application_id, model FROM devices WHERE dev_eui = %s",
                           (dev_eui,)).fetchone()
    if row is None:
        raise DownlinkError(f"Bauhof does not know device {dev_eui}: pass --application-id "
                            "(and --model with --interval)")
    return (str(row[0]) if row[0] else None), (str(row[1]) if row[1] else None)
