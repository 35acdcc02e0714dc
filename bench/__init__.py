"""tchat benchmark suite: load generator, baselines, scenarios (``python -m bench.run``)."""
