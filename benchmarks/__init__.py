"""Performance harness (run as modules: ``python -m benchmarks.pipeline``)."""
