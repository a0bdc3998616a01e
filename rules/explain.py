"""Where each rule parameter comes from: `bauhof rules check FILE` and `rules explain ASSET`."""

from __future__ import annotations

import sys
from typing import Any

from rules.ruleset import SECTIONS, Layer, Ruleset

# Parameters an asset's own columns set (bauhof/assets.py): a file's section value is only a
# default for assets without them, unless it is under `force`.
ASSET_COLUMNS: dict[str, tuple[str, ...]] = {
    "watering": ("low_pct", "clear_pct"),
    "bins": ("fill_threshold_pct",),
}
_NOT_PARAMS = frozenset({"force", "plant_types"})


def check_lines(rules: Ruleset) -> list[str]:
    """What a rules file sets, per section, and which of its values assets can override."""
    lines: list[str] = []
    for section in SECTIONS:
        part = getattr(rules, section)
        chosen = sorted(set(part.model_fields_set) - _NOT_PARAMS)
        forced = dict(part.force)
        if not chosen and not forced:
            lines.append(f"  {section}: packaged defaults")
            continue
        shown = ", ".join(f"{name} {getattr(part, name)!r}" for name in chosen)
        lines.append(f"  {section}: {shown or 'packaged defaults'}"
                     + ("; forced over every asset: " + ", ".join(
                         f"{k} {v!r}" for k, v in sorted(forced.items())) if forced else ""))
        for name in chosen:
            if name in ASSET_COLUMNS.get(section, ()) and name not in forced:
                lines.append(
                    f"    note: {section}.{name} {getattr(part, name)!r} applies only to assets "
                    f"without their own {name}; to win over theirs, put it under "
                    f"{section}.force (see `bauhof rules explain ASSET`)")
    per_asset = sorted(rules.overrides)
    if per_asset:
        lines.append(f"  overrides for {len(per_asset)} assets: {', '.join(per_asset[:10])}"
                     + (" …" if len(per_asset) > 10 else ""))
    return lines


def split_table(layers: list[Layer], rows: list[tuple[str, str, Any]], section: str,
                label: str = "rules file") -> list[Layer]:
    """Layers of a ruleset merged with table rule_overrides, with each `overrides.<id>` layer
    split into the file's part and the table's (the table's wins, so it comes second)."""
    table = {(asset, sec): dict(params) for asset, sec, params in rows
             if isinstance(params, dict)}
    out: list[Layer] = []
    for where, values in layers:
        if where.startswith("the "):  # the asset's own columns
            out.append((where, values))
            continue
        if not where.startswith("overrides."):
            out.append((f"{label} {where}", values))
            continue
        asset = where[len("overrides."):-len(section) - 1]
        from_table = table.get((asset, section), {})
        file_part = {k: v for k, v in values.items() if k not in from_table}
        table_part = {k: v for k, v in values.items() if k in from_table}
        if file_part:
            out.append((f"{label} {where}", file_part))
        if table_part:
            out.append((f"rule_overrides row {asset} {section} (API rule settings)", table_part))
    return out


def explain_lines(rules: Ruleset, rows: list[tuple[str, str, Any]], town: Any,
                  subject: str, label: str = "rules file") -> list[str] | None:
    """The effective parameters of one asset or device, each with its source; None when the
    town has no such subject."""
    merged, refused = rules.with_overrides(rows)
    lines = [f"  note: {reason} (left out)" for reason in refused]
    if subject in town.areas:
        area = town.areas[subject]
        title = f"green area {subject} ({area.plant_type})"
        section = "watering"
        layers = merged.watering_layers(area.id, area.plant_type, area.moisture_low_pct,
                                        area.moisture_clear_pct)
    elif subject in town.bins:
        b = town.bins[subject]
        title, section = f"bin {subject}", "bins"
        layers = merged.bins_layers(b.id, b.fill_threshold_pct)
    elif subject in town.vehicles:
        title, section = f"vehicle {subject}", "vehicles"
        layers = merged.vehicles_layers(subject)
    elif subject.lower() in town.devices:
        device = town.devices[subject.lower()]
        title = f"device {device.dev_eui} ({device.model or 'unknown model'}" + (
            f", on {device.asset_type} {device.asset_id})" if device.asset_id else ")")
        section = "sensor_health"
        layers = merged.health_layers(device.dev_eui, device.asset_id)
    else:
        return None
    layers = split_table(layers, rows, section, label)
    out = [f"{title}: {section} parameters (lowest to highest: default, {label} section, "
           "plant type, the asset's own columns, section.force, overrides.<id>, "
           "rule_overrides rows)"]
    for name, value, source in merged.explain(section, layers, label):
        out.append(f"  {name:<26} {value!r:<22} {source}")
    devices = sorted(d.dev_eui for d in town.devices.values()
                     if d.asset_id == subject and section != "sensor_health")
    if devices:
        out.append(f"  its sensors' health parameters: bauhof rules explain {devices[0]}"
                   + (f" (and {len(devices) - 1} more)" if len(devices) > 1 else ""))
    return out + lines


def cmd_explain(subject: str, rules: Ruleset, label: str) -> int:
    """Print the effective parameters of one asset from the town's database."""
    from bauhof import db, settings
    from rules.assets import load_town

    cfg = settings.load()
    with db.connect(cfg.database_url, autocommit=True) as conn:
        town = load_town(conn)
        rows = [(str(r[0]), str(r[1]), r[2]) for r in conn.execute(
            "SELECT asset_id, section, params FROM rule_overrides ORDER BY asset_id, section")]
    lines = explain_lines(rules, rows, town, subject, label)
    if lines is None:
        print(f"bauhof rules: error: no green area, bin, vehicle or device {subject!r} in the "
              "database (see `bauhof assets load`)", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0
