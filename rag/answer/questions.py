"""What a question must be before any model sees it: words, a sane length, a valid k.

Pure checks, no models: the CLI runs them before it loads anything, and the pipeline
runs them on every question, whichever shell it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.errors import NabaaError
from rag.text.arabic import normalize
from rag.text.language import answer_language, detect_language

# Passages one question may ask for: the prompt has room for a few, a search for more.
MAX_TOP_K = 50

LANGUAGE_LABELS = {
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "ru": "Russian",
    "tr": "Turkish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


# Requests that are not questions about the articles: to drop the rules, or to write
# something new (matched on normalized text, so "قصيدة" is written "قصيده").
_OFF_TASK = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules|prompt|guidelines)\b"
    r"|\b(?:write|compose)\b.{0,30}\b(?:poem|story|song|essay|joke|code|script|lyrics)\b"
    r"|(?:تجاهل|انس|تناس)\w*\s+(?:\w+\s+){0,2}\w*(?:تعليمات|قواعد|اوامر|ارشادات)"
    r"|اكتب\w*\s+(?:\w+\s+){0,2}\w*(?:قصيده|قصه|اغنيه|نكته|شعرا|مقالا|برنامجا|كودا)",
)


def off_task(question: str) -> bool:
    """Whether ``question`` asks to set the rules aside or to write something new, which
    Nabaa declines: it answers from the articles."""
    return bool(_OFF_TASK.search(normalize(question)))


@dataclass
class Question:
    """A question as the pipeline uses it: cleaned, cut to length, its language found."""

    text: str
    language: str
    notices: list[str] = field(default_factory=list)


def _visible(text: str) -> str:
    # Zero-width and direction marks (Cf) and control characters (Cc) carry no words.
    kept = (
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cf", "Cc")
    )
    return " ".join("".join(kept).split())


def prepare_question(text: str, max_chars: int) -> Question:
    """The cleaned question, or NabaaError saying why it cannot be asked."""
    question = _visible(text)
    if not question:
        raise NabaaError("The question is empty: type a question about the articles.")
    if not any(ch.isalnum() for ch in question):
        raise NabaaError(
            "The question has no letters or digits: ask it in words, in English or Arabic."
        )
    notices: list[str] = []
    if len(question) > max_chars:
        notices.append(
            f"The question was {len(question):,} characters; only the first "
            f"{max_chars:,} were used."
        )
        question = question[:max_chars]
    language = detect_language(question)
    if answer_language(language) != language:
        label = LANGUAGE_LABELS.get(language, language)
        notices.append(
            f"The question looks like {label}; Nabaa answers in English or "
            "Arabic, so the answer is in English."
        )
    return Question(question, language, notices)


def check_top_k(k: int) -> int:
    """``k`` if it is a number of passages that can be retrieved, else NabaaError."""
    if not 1 <= k <= MAX_TOP_K:
        raise NabaaError(f"k must be between 1 and {MAX_TOP_K} passages, not {k}.")
    return k
