"""Evaluation data sets and the calibration of the refusal threshold.

Two formats are read: SQuAD JSON (e.g. ARCD), whose contexts become the articles of a
temporary index, and the ``seeds_qa.json`` format, asked against the seeds index.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.pipeline import Pipeline


@dataclass(frozen=True)
class Question:
    """One evaluation question; ``doc_id`` is None for an unanswerable one."""

    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    lang: str = "ar"


def load_squad(path: Path, seeds_dir: Path) -> list[Question]:
    """Write each SQuAD context as an article under ``seeds_dir``; return the questions."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    seeds_dir.mkdir(parents=True, exist_ok=True)
    questions: list[Question] = []
    n = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            doc_id = f"ctx_{n:04d}"
            (seeds_dir / f"{doc_id}.txt").write_text(paragraph["context"], encoding="utf-8")
            n += 1
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(Question(qa["id"], qa["question"], answers, doc_id))
    return questions


def load_seeds_qa(path: Path) -> list[Question]:
    """Questions in the ``seeds_qa.json`` format."""
    items = json.loads(path.read_text(encoding="utf-8"))["questions"]
    return [
        Question(
            q["id"],
            q["question"],
            tuple(q["answers"]),
            Path(q["doc"]).stem if q["answerable"] else None,
            q["lang"],
        )
        for q in items
    ]


def top_scores(pipeline: Pipeline, questions: list[Question]) -> np.ndarray:
    """Similarity of each question's best passage."""
    return np.array([pipeline.retrieve(q.question, 1).hits[0].score for q in questions])


@dataclass
class Calibration:
    """Best-passage scores of questions that have an answer and of questions that don't."""

    answerable: np.ndarray
    unanswerable: np.ndarray

    def best_threshold(self) -> float:
        """The cut that classifies the most questions right, weighting both kinds equally."""
        candidates = np.unique(np.concatenate([self.answerable, self.unanswerable]))
        best, best_acc = 0.0, -1.0
        for t in candidates:
            acc = (self.answerable >= t).mean() + (self.unanswerable < t).mean()
            if acc > best_acc:
                best, best_acc = float(t), acc
        # Put the cut halfway to the highest unanswerable score below it.
        below = self.unanswerable[self.unanswerable < best]
        return round((best + below.max()) / 2, 3) if below.size else best

    def summary(self, threshold: float) -> str:
        """Percentiles and error rates at ``threshold``."""

        def pct(a: np.ndarray) -> str:
            return " ".join(f"p{p}={np.percentile(a, p):.3f}" for p in (1, 5, 50, 95, 99))

        return (
            f"answerable   (n={len(self.answerable)}): {pct(self.answerable)}\n"
            f"unanswerable (n={len(self.unanswerable)}): {pct(self.unanswerable)}\n"
            f"threshold {threshold}: false refusals "
            f"{(self.answerable < threshold).mean():.1%}, "
            f"missed refusals {(self.unanswerable >= threshold).mean():.1%}"
        )


def calibrate(settings: Settings, squad_path: Path, seeds_qa_path: Path) -> Calibration:
    """Scores for calibration: SQuAD questions against their own contexts (answerable)
    and against the seeds articles (no answer there), plus the seeds questions."""
    seeds_pipeline = Pipeline(settings)
    with tempfile.TemporaryDirectory() as tmp:
        squad_questions = load_squad(squad_path, Path(tmp) / "seeds")
        squad_settings = settings.model_copy(
            update={"seeds_dir": Path(tmp) / "seeds", "index_dir": Path(tmp) / "index"}
        )
        squad_pipeline = Pipeline(squad_settings)
        squad_pipeline.__dict__["embedder"] = seeds_pipeline.embedder
        squad_pipeline.update_index()
        in_domain = top_scores(squad_pipeline, squad_questions)
    off_topic = top_scores(seeds_pipeline, squad_questions)
    seeds_questions = load_seeds_qa(seeds_qa_path)
    seeds_scores = top_scores(seeds_pipeline, seeds_questions)
    answerable = np.array([q.doc_id is not None for q in seeds_questions])
    return Calibration(
        answerable=np.concatenate([in_domain, seeds_scores[answerable]]),
        unanswerable=np.concatenate([off_topic, seeds_scores[~answerable]]),
    )
