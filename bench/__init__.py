"""Benchmarks: run as modules (``python -m bench.eventlog``); they print
numbers and ratios and are never timed tests."""
