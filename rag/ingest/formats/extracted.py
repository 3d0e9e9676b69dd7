"""What reading one article file gives: its text, its metadata, and notes on how it was read."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.ingest.formats.meta import ArticleMeta


@dataclass(frozen=True)
class Extracted:
    """``text`` is the article's main text (LF line ends); ``notes`` say what was worth
    telling about the reading, e.g. "read as windows-1256"."""

    text: str
    meta: ArticleMeta = field(default_factory=ArticleMeta)
    notes: tuple[str, ...] = ()
