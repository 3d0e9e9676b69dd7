"""Text utilities: Arabic normalization, language detection."""
