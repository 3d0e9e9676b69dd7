"""``eval-time``: retrieval of questions about time (``tests/data/time_qa.json``) over a
dated corpus (``tests/data/dated``), with the question's time words applied as a date
window and without, on the same index."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from rag.config import Settings
from rag.pipeline import Pipeline

K = 3


def time_pipeline(settings: Settings, corpus: Path) -> Pipeline:
    """A pipeline over ``corpus``, its index cached by the corpus's content."""
    digest = hashlib.sha256()
    for path in sorted(corpus.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    root = settings.cache_dir / "eval" / f"time-{digest.hexdigest()[:12]}"
    return Pipeline(settings.model_copy(update={"seeds_dir": corpus, "index_dir": root}))


def evaluate_time(
    pipeline: Pipeline, dataset: Path, on_progress: Callable[[int, int], None] | None = None
) -> dict:
    """Recall@1 and @3 (a gold article among the top passages' articles) of every
    question, with date handling (``time_filter`` auto) and without (off)."""
    data = json.loads(dataset.read_text(encoding="utf-8"))
    questions = data["questions"]
    pipeline.update_index()
    newest = pipeline.index.newest_date()
    modes = {"with dates": "auto", "without": "off"}
    rows = []
    for i, q in enumerate(questions, start=1):
        row = {"id": q["id"], "lang": q["lang"], "relative": q["relative"]}
        for name, mode in modes.items():
            pipeline.settings.time_filter = mode
            retrieval = pipeline.retrieve(q["question"], K)
            docs = [h.passage.doc_id for h in retrieval.hits]
            gold = set(q["docs"])
            row[name] = {
                "rank": next((r for r, d in enumerate(docs, start=1) if d in gold), None),
                "filters": retrieval.window.to_json() if retrieval.window else None,
            }
        rows.append(row)
        if on_progress:
            on_progress(i, len(questions))
    pipeline.settings.time_filter = "auto"

    def recall(name: str, at: int, subset: Callable[[dict], bool] = lambda _r: True) -> float:
        chosen = [r for r in rows if subset(r)]
        hit = sum(1 for r in chosen if r[name]["rank"] is not None and r[name]["rank"] <= at)
        return round(hit / len(chosen), 3) if chosen else 0.0

    groups: dict[str, Callable[[dict], bool]] = {
        "all": lambda _r: True,
        "Arabic": lambda r: r["lang"] == "ar",
        "English": lambda r: r["lang"] == "en",
        "relative": lambda r: r["relative"],
        "absolute": lambda r: not r["relative"],
    }
    return {
        "dataset": str(dataset),
        "questions": len(rows),
        "newest_article": newest,
        "dataset_reference": data.get("reference"),
        "recall": {
            group: {
                name: {"@1": recall(name, 1, keep), f"@{K}": recall(name, K, keep)}
                for name in modes
            }
            for group, keep in groups.items()
        },
        "by_question": rows,
    }


def markdown(report: dict) -> str:
    """The README table."""
    lines = [
        f"| questions | n | recall@1 with dates | recall@{K} with dates "
        f"| recall@1 without | recall@{K} without |",
        "|---|---|---|---|---|---|",
    ]
    counts = {
        "all": report["questions"],
        "Arabic": sum(r["lang"] == "ar" for r in report["by_question"]),
        "English": sum(r["lang"] == "en" for r in report["by_question"]),
        "relative": sum(r["relative"] for r in report["by_question"]),
        "absolute": sum(not r["relative"] for r in report["by_question"]),
    }
    for group, by_mode in report["recall"].items():
        with_, without = by_mode["with dates"], by_mode["without"]
        lines.append(
            f"| {group} | {counts[group]} | {with_['@1']:.3f} | {with_[f'@{K}']:.3f} "
            f"| {without['@1']:.3f} | {without[f'@{K}']:.3f} |"
        )
    return "\n".join(lines)
