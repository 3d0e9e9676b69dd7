"""Reading an article file of any supported format: one entry point, one reader per format.

``read_article`` is what the index, ``rag add`` and the web upload all use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import PurePosixPath

from rag.ingest.formats.docx import read_docx
from rag.ingest.formats.extracted import Extracted
from rag.ingest.formats.html import read_html
from rag.ingest.formats.meta import ArticleMeta
from rag.ingest.formats.pdf import read_pdf
from rag.ingest.formats.text import decode_text, read_text
from rag.text.language import detect_language

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ArticleMeta",
    "DateFinder",
    "Extracted",
    "check_suffix",
    "complete",
    "decode_text",
    "read_article",
    "read_file",
]

# Finds the publication date in an article's text (a dateline, "12 آذار 2025").
DateFinder = Callable[[str], date | None]

_READERS: dict[str, Callable[[bytes, str], Extracted]] = {
    ".txt": read_text,
    ".md": read_text,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
SUPPORTED_SUFFIXES = tuple(_READERS)


def check_suffix(name: str) -> None:
    """Raise ValueError, the message starting with ``name``, unless its format is read."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in _READERS:
        kind = f"{suffix} files" if suffix else "files without a suffix"
        raise ValueError(f"{name}: {kind} are not read; supported: {', '.join(SUPPORTED_SUFFIXES)}")


def read_file(name: str, raw: bytes) -> Extracted:
    """What the reader of ``name``'s format gives (chosen by its suffix): its text and the
    metadata the file itself holds. Raises ValueError, the message starting with ``name``,
    for a file that cannot be read as an article."""
    check_suffix(name)
    return _READERS[PurePosixPath(name).suffix.lower()](raw, name)


def complete(extracted: Extracted, find_date: DateFinder | None = None) -> Extracted:
    """``extracted`` with what its text tells: the publication date (``find_date``, when
    the file gives none; ``date_from`` says which did) and the language."""
    meta = extracted.meta
    if meta.published is not None:
        meta = replace(meta, date_from="file")
    elif find_date is not None and (found := find_date(extracted.text)):
        meta = replace(meta, published=found.isoformat(), date_from="text")
    if meta.language is None:
        meta = replace(meta, language=detect_language(extracted.text[:2000]))
    return replace(extracted, meta=meta)


def read_article(name: str, raw: bytes, find_date: DateFinder | None = None) -> Extracted:
    """The text and metadata of the article file ``name`` holding ``raw`` (``read_file``,
    then ``complete``)."""
    return complete(read_file(name, raw), find_date)
