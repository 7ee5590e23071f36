"""Benchmarks: percentiles from HDR histograms, always with a baseline measured in the same run."""
