"""Runners turn Requests into Completions. Each module registers with `lc_bench.registry.RUNNERS`
and imports its heavy dependencies (torch, vllm, httpx) only when a runner is created."""
