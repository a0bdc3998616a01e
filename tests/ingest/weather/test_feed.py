"""The weather feed against recorded Bright Sky and Open-Meteo answers from a local server:
the rows and rain one fetch stores, nothing twice, forecasts replaced by observations, and
every failure retried, logged and storing nothing half."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ingest.weather import WeatherError, feed
from ingest.weather.feed import FetchError
from tests.ingest.weather.server import Reply, WeatherServer, answer

BRIGHTSKY_AT = datetime(2026, 7, 8, 12, 10, tzinfo=UTC)
OPEN_METEO_AT = datetime(2026, 7, 8, 13, 10, tzinfo=UTC)
LAT, LON = 48.5955, 8.8707


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[WeatherServer]:
    s = WeatherServer()
    yield s
    s.close()


def fetch(conn: psycopg.Connection[Any], server: WeatherServer, source: str = "brightsky",
          at: datetime = BRIGHTSKY_AT, sleeps: list[float] | None = None,
          **kwargs: Any) -> feed.Stored:
    return feed.fetch(conn, source, lat=LAT, lon=LON, days=2, base_url=server.url,
                      sleep=(sleeps if sleeps is not None else []).append, now=lambda: at,
                      **kwargs)


def rows(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT time, station, rain_mm_h, temperature_c, source, kind, rain_probability_pct, "
        "et0_mm, issued_at FROM weather ORDER BY station, time").fetchall()


def feed_row(conn: psycopg.Connection[Any], source: str) -> tuple[Any, ...]:
    row = conn.execute("SELECT station, last_success_at, last_error, failures, newest_observed "
                       "FROM weather_feeds WHERE source = %s", (source,)).fetchone()
    assert row is not None
    return tuple(row)


def test_brightsky_one_fetch_stores_the_hours_and_their_rain(
        conn: psycopg.Connection[Any], server: WeatherServer) -> None:
    server.play(Reply(answer("brightsky.json")))
    stored = fetch(conn, server)
    assert stored.as_json() == {
        "source": "brightsky", "station": "dwd:10738", "stored": 30, "observed": 6,
        "forecast": 24, "first": "2026-07-08T06:00:00+00:00",
        "last": "2026-07-09T11:00:00+00:00", "rain_mm": 7.7}
    (path, query), = server.requests
    assert path == "/weather"
    assert {k: v[0] for k, v in query.items()} == {
        "lat": "48.5955", "lon": "8.8707", "date": "2026-07-06T12:00:00+00:00",
        "last_date": "2026-07-10T12:00:00+00:00", "tz": "Etc/UTC"}
    got = rows(conn)
    assert len(got) == 30
    # 08:00-09:00 rained 0.3 mm (the record at 09:00 holds the hour before it).
    assert got[2] == (t("2026-07-08T08:00"), "dwd:10738", 0.3, 17.2, "brightsky", "observed",
                      None, None, None)
    assert got[6] == (t("2026-07-08T12:00"), "dwd:10738", 0.0, 22.5, "brightsky", "forecast",
                      3.0, None, t("2026-07-08T10:00"))
    assert [r[2] for r in got if r[5] == "forecast" and r[2] > 0] == [0.1, 0.4, 1.6, 2.3, 1.1,
                                                                     0.2]
    assert feed_row(conn, "brightsky") == ("dwd:10738", BRIGHTSKY_AT, None, 0,
                                           t("2026-07-08T11:00"))


def test_the_same_answer_again_stores_nothing(conn: psycopg.Connection[Any],
                                              server: WeatherServer) -> None:
    server.play(Reply(answer("brightsky.json")))
    fetch(conn, server)
    before = rows(conn)
    again = fetch(conn, server, at=BRIGHTSKY_AT + timedelta(minutes=30))
    assert (again.stored, again.observed, again.forecast, again.rain_mm) == (0, 0, 0, 0.0)
    assert (again.first, again.last) == (None, None)
    assert rows(conn) == before


def test_an_observation_replaces_the_forecast_of_its_hour_never_the_reverse(
        conn: psycopg.Connection[Any], server: WeatherServer) -> None:
    server.play(Reply(answer("brightsky.json")))
    fetch(conn, server)
    later = json.loads(answer("brightsky.json"))
    # Two hours later: 12:00-14:00 are observed now (1 mm fell where 0 was forecast), and the
    # next MOSMIX run (issued 12:00) forecasts the rest unchanged.
    for record in later["weather"]:
        if record["timestamp"] in ("2026-07-08T13:00:00+00:00", "2026-07-08T14:00:00+00:00"):
            record.update(source_id=238901, precipitation=0.5, precipitation_probability=None)
    later["sources"][1]["first_record"] = "2026-07-08T12:00:00+00:00"
    server.play(Reply(json.dumps(later).encode()))
    stored = fetch(conn, server, at=BRIGHTSKY_AT + timedelta(hours=2))
    assert (stored.stored, stored.observed, stored.forecast, stored.rain_mm) == (24, 2, 22, 6.7)
    got = {r[0]: r for r in rows(conn)}
    assert got[t("2026-07-08T12:00")][2:] == (0.5, 22.5, "brightsky", "observed", None, None,
                                              None)
    assert got[t("2026-07-08T15:00")][5:] == ("forecast", 6.0, None, t("2026-07-08T12:00"))
    # The first answer again (an older forecast for 12:00-14:00) changes nothing.
    server.play(Reply(answer("brightsky.json")))
    assert fetch(conn, server).stored == 0
    assert rows(conn)[6][2:6] == (0.5, 22.5, "brightsky", "observed")


def test_open_meteo_one_fetch_stores_rain_and_et0_past_observed_future_forecast(
        conn: psycopg.Connection[Any], server: WeatherServer) -> None:
    server.play(Reply(answer("open_meteo.json")))
    stored = fetch(conn, server, "open-meteo", OPEN_METEO_AT)
    assert stored.as_json() == {
        "source": "open-meteo", "station": "open-meteo:48.600,8.880", "stored": 30,
        "observed": 14, "forecast": 16, "first": "2026-07-07T23:00:00+00:00",
        "last": "2026-07-09T04:00:00+00:00", "rain_mm": 7.6}
    (path, query), = server.requests
    assert path == "/v1/forecast"
    assert {k: v[0] for k, v in query.items()} == {
        "latitude": "48.5955", "longitude": "8.8707",
        "hourly": "precipitation,precipitation_probability,temperature_2m,"
                  "et0_fao_evapotranspiration",
        "past_days": "2", "forecast_days": "2", "timezone": "GMT"}
    got = rows(conn)
    assert got[9] == (t("2026-07-08T08:00"), "open-meteo:48.600,8.880", 1.1, 17.0,
                      "open-meteo", "observed", None, 0.19, None)
    assert got[19] == (t("2026-07-08T18:00"), "open-meteo:48.600,8.880", 1.8, 20.5,
                       "open-meteo", "forecast", 70.0, 0.02, t("2026-07-08T13:00"))
    assert fetch(conn, server, "open-meteo", OPEN_METEO_AT).stored == 0
    assert feed_row(conn, "open-meteo")[0] == "open-meteo:48.600,8.880"


FAILURES = {
    "http_503": Reply(b'{"error": "Service Unavailable"}', status=503),
    "http_429": Reply(b"Too Many Requests", status=429),
    "cut_short": Reply(answer("brightsky.json"), cut=True),
    "truncated_json": Reply(answer("brightsky.json")[:5000]),
    "not_json": Reply(b"<html>Bad Gateway</html>"),
    "unknown_source": Reply(answer("brightsky.json").replace(b'"source_id": 47110',
                                                             b'"source_id": 99', 1)),
    "negative_rain": Reply(answer("brightsky.json").replace(b'"precipitation": 1.2',
                                                            b'"precipitation": -1.2')),
    "no_hours": Reply(b'{"weather": [], "sources": []}'),
}
REASONS = {
    "http_503": "brightsky: HTTP 503 '{\"error\": \"Service Unavailable\"}'",
    "http_429": "brightsky: HTTP 429 'Too Many Requests'",
    "cut_short": "brightsky: RemoteProtocolError: ",
    "truncated_json": "brightsky: malformed answer: not JSON (truncated?)",
    "not_json": "brightsky: malformed answer: not JSON (truncated?)",
    "unknown_source": "brightsky: malformed answer: weather[6].source_id 99 is not among the "
                      "sources",
    "negative_rain": "brightsky: malformed answer: weather[3].precipitation -1.2 is outside "
                     "0..None",
    "no_hours": "brightsky: malformed answer: no hour with precipitation in the answer",
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failure_is_retried_with_backoff_logged_and_stores_nothing_half(
        conn: psycopg.Connection[Any], server: WeatherServer, failure: str,
        caplog: pytest.LogCaptureFixture) -> None:
    server.play(FAILURES[failure], FAILURES[failure], Reply(answer("brightsky.json")))
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, "bauhof.weather"):
        stored = fetch(conn, server, sleeps=sleeps)
    assert stored.stored == 30 and len(rows(conn)) == 30
    assert len(server.requests) == 3
    assert len(sleeps) == 2 and 4.0 <= sleeps[0] <= 6.0 and 8.0 <= sleeps[1] <= 12.0
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2
    for number, message in enumerate(logged, 1):
        assert message.startswith(f"weather brightsky: attempt {number} of 4 failed: "
                                  f"{REASONS[failure]}")
    assert feed_row(conn, "brightsky")[2:4] == (None, 0)


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_when_every_attempt_fails_nothing_is_stored_and_the_reason_is_kept(
        conn: psycopg.Connection[Any], server: WeatherServer, failure: str) -> None:
    server.play(FAILURES[failure])
    with pytest.raises(FetchError) as caught:
        fetch(conn, server, attempts=3)
    assert caught.value.reason.startswith(REASONS[failure])
    assert rows(conn) == []
    station, success, error, failures, newest = feed_row(conn, "brightsky")
    assert (station, success, failures, newest) == (None, None, 3, None)
    assert error.startswith(REASONS[failure])


def test_a_timeout_is_retried(conn: psycopg.Connection[Any], server: WeatherServer,
                              caplog: pytest.LogCaptureFixture) -> None:
    server.play(Reply(answer("brightsky.json"), delay_s=2.0), Reply(answer("brightsky.json")))
    with caplog.at_level(logging.WARNING, "bauhof.weather"):
        stored = fetch(conn, server, timeout_s=0.3)
    assert stored.stored == 30
    assert [r.getMessage() for r in caplog.records] == [
        "weather brightsky: attempt 1 of 4 failed: brightsky: timed out (ReadTimeout)"]


def test_a_failure_after_good_data_keeps_the_rows_and_says_how_old_they_are(
        conn: psycopg.Connection[Any], server: WeatherServer) -> None:
    server.play(Reply(answer("brightsky.json")))
    fetch(conn, server)
    before = rows(conn)
    server.play(FAILURES["http_503"])
    with pytest.raises(FetchError):
        fetch(conn, server, at=BRIGHTSKY_AT + timedelta(hours=5), attempts=2)
    assert rows(conn) == before
    assert feed_row(conn, "brightsky") == (
        "dwd:10738", BRIGHTSKY_AT, REASONS["http_503"], 2, t("2026-07-08T11:00"))


def test_a_station_change_is_retried_and_the_usual_station_taken_when_it_returns(
        conn: psycopg.Connection[Any], server: WeatherServer,
        caplog: pytest.LogCaptureFixture) -> None:
    server.play(Reply(answer("brightsky.json")))
    fetch(conn, server)
    server.play(Reply(answer("brightsky_fallback_station.json")),
                Reply(answer("brightsky.json")))
    with caplog.at_level(logging.WARNING, "bauhof.weather"):
        assert fetch(conn, server).stored == 0
    assert [r.getMessage() for r in caplog.records] == [
        "weather brightsky: attempt 1 of 4 failed: brightsky: station changed from dwd:10738 "
        "to dwd:10815 (Freudenstadt)"]
    assert {r[1] for r in rows(conn)} == {"dwd:10738"}


def test_a_lasting_station_change_is_taken_on_the_last_attempt_and_logged(
        conn: psycopg.Connection[Any], server: WeatherServer,
        caplog: pytest.LogCaptureFixture) -> None:
    server.play(Reply(answer("brightsky.json")))
    fetch(conn, server)
    server.play(Reply(answer("brightsky_fallback_station.json")))
    with caplog.at_level(logging.WARNING, "bauhof.weather"):
        stored = fetch(conn, server, attempts=2)
    assert (stored.station, stored.stored, stored.observed, stored.forecast) == (
        "dwd:10815", 6, 6, 0)
    assert caplog.records[-1].getMessage() == (
        "weather brightsky: station changed from dwd:10738 to dwd:10815 (Freudenstadt) and "
        "stayed so for 2 attempts: storing under the new station")
    assert feed_row(conn, "brightsky")[0] == "dwd:10815"
    assert conn.execute("SELECT station, count(*) FROM weather GROUP BY station "
                        "ORDER BY station").fetchall() == [("dwd:10738", 30), ("dwd:10815", 6)]


def test_open_meteo_columns_of_unequal_length_are_a_truncated_answer(
        conn: psycopg.Connection[Any], server: WeatherServer) -> None:
    body = json.loads(answer("open_meteo.json"))
    body["hourly"]["et0_fao_evapotranspiration"] = body["hourly"][
        "et0_fao_evapotranspiration"][:20]
    server.play(Reply(json.dumps(body).encode()))
    with pytest.raises(WeatherError) as caught:
        fetch(conn, server, "open-meteo", OPEN_METEO_AT, attempts=1)
    assert str(caught.value).endswith(
        "the last: open-meteo: malformed answer: hourly.et0_fao_evapotranspiration has 20 "
        "values for 30 hours (truncated?); the rules keep the rows already stored")
    assert rows(conn) == []
