"""From passages to a checked answer: prompts, copying, citations, checks."""
