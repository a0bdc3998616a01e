"""`bauhof deadletters list|show|reprocess|discard` against a real database."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from harness.town import feed
from ingest import load
from shell.main import main
from simulator.recording import Message

EUI = "a840410000000001"
BAD_TOPIC = f"application/app/device/{EUI}/event/up"


def test_deadletters_cli(conn: psycopg.Connection[Any], database_url: str,
                         monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    conn.execute("INSERT INTO devices (dev_eui, model, kind) VALUES (%s, 'nosuch', 'bin')",
                 (EUI,))
    ((topic, payload),) = list(load.uplinks(1, [(EUI, "dragino-ldds75")]))
    feed(conn, [Message(0, topic, payload, "json"),
                Message(0, BAD_TOPIC, b'{"time": ', "json")])
    (first, second) = [int(str(r[0])) for r in conn.execute(
        "SELECT id FROM dead_letters ORDER BY id")]
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)

    assert main(["deadletters", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["id"], d["status"], d["dev_eui"], d["reason_code"]) for d in listed] == [
        (second, "new", EUI, "malformed"), (first, "new", EUI, "unknown_model")]
    assert listed[1]["reason"] == ("unknown model 'nosuch': register the device with a model "
                                   "of `bauhof decode --list`")
    assert listed[0]["reason"].startswith("invalid JSON")

    assert main(["deadletters", "show", str(second), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["topic"], shown["payload_text"], shown["size_bytes"]) == (
        BAD_TOPIC, '{"time": ', 9)

    assert main(["deadletters", "reprocess", str(first)]) == 1
    assert capsys.readouterr().err == (
        f"bauhof deadletters: dead letter {first} still cannot be used: unknown model "
        "'nosuch': register the device with a model of `bauhof decode --list`\n")
    conn.execute("UPDATE devices SET model = 'dragino-ldds75' WHERE dev_eui = %s", (EUI,))
    assert main(["deadletters", "reprocess", str(first)]) == 0
    assert capsys.readouterr().out == (
        f"dead letter {first} reprocessed: 1 stored, 0 already there\n")
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (1,)
    assert main(["deadletters", "reprocess", str(first)]) == 1
    assert capsys.readouterr().err == (
        f"bauhof deadletters: dead letter {first} is reprocessed already; only new ones can "
        "be reprocessed\n")

    assert main(["deadletters", "discard", str(second)]) == 0
    assert capsys.readouterr().out == f"dead letter {second} discarded\n"
    assert main(["deadletters", "list", "--status", "new"]) == 0
    assert capsys.readouterr().out == ""
    assert conn.execute("SELECT id, status FROM dead_letters ORDER BY id").fetchall() == [
        (first, "reprocessed"), (second, "discarded")]

    assert main(["deadletters", "show", "999"]) == 2
    assert capsys.readouterr().err == "bauhof deadletters: error: no dead letter 999\n"
    assert main(["deadletters", "show"]) == 2
    assert capsys.readouterr().err == "bauhof deadletters: error: show needs an ID\n"
    assert main(["deadletters", "list", "5"]) == 2
    assert capsys.readouterr().err == "bauhof deadletters: error: list takes no ID\n"
    with pytest.raises(SystemExit) as bad:
        main(["deadletters", "show", "abc"])
    assert bad.value.code == 2
    assert capsys.readouterr().err == (
        "bauhof deadletters: error: argument id: 'abc' is not a whole number "
        "(see `bauhof deadletters --help`)\n")
