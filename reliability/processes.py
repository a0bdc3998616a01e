"""Bauhof's workers as real processes (`bauhof ingest`, `bauhof rules`) that faults can kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from reliability import StepFailed


class Worker:
    """One `bauhof <args>` process at a time, restartable, logging to a file (appended)."""

    def __init__(self, args: list[str], *, database_url: str, mqtt_url: str,
                 log_file: Path) -> None:
        self.args = args
        self.env = {**os.environ, "BAUHOF_DATABASE_URL": database_url,
                    "BAUHOF_MQTT_URL": mqtt_url, "PYTHONUNBUFFERED": "1"}
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.kills = 0
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """The running process's id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Worker:
        """Start the process (it must not be running)."""
        if self.alive():
            raise StepFailed(f"starting bauhof {self.args[0]}", "it is already running")
        self._log = self.log_file.open("ab")
        self._log.write(f"--- start {self.starts + 1}: bauhof {' '.join(self.args)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen([sys.executable, "-m", "shell", *self.args],
                                     env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        self.starts += 1
        return self

    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.kills += 1
        self._close_log()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; returns the exit status (SIGKILL if it does not stop in time)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()
        return int(self.proc.returncode)

    def wait_logged(self, text: str, timeout: float = 120.0) -> None:
        """Wait until every start so far has logged `text` (e.g. that it runs: from then on
        it handles SIGTERM); StepFailed if the process exits or the time is up."""
        deadline = time.monotonic() + timeout
        while self.log_text().count(text) < self.starts:
            if not self.alive():
                raise StepFailed(f"bauhof {self.args[0]}", f"exited: {self.log_text()[-500:]}")
            if time.monotonic() > deadline:
                raise StepFailed(f"bauhof {self.args[0]}", f"did not log {text!r}")
            time.sleep(0.05)

    def log_text(self) -> str:
        """Everything the process logged so far, over all its starts."""
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def ingest(database_url: str, mqtt_url: str, log_dir: Path, client_id: str,
           batch_size: int = 2000) -> Worker:
    """A `bauhof ingest` worker with a stable client id (not started yet)."""
    return Worker(["ingest", "--client-id", client_id, "--batch-size", str(batch_size)],
                  database_url=database_url, mqtt_url=mqtt_url,
                  log_file=log_dir / f"ingest-{client_id}.log")


def rules(database_url: str, mqtt_url: str, log_dir: Path, label: str) -> Worker:
    """A `bauhof rules` engine (not started yet)."""
    return Worker(["rules"], database_url=database_url, mqtt_url=mqtt_url,
                  log_file=log_dir / f"rules-{label}.log")
