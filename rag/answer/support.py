"""Which sentence of the passages supports the answer: the one nearest in meaning.

The answer may be English and the passages Arabic, so this compares embeddings, not words.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from rag.answer.citations import add_marker, claims_citing
from rag.ingest.chunking import Passage, Span
from rag.models.embeddings import Embedder


@dataclass
class SentenceScorer:
    """Embeddings of every sentence of the passages shown to the LLM, computed once.

    Claims are compared together with the ``question`` they answer: a short answer
    ("1954") says little on its own about which sentence it came from.
    """

    embedder: Embedder
    passages: list[Passage]
    question: str = ""

    def __post_init__(self) -> None:
        texts = [p.text[s - p.start : e - p.start] for p in self.passages for s, e in p.sentences]
        self._vectors = self.embedder.embed_documents(texts)
        bounds = np.cumsum([0] + [len(p.sentences) for p in self.passages])
        self._ranges = list(itertools.pairwise(bounds))

    def _scores(self, claim: str) -> np.ndarray:
        return self._vectors @ self.embedder.embed_query(f"{self.question} {claim}".strip())

    def best_sentence(self, claim: str, n: int) -> tuple[Span, float]:
        """The sentence of passage ``n`` (1-based) closest to ``claim``, and its similarity."""
        start, end = self._ranges[n - 1]
        scores = self._scores(claim)[start:end]
        best = int(np.argmax(scores))
        return self.passages[n - 1].sentences[best], float(scores[best])

    def best_passage(self, claim: str) -> tuple[int, float]:
        """Number (1-based) of the passage holding the sentence closest to ``claim``."""
        scores = self._scores(claim)
        best = int(np.argmax(scores))
        n = next(i for i, (s, e) in enumerate(self._ranges, start=1) if s <= best < e)
        return n, float(scores[best])


# How much closer another shown passage must be to a claim before its citation is moved.
REGROUND_MARGIN = 0.05


def ground_citations(
    answer: str, cited: list[int], scorer: SentenceScorer
) -> tuple[str, list[int]]:
    """Check each ``[n]`` against the passages and fix the ones a small model mis-numbers.

    A marker moves to another shown passage when that passage holds a sentence clearly
    closer in meaning to the claims citing ``n``; an answer citing nothing gets the
    passage closest to it. Returns the answer and its cited numbers in order.
    """
    if not cited:
        best, _ = scorer.best_passage(answer)
        return add_marker(answer, best), [best]
    moves: dict[int, int] = {}
    for n in cited:
        claim = " ".join(claims_citing(answer, n)) or answer
        _, own = scorer.best_sentence(claim, n)
        best, score = scorer.best_passage(claim)
        if best != n and score > own + REGROUND_MARGIN:
            moves[n] = best
    if not moves:
        return answer, cited
    answer = re.sub(
        r"\[(\d+)\]", lambda m: f"[{moves.get(int(m.group(1)), int(m.group(1)))}]", answer
    )
    answer = re.sub(r"(\[\d+\])(?:\1)+", r"\1", answer)  # [2][2] -> [2]
    return answer, list(dict.fromkeys(moves.get(n, n) for n in cited))
