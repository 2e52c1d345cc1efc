"""The reporting layer: records and run manifests in, leaderboards out (tables, intervals, effective
length, gate, HTML, plots, exports). It names no benchmark: tasks declare their report axes
(`lc_bench.axes`) and the run writes them into its manifest."""
