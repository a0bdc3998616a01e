"""The bad-input corpus through a running ingest worker, interleaved with valid uplinks: each
bad message is dead-lettered with its reason, every valid one is stored, the worker lives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bauhof import codecs
from bauhof.dead_letters import digest
from bauhof.services import Mosquitto
from ingest import load
from tests.reliability.conftest import Conn, Publish, ThreadWorker, wait_for

CORPUS = Path(__file__).parent / "corpus"


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return loaded


def test_manifest_lists_every_file_once() -> None:
    manifest = _manifest()
    files = sorted(c["file"] for c in manifest["cases"])
    on_disk = sorted(p.name for p in CORPUS.iterdir()
                     if p.suffix in (".json", ".bin") and p.name != "manifest.json")
    assert files == on_disk
    assert len(files) == 42
    assert all(("reason" in c) != ("reason_prefix" in c) for c in manifest["cases"])


def test_corpus_is_dead_lettered_with_reasons_and_valid_uplinks_between_are_stored(
        database_url: str, broker: Mosquitto, conn: Conn, publish: Publish) -> None:
    manifest = _manifest()
    cases = manifest["cases"]
    fleet = load.devices(20, seed=3)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO devices (dev_eui, model, kind) VALUES (%s, %s, %s)",
                        [(d, m, codecs.get(m).kind) for d, m in
                         [*fleet, *manifest["register"].items()]])
    valid = list(load.uplinks(2 * len(cases), fleet, seed=21))
    worker = ThreadWorker(database_url, broker, "corpus-ingest").start_probed(conn, publish)
    try:
        for n, case in enumerate(cases):
            for topic, payload in valid[2 * n:2 * n + 2]:
                publish(topic, payload)
            publish(case["topic"], (CORPUS / case["file"]).read_bytes())
        wait_for(conn, "SELECT count(*) FROM dead_letters", len(cases))
        wait_for(conn, "SELECT count(*) FROM raw_uplinks", len(valid))
        assert worker.thread.is_alive()
    finally:
        worker.stop()

    letters = {bytes(row[0]): row[1] for row in conn.execute(
        "SELECT digest, reason FROM dead_letters").fetchall()}
    mismatched = {}
    for case in cases:
        reason = letters.get(digest(case["topic"], (CORPUS / case["file"]).read_bytes()))
        expected = case.get("reason", case.get("reason_prefix"))
        ok = reason == case["reason"] if "reason" in case else (
            reason is not None and reason.startswith(case["reason_prefix"]))
        if not ok:
            mismatched[case["file"]] = (reason, expected)
    assert mismatched == {}
    stored = {row[0] for row in conn.execute(
        "SELECT deduplication_id::text FROM raw_uplinks").fetchall()}
    assert stored == {json.loads(p)["deduplicationId"] for _, p in valid}
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (len(valid),)
