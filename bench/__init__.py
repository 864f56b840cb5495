"""Benchmarks (not tests): each `python bench/<name>.py` prints its figures and a JSON line."""
