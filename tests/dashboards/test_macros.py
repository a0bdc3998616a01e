"""Grafana's PostgreSQL macros expanded as Grafana does (its macros_test.go cases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboards.macros import MacroError, expand, rfc3339

FROM = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
TO = datetime(2018, 4, 12, 18, 5, tzinfo=UTC)


@pytest.mark.parametrize(("sql", "expanded"), [
    ("select $__time(time_column)", 'select time_column AS "time"'),
    ("select $__timeEpoch(t)", 'select extract(epoch from t) as "time"'),
    ("WHERE $__timeFilter(time_column)",
     "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"),
    ("select $__timeFrom(), $__timeTo()", "select '2018-04-12T18:00:00Z', '2018-04-12T18:05:00Z'"),
    ("GROUP BY $__timeGroup(time_column,'5m')", "GROUP BY time_bucket('300.000s',time_column)"),
    ("GROUP BY $__timeGroup(time_column , '12d')",
     "GROUP BY time_bucket('1036800.000s',time_column)"),
    ("SELECT $__timeGroupAlias(bucket, 1d), x",
     "SELECT time_bucket('86400.000s',bucket) AS \"time\", x"),
    # Before Grafana 5.3 `$__timeGroup(…),` added the alias; Grafana still does.
    ("SELECT $__timeGroup(t,'5m'), v", "SELECT time_bucket('300.000s',t) AS \"time\", v"),
    ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
    ("SELECT $__unixEpochGroupAlias(t+a,'5m')", 'SELECT floor((t+a)/300)*300 AS "time"'),
    ("SELECT $__timeGroupAlias(h.bucket, $__interval)",
     "SELECT time_bucket('3600.000s',h.bucket) AS \"time\""),
    ("WHERE x >= $threshold AND y = ${horizon}", "WHERE x >= 80 AND y = 24"),
])
def test_expansions(sql: str, expanded: str) -> None:
    assert expand(sql, FROM, TO, {"threshold": "80", "horizon": "24"}) == expanded


def test_without_timescaledb_time_group_is_epoch_arithmetic() -> None:
    assert expand("SELECT $__timeGroup(t,'5m')", FROM, TO, {}, timescaledb=False) == (
        "SELECT floor(extract(epoch from t)/300)*300")


def test_fractions_of_seconds_as_go_prints_them() -> None:
    assert rfc3339(datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=UTC)) == "1960-02-01T07:00:00.5Z"


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT $__timeFilterz(t)", "unknown macro $__timeFilterz"),
    ("SELECT $__timeFilter()", "missing time column argument for macro $__timeFilter"),
    ("SELECT $__timeGroup(t)", "macro $__timeGroup needs a time column and an interval"),
    ("SELECT $__timeGroup(t, fortnight)",
     "cannot parse interval 'fortnight' (use e.g. 5m, 1h, 1d)"),
    ("SELECT $colour", "variable $colour is not defined"),
])
def test_refused_as_grafana_would(sql: str, message: str) -> None:
    with pytest.raises(MacroError) as caught:
        expand(sql, FROM, TO, {})
    assert str(caught.value) == message
