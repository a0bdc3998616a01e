"""Harnesses and benchmarks: they run a higher part (the simulator, ingest) to measure or
evaluate a lower one (rules, planning, the dashboards), so they stand above all of them.

planning's evaluation by simulation (`loop`, `town`, `outcomes`, `policies`), rules' what-if
(`whatif`, `whatif_cli`) and the benchmarks `rules_bench` and `dashboards_bench`.
"""
