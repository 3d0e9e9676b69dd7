"""Measurement: evaluation on data sets, speed benchmarks."""
