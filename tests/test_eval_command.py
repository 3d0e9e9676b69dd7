"""`python -m rag eval` on a small ARCD slice (25 contexts, tests/data/arcd-sample.json)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import DATA
from tests.test_e2e_cli import rag

pytestmark = pytest.mark.models


def test_eval_report_shape_and_recall_floor(tmp_path):
    report = tmp_path / "report.json"
    result = rag(
        "eval",
        "--dataset",
        str(DATA / "arcd-sample.json"),
        "--limit",
        "4",
        "--report",
        str(report),
        "--seed",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert "| recall_at_5 |" in result.stdout and "| contains |" in result.stdout
    data = json.loads(report.read_text())
    assert data["n_questions"] == 4
    assert set(data["retrieval"]) == {"recall_at_1", "recall_at_5", "recall_at_10", "mrr"}
    assert set(data["answers"]) == {
        "contains",
        "f1",
        "language_accuracy",
        "refusal_accuracy",
        "false_refusal_rate",
        "citation_accuracy",
        "invented_names",
    }
    assert set(data["latency"]["first_token_s"]) == {"p50", "p95"}
    assert data["settings"]["limit"] == 4


def test_eval_retrieval_floor_on_the_whole_slice(tmp_path):
    report = tmp_path / "report.json"
    result = rag(
        "eval", "--dataset", str(DATA / "arcd-sample.json"), "--no-llm", "--report", str(report)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["n_questions"] > 60 and "answers" not in data
    assert data["retrieval"]["recall_at_5"] >= 0.9
    assert data["retrieval"]["mrr"] >= 0.75
