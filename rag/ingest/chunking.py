"""Arabic-aware sentence splitting and packing of sentences into overlapping passages.

Every span is a pair of character offsets into the article text, so a passage or a
sentence can always be cut back out of the article exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.articles import Article

# A sentence ends at . ! ? ؟ … (with any closing quotes or brackets) followed by
# whitespace, or at a line break. The Arabic comma ، never ends one, and a dot
# inside a number (3.5) is not followed by whitespace, so it does not either.
_SENTENCE_END = re.compile(r"[.!?؟…]+[\"'”’»)\]]*(?=\s)|\n")

Span = tuple[int, int]


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences of one article; ``text == article.text[start:end]``."""

    doc_id: str
    passage_id: str
    title: str
    text: str
    start: int
    end: int
    sentences: tuple[Span, ...]  # absolute offsets of each sentence


def _strip_span(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_sentences(text: str) -> list[Span]:
    """Offsets of the sentences of ``text``, whitespace trimmed, empty ones dropped."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if span := _strip_span(text, start, match.end()):
            spans.append(span)
        start = match.end()
    if span := _strip_span(text, start, len(text)):
        spans.append(span)
    return spans


def _split_long(text: str, span: Span, max_chars: int) -> list[Span]:
    """Cut a sentence longer than ``max_chars`` at whitespace into pieces that fit."""
    start, end = span
    pieces: list[Span] = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut if cut > start else start + max_chars
        if piece := _strip_span(text, start, cut):
            pieces.append(piece)
        start = cut
    if piece := _strip_span(text, start, end):
        pieces.append(piece)
    return pieces


def chunk_article(article: Article, max_chars: int, overlap_sentences: int) -> list[Passage]:
    """Pack the article's sentences into passages of at most ``max_chars`` characters.

    Each passage after the first starts with the last ``overlap_sentences`` sentences of
    the one before, when they leave room for at least one new sentence.
    """
    text = article.text
    sentences = [
        piece for span in split_sentences(text) for piece in _split_long(text, span, max_chars)
    ]
    groups: list[list[Span]] = []
    current: list[Span] = []
    for sentence in sentences:
        if current and sentence[1] - current[0][0] > max_chars:
            groups.append(current)
            kept = current[-overlap_sentences:] if overlap_sentences else []
            while kept and sentence[1] - kept[0][0] > max_chars:
                kept = kept[1:]
            current = kept
        current.append(sentence)
    if current:
        groups.append(current)
    return [
        Passage(
            doc_id=article.doc_id,
            passage_id=f"{article.doc_id}#{i}",
            title=article.title,
            text=text[group[0][0] : group[-1][1]],
            start=group[0][0],
            end=group[-1][1],
            sentences=tuple(group),
        )
        for i, group in enumerate(groups)
    ]
