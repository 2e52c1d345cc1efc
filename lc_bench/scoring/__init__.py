"""Per-sample scorers: pure functions from an output and its references to named scores.

Tasks import them (a task is a sample generator plus a scorer); nothing here reads records or
knows about leaderboards, which live after the records in `lc_bench.metrics`.
"""
