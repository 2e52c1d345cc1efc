"""Runners turn Requests into Completions. Each module registers with `lc_bench.registry.RUNNERS`
and imports its heavy dependencies (torch, vllm, aiohttp, ray) only when a runner is created."""
