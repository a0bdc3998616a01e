"""Fixtures of the rules tests: an engine on the test database with an injected wall clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from rules import ruleset
from rules.engine import RulesEngine
from tests.rules.factory import at

MakeEngine = Callable[..., RulesEngine]


@pytest.fixture
def make_engine(database_url: str) -> Iterator[MakeEngine]:
    """Build engines whose wall clock is fixed a year after the readings (stream time rules)."""
    engines: list[RulesEngine] = []

    def make(rules: ruleset.Ruleset | None = None, wall: datetime | None = None,
             **kwargs: object) -> RulesEngine:
        fixed = wall or at(24 * 365)
        engine = RulesEngine(database_url, rules or ruleset.load(), wall=lambda: fixed,
                        **kwargs)  # type: ignore[arg-type]
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()



def rules_check(capsys: pytest.CaptureFixture[str], path: Path, text: str) -> str:
    """Write a rules file, check it with `bauhof rules check` (it must pass), and return
    what the command printed."""
    from shell.main import main

    path.write_text(text)
    assert main(["rules", "check", str(path)]) == 0
    return capsys.readouterr().out
