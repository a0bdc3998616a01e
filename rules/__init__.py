"""The rules engine: readings in, work orders and defects out (see docs/rules.md)."""
