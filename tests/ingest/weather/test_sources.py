"""Times in the services' answers: Bright Sky's carry their offset, Open-Meteo's are local."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest.weather.sources import AnswerError, parse_brightsky, parse_open_meteo

FETCHED = datetime(2026, 7, 8, 12, tzinfo=UTC)


def _open_meteo(*times: Any) -> dict[str, Any]:
    return {"latitude": 48.6, "longitude": 8.88, "utc_offset_seconds": 7200,
            "hourly": {"time": list(times), "precipitation": [0.5] * len(times)}}


def test_open_meteo_local_times_are_shifted_by_the_offset_to_the_hour_before() -> None:
    answer = parse_open_meteo(_open_meteo("2026-07-08T03:00", "2026-07-08T16:00"), FETCHED)
    assert [(h.time, h.kind, h.rain_mm) for h in answer.hours] == [
        (datetime(2026, 7, 8, 0, tzinfo=UTC), "observed", 0.5),
        (datetime(2026, 7, 8, 13, tzinfo=UTC), "forecast", 0.5),
    ]


@pytest.mark.parametrize(("text", "reason"), [
    (7, "hourly.time[1] is 7, expected an ISO 8601 time"),
    ("8 o'clock", "hourly.time[1] \"8 o'clock\" is not an ISO 8601 time"),
])
def test_open_meteo_times_that_are_none(text: Any, reason: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_open_meteo(_open_meteo("2026-07-08T03:00", text), FETCHED)
    assert (caught.value.source, caught.value.reason) == ("open-meteo", reason)


def test_brightsky_times_need_their_offset() -> None:
    body = {"weather": [{"timestamp": "2026-07-08T03:00", "source_id": 1, "precipitation": 0}],
            "sources": [{"id": 1, "observation_type": "historical", "dwd_station_id": "04160",
                         "station_name": "X", "lat": 48.6, "lon": 8.9, "distance": 10}]}
    with pytest.raises(AnswerError) as caught:
        parse_brightsky(body, FETCHED)
    assert caught.value.reason == "weather[0].timestamp '2026-07-08T03:00' has no UTC offset"
