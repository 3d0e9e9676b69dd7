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
    "decode_text",
    "read_article",
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


def read_article(name: str, raw: bytes, find_date: DateFinder | None = None) -> Extracted:
    """The text and metadata of the article file ``name`` holding ``raw``.

    The reader is chosen by the name's suffix. When the file gives no publication
    date, ``find_date`` (if given) looks for one in the text. Raises ValueError, the
    message starting with ``name``, for a file that cannot be read as an article.
    """
    check_suffix(name)
    extracted = _READERS[PurePosixPath(name).suffix.lower()](raw, name)
    meta = extracted.meta
    if meta.published is None and find_date is not None:
        found = find_date(extracted.text)
        meta = replace(meta, published=found.isoformat() if found else None)
    if meta.language is None:
        meta = replace(meta, language=detect_language(extracted.text[:2000]))
    return replace(extracted, meta=meta)
