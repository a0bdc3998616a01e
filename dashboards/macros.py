"""Grafana's PostgreSQL macros and template variables, expanded as Grafana does, so that the
dashboards' SQL can be run against a database without Grafana.

The expansions follow Grafana's postgres data source (pkg/tsdb/grafana-postgresql-datasource,
macros.go) with `timescaledb: true` as provisioned: `$__timeGroup(col, 1h)` becomes
`time_bucket('3600.000s',col)`, `$__timeFilter(col)` becomes `col BETWEEN '<from>' AND
'<to>'` in RFC 3339 UTC, and so on. Variables (`$name`, `${name}`) are replaced by their value
as text, as Grafana does for a custom variable in a raw SQL query.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from dashboards import DashboardError

MACRO = re.compile(r"\$(__[_a-zA-Z0-9]+)\(([^)]*)\)")
VARIABLE = re.compile(r"\$\{([_a-zA-Z0-9]+)\}|\$([_a-zA-Z][_a-zA-Z0-9]*)")
MACROS = frozenset({
    "__time", "__timeEpoch", "__timeFilter", "__timeFrom", "__timeTo", "__timeGroup",
    "__timeGroupAlias", "__unixEpochFilter", "__unixEpochNanoFilter", "__unixEpochNanoFrom",
    "__unixEpochNanoTo", "__unixEpochGroup", "__unixEpochGroupAlias"})
# Variables Grafana defines itself.
GLOBALS = frozenset({"__interval", "__interval_ms", "__from", "__to", "__range", "__range_s",
                     "__range_ms", "__rate_interval", "__dashboard", "__org", "__user"})
UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class MacroError(DashboardError):
    """A macro Grafana would refuse."""


def rfc3339(moment: datetime) -> str:
    """Go's time.RFC3339Nano for a UTC time: no trailing zeros in the fraction, `Z`."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def seconds(interval: str) -> float:
    """An interval like `5m`, `1h`, `1d` (quotes allowed) in seconds."""
    match = re.fullmatch(r"'?(\d+(?:\.\d+)?)(ms|s|m|h|d|w)'?", interval.strip())
    if not match:
        raise MacroError(f"cannot parse interval {interval!r} (use e.g. 5m, 1h, 1d)")
    return float(match.group(1)) * UNITS[match.group(2)]


def _macro(name: str, args: list[str], start: datetime, end: datetime,
           timescaledb: bool) -> str:
    if name in ("__timeFrom", "__timeTo"):
        return f"'{rfc3339(start if name == '__timeFrom' else end)}'"
    if name == "__unixEpochNanoFrom":
        return str(round(start.timestamp() * 1e9))
    if name == "__unixEpochNanoTo":
        return str(round(end.timestamp() * 1e9))
    if not args or not args[0]:
        raise MacroError(f"missing time column argument for macro ${name}")
    col = args[0]
    if name == "__time":
        return f'{col} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {col}) as "time"'
    if name == "__timeFilter":
        return f"{col} BETWEEN '{rfc3339(start)}' AND '{rfc3339(end)}'"
    if name == "__unixEpochFilter":
        return f"{col} >= {int(start.timestamp())} AND {col} <= {int(end.timestamp())}"
    if name == "__unixEpochNanoFilter":
        return (f"{col} >= {round(start.timestamp() * 1e9)} AND "
                f"{col} <= {round(end.timestamp() * 1e9)}")
    if len(args) < 2:
        raise MacroError(f"macro ${name} needs a time column and an interval")
    secs = seconds(args[1])
    if name in ("__timeGroup", "__timeGroupAlias"):
        group = (f"time_bucket('{secs:.3f}s',{col})" if timescaledb else
                 f"floor(extract(epoch from {col})/{secs:g})*{secs:g}")
        return group + (' AS "time"' if name == "__timeGroupAlias" else "")
    group = f"floor(({col})/{secs:g})*{secs:g}"
    return group + (' AS "time"' if name == "__unixEpochGroupAlias" else "")


def expand(sql: str, start: datetime, end: datetime, variables: dict[str, str], *,
           interval: str = "1h", timescaledb: bool = True) -> str:
    """The SQL Grafana would send for this time range, variables and interval."""
    values = {**variables, "__interval": interval,
              "__interval_ms": str(round(seconds(interval) * 1000))}

    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        followed = sql[match.end():match.end() + 1]
        if name.startswith("__") and name not in values and followed == "(":
            return match.group(0)  # a macro: expanded (or refused) below
        if name not in values:
            raise MacroError(f"variable ${name} is not defined")
        return values[name]

    text = VARIABLE.sub(variable, sql)

    def macro(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in MACROS:
            raise MacroError(f"unknown macro ${name}")
        group = name
        # Grafana's pre-5.3 compatibility: `$__timeGroup(…),` means the alias form.
        after = match.end()
        if name == "__timeGroup" and after < len(text) and text[after] == ",":
            group = "__timeGroupAlias"
        args = [a.strip() for a in match.group(2).split(",")]
        return _macro(group, args, start, end, timescaledb)

    return MACRO.sub(macro, text)
