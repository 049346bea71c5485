"""skelzs.tools: benchmarks and maintenance scripts (``skelzs bench ...``)."""
