# The two commands of the README: `make run` and `make test`.
.PHONY: setup setup-dev run chat test lint

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

run: setup
	.venv/bin/python app.py

chat: setup
	.venv/bin/python -m rag chat

test: setup-dev
	.venv/bin/python -m ruff check .
	.venv/bin/python -m pytest

lint:
	.venv/bin/python -m ruff check .
