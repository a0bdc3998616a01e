"""Grafana dashboards generated from typed Python, their checks, upload and roll-ups."""

from __future__ import annotations


class DashboardError(Exception):
    """A dashboard problem a person can act on; the message says what to change."""
