"""Task families. Each module registers its tasks with `lc_bench.registry.TASKS`."""
