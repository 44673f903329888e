"""Benchmarks: full runs are their own commands; pytest runs short smokes."""
