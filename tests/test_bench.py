"""The benchmark command end to end on real models (two questions, without the app), in the
AVX2-only profile, so that it is proved too: llama.cpp's AVX2 build answers."""

import json
import os
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT

pytestmark = pytest.mark.models


def test_bench_reports_every_measure_and_ratio(tmp_path):
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "rag", "bench", "--no-app", "--limit", "2", "--report", report],
        cwd=PROJECT_ROOT,
        env={**os.environ, "NABAA_CPU_ISA": "avx2"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert data["machine"]["cpus"] >= 1 and data["machine"]["profile"] == "avx2"
    assert "AVX2" in data["machine"]["llama_cpp"]
    assert not [f for f in data["machine"]["llama_cpp"] if "AVX512" in f or "AMX" in f]
    assert "Machine: " in done.stdout and "run as AVX2-only" in done.stdout
    assert data["indexing"]["passages"] > 50
    assert data["indexing"]["passages_per_s"] > 0
    assert data["plain_embedder"]["passages_per_s"] > 0
    assert 0.5 <= data["plain_embedder"]["our_recall_at_5"] <= 1
    assert data["answers"]["questions"] == 2
    assert data["answers"]["first_token_s"]["p50"] > 0
    assert data["answers"]["cached_prefix_tokens"] > 400
    assert data["raw_llama"]["generation_tokens_per_s"] > 0
    # Positive, not fast: speed is what `rag bench` reports, and a loaded machine (another
    # llama.cpp process spinning on the same cores) slows decoding tenfold.
    for ratio in ("indexing_vs_plain_fp32", "prompt_vs_raw", "generation_vs_raw"):
        assert data["ratios"][ratio] > 0
    assert "| time to first token p50 / p95, 2 questions |" in done.stdout
