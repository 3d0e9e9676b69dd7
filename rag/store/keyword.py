"""Arabic-aware keyword search: BM25 over normalized, light-stemmed tokens."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import snowballstemmer
from rank_bm25 import BM25Okapi

from rag.text.arabic import normalize, tokens

_STOPWORD_TEXT = (
    "في من على الى إلى عن ان أن إن هو هي هم ما ماذا متى اين أين كيف كم هل التي الذي الذين "
    "و او أو مع لا لم لن قد كان كانت هذا هذه ذلك تلك ثم بين عند كل بعد قبل حتى"
)
_STOPWORDS = {normalize(w) for w in _STOPWORD_TEXT.split()}
_STEMMER = snowballstemmer.stemmer("arabic")


def keyword_tokens(text: str) -> list[str]:
    """Normalized words without stopwords, stemmed with Snowball's Arabic stemmer.

    (Stemming the words before normalizing them measured worse on ARCD: recall@5 0.959
    against 0.970.)
    """
    return _STEMMER.stemWords([t for t in tokens(text) if t not in _STOPWORDS])


class KeywordIndex:
    """BM25 scores of every passage for a query, scaled so the best one is 1."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._bm25 = BM25Okapi([keyword_tokens(t) or [""] for t in texts])

    def scores(self, query: str) -> np.ndarray:
        """Scaled BM25 score of each passage, in index order (all zeros if nothing matches)."""
        raw = np.asarray(self._bm25.get_scores(keyword_tokens(query)), dtype=np.float32)
        top = float(raw.max()) if raw.size else 0.0
        return raw / top if top > 0 else np.zeros_like(raw)
