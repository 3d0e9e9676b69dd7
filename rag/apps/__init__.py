"""Thin shells over the pipeline: terminal, browser."""
