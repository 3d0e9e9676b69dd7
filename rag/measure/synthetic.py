"""Synthetic archives for scale measurements: news-like passages and embedding-like vectors.

Text: two to four real sentences (the seed articles and the ARCD sample, Arabic) or
template sentences (English), plus words drawn from a Zipf law over a large invented
vocabulary, so the vocabulary keeps growing with the archive as a real one does.

Vectors: unit vectors around stories, around topics, which share a common direction: two
passages have a median cosine of 0.15, two of one story about 0.6, and a question (a
passage moved a little) about 0.9 with its own passage.
"""

from __future__ import annotations

import json
import re

import numpy as np

from rag.config import PROJECT_ROOT
from rag.ingest.chunking import Passage

PASSAGES_PER_ARTICLE = 20
ENGLISH_SHARE = 0.3
_SENTENCE = re.compile(r"[^.!?؟\n]{30,300}[.!?؟]")
_ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
_LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ENGLISH_TEMPLATES = [
    "The {role} of {place} said on {day} that talks on {topic} would resume next {month}.",
    "Officials in {place} expect {topic} to cost about {n} million dollars this year.",
    "{name} told reporters in {place} that the {topic} plan had the support of {n} states.",
    "Protesters gathered in {place} on {day} to oppose the new {topic} rules.",
    "The {role} will visit {place} in {month} to sign an agreement on {topic}.",
]
_ENGLISH_WORDS = {
    "role": ["minister", "president", "spokesman", "governor", "ambassador", "mayor"],
    "place": ["Cairo", "Amman", "Astana", "Minsk", "Beirut", "Rabat", "Doha", "Tunis"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "topic": ["energy", "trade", "water", "wheat", "nuclear power", "tourism", "railways"],
    "month": ["January", "March", "May", "July", "September", "November"],
    "name": ["Nour Haddad", "Karim Saleh", "Lina Mansour", "Omar Aziz", "Dana Khalil"],
}


def _arabic_sentences() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
    sample = json.loads((PROJECT_ROOT / "tests/data/arcd-sample.json").read_text(encoding="utf-8"))
    texts += [p["context"] for a in sample["data"] for p in a["paragraphs"]]
    return [s.strip() for t in texts for s in _SENTENCE.findall(t)]


def _vocabulary(rng: np.random.Generator, letters: str, size: int) -> list[str]:
    lengths = rng.integers(3, 9, size)
    picks = rng.integers(0, len(letters), lengths.sum())
    words, at = [], 0
    for length in lengths:
        words.append("".join(letters[i] for i in picks[at : at + length]))
        at += length
    return words


class SyntheticArchive:
    """A reproducible archive of ``n`` passages in ``n / PASSAGES_PER_ARTICLE`` articles."""

    def __init__(self, n: int, dim: int, seed: int = 0) -> None:
        self.n, self.dim = n, dim
        self.rng = np.random.default_rng(seed)
        self.arabic = _arabic_sentences()
        vocabulary_size = max(1000, n // 4)
        self.words = {
            "ar": _vocabulary(self.rng, _ARABIC_LETTERS, vocabulary_size),
            "en": _vocabulary(self.rng, _LATIN_LETTERS, vocabulary_size),
        }
        weights = 1 / np.arange(1, vocabulary_size + 1) ** 1.1
        self.zipf = np.cumsum(weights) / weights.sum()
        shared = self._unit(self.rng.standard_normal((1, dim), dtype=np.float32))
        topics = self._unit(self.rng.standard_normal((max(4, n // 2000), dim), dtype=np.float32))
        topics = self._unit(0.6 * shared + 0.8 * topics)
        # Stories within topics: 100 passages each on average.
        self.stories = self._spread(topics[self.rng.integers(0, len(topics), max(16, n // 100))])

    @staticmethod
    def _unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    def _spread(self, centres: np.ndarray, scale: float = 0.8) -> np.ndarray:
        noise = self.rng.standard_normal(centres.shape, dtype=np.float32)
        return self._unit(centres + scale * noise / np.sqrt(self.dim))

    def _english(self) -> str:
        template = _ENGLISH_TEMPLATES[self.rng.integers(len(_ENGLISH_TEMPLATES))]
        fill = {k: v[self.rng.integers(len(v))] for k, v in _ENGLISH_WORDS.items()}
        return template.format(n=int(self.rng.integers(2, 900)), **fill)

    def _text(self) -> str:
        english = self.rng.random() < ENGLISH_SHARE
        sentences = [
            self._english() if english else self.arabic[self.rng.integers(len(self.arabic))]
            for _ in range(int(self.rng.integers(1, 3)))
        ]
        vocabulary = self.words["en" if english else "ar"]
        extra = np.minimum(np.searchsorted(self.zipf, self.rng.random(6)), len(vocabulary) - 1)
        return " ".join(sentences) + " " + " ".join(vocabulary[i] for i in extra)

    def passages(self, first_article: int = 0, n: int | None = None) -> list[Passage]:
        """``n`` passages (all of them by default), articles numbered from ``first_article``."""
        found = []
        for i in range(self.n if n is None else n):
            doc = f"a{first_article + i // PASSAGES_PER_ARTICLE:07d}"
            text = self._text()
            found.append(
                Passage(
                    doc,
                    f"{doc}#{i % PASSAGES_PER_ARTICLE}",
                    doc,
                    text,
                    0,
                    len(text),
                    ((0, len(text)),),
                )
            )
        return found

    def vectors(self, n: int | None = None, chunk: int = 100_000) -> np.ndarray:
        """Unit vectors for ``n`` passages (all of them by default)."""
        n = self.n if n is None else n
        out = np.empty((n, self.dim), dtype=np.float32)
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            stories = self.stories[self.rng.integers(0, len(self.stories), size)]
            out[start : start + size] = self._spread(stories, 0.7)
        return out

    def questions(self, vectors: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``n`` passages, and question-like vectors for them: moved a little."""
        rows = self.rng.choice(len(vectors), n, replace=False)
        return rows, self._spread(vectors[rows], 0.5)
