"""Evaluation data sets and the calibration of the refusal threshold.

Two formats are read: SQuAD JSON (e.g. ARCD), whose contexts become the articles of a
temporary index, and the ``seeds_qa.json`` format, asked against the seeds index.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer.citations import strip_markers
from rag.answer.names import check_names
from rag.config import Settings
from rag.ingest.articles import load_articles
from rag.ingest.chunking import Passage
from rag.pipeline import Answer, Citation, Pipeline
from rag.text.arabic import tokens
from rag.text.language import answer_language, detect_language


@dataclass(frozen=True)
class Question:
    """One evaluation question; ``doc_id`` is None for an unanswerable one.

    ``evidence``: strings the supporting passage holds (when the answers are in another
    language than the article); ``answers_all``: every answer must appear.
    """

    qid: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    lang: str = "ar"
    evidence: tuple[str, ...] = ()
    answers_all: bool = False


def load_squad(path: Path, seeds_dir: Path) -> list[Question]:
    """Write each SQuAD context as an article (its page title as headline); return the questions."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    seeds_dir.mkdir(parents=True, exist_ok=True)
    questions: list[Question] = []
    n = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            doc_id = f"ctx_{n:04d}"
            # The Wikipedia page title as the headline, like a news article's.
            text = f"{article['title']}\n\n{paragraph['context']}"
            (seeds_dir / f"{doc_id}.txt").write_text(text, encoding="utf-8")
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
            tuple(q.get("evidence", ())),
            bool(q.get("answers_all")),
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
    squad_pipeline, squad_questions = evaluation_pipeline(settings, squad_path)
    squad_pipeline.__dict__["embedder"] = seeds_pipeline.embedder  # load the model once
    in_domain = top_scores(squad_pipeline, squad_questions)
    off_topic = top_scores(seeds_pipeline, squad_questions)
    seeds_questions = load_seeds_qa(seeds_qa_path)
    seeds_scores = top_scores(seeds_pipeline, seeds_questions)
    answerable = np.array([q.doc_id is not None for q in seeds_questions])
    return Calibration(
        answerable=np.concatenate([in_domain, seeds_scores[answerable]]),
        unanswerable=np.concatenate([off_topic, seeds_scores[~answerable]]),
    )


# Metrics -------------------------------------------------------------------

# Conjunction, preposition and article letters that attach to the next word (normalized).
_PROCLITIC = "[وف]?[بلك]?(?:ال)?"


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 on normalized tokens; citation markers are not words."""
    pred, ref = tokens(strip_markers(prediction)), tokens(gold)
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if not overlap:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_answer(text: str, answers: tuple[str, ...], require_all: bool = False) -> bool:
    """Whether ``text`` holds a gold answer (all of them if ``require_all``), compared as
    normalized words without punctuation or citation markers, so "في جنوب آسيا." matches
    "في جنوب آسيا [1]". The first word may carry an Arabic proclitic ("ب715" holds "715",
    "بالإجماع" holds "الإجماع"), but "2011" does not hold "1"."""
    haystack = " ".join(tokens(strip_markers(text)))

    def found(answer: str) -> bool:
        words = " ".join(tokens(answer))
        pattern = rf"(?:^| )(?:{_PROCLITIC})?{re.escape(words)}(?= |$)"
        return bool(words) and re.search(pattern, haystack) is not None

    hits = [found(a) for a in answers]
    return bool(hits) and (all(hits) if require_all else any(hits))


def _answered_in(text: str, language: str) -> bool:
    """Whether ``text`` is in ``language``; an answer without letters ("1954 [2].") is."""
    return detect_language(text, fallback=language) == language


def is_hit(passage: Passage, q: Question) -> bool:
    """A passage of the gold article that holds the evidence (or the article, if none given)."""
    if q.doc_id is None or passage.doc_id != q.doc_id:
        return False
    return not q.evidence or contains_answer(passage.text, q.evidence)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95, rounded."""
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {p: round(float(np.percentile(values, int(p[1:]))), 3) for p in ("p50", "p95")}


@dataclass
class Result:
    """What happened to one question."""

    q: Question
    hit_rank: int | None
    answer: Answer | None = None


def _mean(values: list[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


def summarize(results: list[Result], settings: dict) -> dict:
    """The report: retrieval, answer and latency metrics (keys as documented)."""
    answerable = [r for r in results if r.q.doc_id is not None]
    ranks = [r.hit_rank for r in answerable]
    report: dict = {
        "n_questions": len(results),
        "retrieval": {
            **{
                f"recall_at_{k}": _mean([rank is not None and rank <= k for rank in ranks])
                for k in (1, 5, 10)
            },
            "mrr": _mean([1 / rank if rank else 0.0 for rank in ranks]),
        },
        "settings": settings,
    }
    answered = [r for r in results if r.answer is not None]
    if not answered:
        return report
    gold = [r for r in answered if r.q.doc_id is not None]
    not_gold = [r for r in answered if r.q.doc_id is None]
    replied = [r for r in gold if not r.answer.refused]
    report["answers"] = {
        "contains": _mean(
            [contains_answer(r.answer.answer, r.q.answers, r.q.answers_all) for r in gold]
        ),
        "f1": _mean(
            [max((token_f1(r.answer.answer, a) for a in r.q.answers), default=0.0) for r in gold]
        ),
        "language_accuracy": _mean(
            [_answered_in(r.answer.answer, answer_language(r.answer.language)) for r in answered]
        ),
        "refusal_accuracy": _mean([r.answer.refused for r in not_gold]) if not_gold else None,
        "false_refusal_rate": _mean([r.answer.refused for r in gold]),
        "citation_accuracy": _mean(
            [any(is_hit(_cited_passage(c), r.q) for c in r.answer.citations) for r in replied]
        ),
        # Answers naming a person or place (Latin script) that none of their cited passages
        # spells, in either script: invented names.
        "invented_names": sum(_invents_names(r.answer) for r in answered),
    }
    report["latency"] = {
        key: percentiles([r.answer.timings[key] for r in answered if not r.answer.refused])
        for key in ("retrieve_s", "first_token_s", "total_s")
    }
    report["questions"] = [_question_record(r) for r in answered]
    return report


def _question_record(r: Result) -> dict:
    """One answered question, for reading through what went wrong."""
    answer = r.answer
    return {
        "id": r.q.qid,
        "question": r.q.question,
        "gold": list(r.q.answers),
        "hit_rank": r.hit_rank,
        "answer": answer.answer,
        "refused": answer.refused,
        "contains": contains_answer(answer.answer, r.q.answers, r.q.answers_all),
        "f1": round(max((token_f1(answer.answer, a) for a in r.q.answers), default=0.0), 3),
        "cited": [c.passage_id for c in answer.citations],
        "checks": answer.checks,
    }


def _invents_names(answer: Answer) -> bool:
    if answer.refused:
        return False
    cited = "\n".join(c.text for c in answer.citations)
    return not check_names(strip_markers(answer.answer), cited, allowed=answer.question).ok


def _cited_passage(c: Citation) -> Passage:
    return Passage(c.doc_id, c.passage_id, c.title, c.text, c.start, c.end, ())


def markdown(report: dict) -> str:
    """The report as markdown tables."""
    lines = [f"**{report['n_questions']} questions**", "", "| retrieval | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in report["retrieval"].items()]
    if "answers" in report:
        lines += ["", "| answers | value |", "|---|---|"]
        lines += [
            f"| {k} | {'n/a' if v is None else f'{v:.3f}'} |" for k, v in report["answers"].items()
        ]
        lines += ["", "| latency (s) | p50 | p95 |", "|---|---|---|"]
        lines += [f"| {k} | {v['p50']} | {v['p95']} |" for k, v in report["latency"].items()]
    return "\n".join(lines)


def evaluation_pipeline(settings: Settings, dataset: Path) -> tuple[Pipeline, list[Question]]:
    """A pipeline over the data set's corpus and its questions.

    SQuAD contexts become articles of an index cached under the cache folder, keyed by
    the data set's content, so a second run does not re-embed them. A ``seeds_qa.json``
    file is asked against the seeds folder, unless it names its own ``corpus``: the
    seeds and/or a SQuAD file's contexts (a path relative to it), indexed together.
    """
    data = json.loads(dataset.read_text(encoding="utf-8"))
    corpus = data.get("corpus")
    if "questions" in data and not corpus:
        return Pipeline(settings), load_seeds_qa(dataset)
    key = hashlib.sha256(dataset.read_bytes()).hexdigest()[:12]
    root = settings.cache_dir / "eval" / key
    if "questions" in data:
        questions = load_seeds_qa(dataset)
        if corpus.get("squad"):
            load_squad(dataset.parent / corpus["squad"], root / "seeds")
        if corpus.get("seeds"):
            for article in load_articles(settings.seeds_dir).articles:
                name = article.path.with_suffix(".txt").name  # the text read from any format
                (root / "seeds" / name).write_text(article.text, encoding="utf-8")
    else:
        questions = load_squad(dataset, root / "seeds")
    squad_settings = settings.model_copy(
        update={"seeds_dir": root / "seeds", "index_dir": root / "index"}
    )
    return Pipeline(squad_settings), questions


def evaluate(
    pipeline: Pipeline,
    questions: list[Question],
    use_llm: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Bring the index up to date, then retrieve (top 10) and, with ``use_llm``, answer
    every question."""
    pipeline.update_index()
    results = []
    for i, q in enumerate(questions, start=1):
        hits = pipeline.retrieve(q.question, 10).hits
        rank = next((h.rank for h in hits if is_hit(h.passage, q)), None)
        answer = pipeline.ask(q.question) if use_llm else None
        results.append(Result(q, rank, answer))
        if on_progress:
            on_progress(i, len(questions))
    return results
