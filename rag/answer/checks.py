"""Checks of a freely written answer before it is shown: is it what the passages say?

Extractive answers need none of this: they are copies by construction. A generative
answer (``NABAA_ANSWER_MODE=generative``) in the passages' language must use their
words; one in another language must name only people and places they name.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.citations import strip_markers
from rag.answer.names import check_names
from rag.ingest.chunking import Passage
from rag.store.keyword import keyword_tokens
from rag.text.language import detect_language

# Share of an answer's content words that its cited passages must hold.
MIN_COVERAGE = 0.5
_ENGLISH_STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but is are was were be been has have
    had he she it they his her its their this that these those as not no said says say
    according""".split()  # noqa: SIM905
)


def passages_language(passages: Sequence[Passage]) -> str:
    """The language the best passage is written in."""
    return detect_language(passages[0].text) if passages else "en"


def coverage(answer: str, sources: str) -> float:
    """Share of the answer's content words (normalized, stemmed) found in ``sources``."""
    words = [w for w in keyword_tokens(strip_markers(answer)) if w not in _ENGLISH_STOPWORDS]
    if not words:
        return 1.0
    known = set(keyword_tokens(sources))
    return sum(w in known for w in words) / len(words)


def supported(answer: str, cited: list[int], shown: Sequence[Passage], language: str) -> bool:
    """Whether the cited passages say what ``answer`` says, as far as words can tell."""
    sources = "\n".join(shown[n - 1].text for n in cited)
    if passages_language([shown[n - 1] for n in cited]) == language:
        return coverage(answer, sources) >= MIN_COVERAGE
    return check_names(strip_markers(answer), sources).ok
