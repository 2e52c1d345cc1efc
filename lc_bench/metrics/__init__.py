"""Per-sample scorers and the aggregation that turns records into leaderboards."""
