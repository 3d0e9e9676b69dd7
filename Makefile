# The two commands of the README: `make run` and `make test`.
.PHONY: setup setup-dev run chat test lint bench-avx2 serve-llm

setup:
	scripts/setup.sh

setup-dev:  # with what the tests use: the AVX2-only profile's llama.cpp build, llama-server
	scripts/setup.sh --dev --isa avx2 --server

run: setup
	.venv/bin/python app.py

chat: setup
	.venv/bin/python -m rag chat

test: setup-dev
	.venv/bin/python -m ruff check .
	.venv/bin/python -m pytest

# llama.cpp's server on 127.0.0.1:8080 with the default model, for NABAA_LLM_URL (README).
serve-llm:
	scripts/setup.sh --server
	.venv/bin/python -m rag serve-llm

lint:
	.venv/bin/python -m ruff check .

# What an AVX2-only laptop gets, measured on any x86 machine (README, "Speed").
bench-avx2:
	scripts/setup.sh --isa avx2
	NABAA_CPU_ISA=avx2 .venv/bin/python -m rag bench
