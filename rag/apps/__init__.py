"""Thin shells over the pipeline: terminal, browser, OpenAI-compatible API."""
