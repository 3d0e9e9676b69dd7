"""``python -m rag``."""

from rag.apps.cli import main

main()
