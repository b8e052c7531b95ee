"""Evaluation: metrics, and the judge for generation."""
