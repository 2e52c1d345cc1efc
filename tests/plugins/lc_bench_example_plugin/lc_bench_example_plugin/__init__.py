"""An example lc_bench plugin: the `example_parity` task (lc_bench_example_plugin.parity)."""
