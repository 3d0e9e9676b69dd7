"""``python -m rag``."""

from rag.cli import main

main()
