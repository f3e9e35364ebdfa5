"""Benchmarks: `python -m bench` runs every module here and writes bench/results.json."""
