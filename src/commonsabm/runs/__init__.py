"""Runs: one job and its outputs (tables, summary, manifest, plots), job status, and sweeps."""
