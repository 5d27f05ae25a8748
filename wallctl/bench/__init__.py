"""``wallctl bench``: benchmarks measured side by side with baselines in the same run."""
