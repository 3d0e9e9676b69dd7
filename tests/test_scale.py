"""`rag bench --scale` end to end on small archives (the full run is a measurement, not a test)."""

import json
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT


@pytest.mark.timeout(600)
def test_bench_scale_reports_every_measure_for_both_designs(tmp_path):
    report, plot = tmp_path / "scale.json", tmp_path / "scale.png"
    command = [sys.executable, "-m", "rag", "bench", "--scale", "--sizes", "1000,3000"]
    command += ["--old-up-to", "1000", "--no-embedder", "--report", report, "--plot", plot]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    sizes = data["sizes"]
    assert set(data["machine"]["isa"]) >= {"AVX2", "AVX-512", "AMX"} and data["machine"]["cpu"]
    assert "AVX2" in data["machine"]["llama_cpp"]  # x86-64 builds here all have it
    assert done.stdout.startswith("Machine: ")
    assert [s["passages"] for s in sizes] == [1000, 3000]
    assert "old" in sizes[0] and "old" not in sizes[1]
    for design in (sizes[0]["old"], sizes[0]["new"], sizes[1]["new"]):
        assert design["recall_at_10"] == 1.0  # exact search at these sizes
        assert design["ready_s"] > 0 and design["memory_mb"] > 0 and design["disk_mb"] > 0
        assert 0 < design["hybrid_s"]["p50"] <= design["hybrid_s"]["p95"]
        assert design["add_one_article_s"] > 0 and design["delete_one_article_s"] > 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 3,000 | new |" in done.stdout and "| 1,000 | old |" in done.stdout
