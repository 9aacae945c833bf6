"""Figures computed from the data, never typed in: accuracy rates, counts, statistics."""
