""".pdf articles with a text layer: lines read by pdfplumber, Arabic put back in order.

pdfplumber (pdfminer.six) returns each line's glyphs left to right, so Arabic lines
come out in visual order with presentation forms; ``repair_lines`` turns them back.
Wrapped lines are joined into paragraphs by the vertical gaps between them.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
from dataclasses import dataclass

import pdfplumber

from rag.ingest.formats.arabic import repair_lines
from rag.ingest.formats.extracted import Extracted
from rag.ingest.formats.meta import ArticleMeta, clean

MAX_PAGES = 300
# Fewer letters than this per page, on pages with images, is a scan: OCR it first.
MIN_LETTERS_PER_PAGE = 20
_SENTENCE_END = (".", "!", "?", "؟", ":", '"', "”", "»", "…")
# The outlet's name after the headline in a printed page's /Title: at most this long.
MAX_SITE_CHARS, MAX_SITE_WORDS = 40, 5
_SITE_TAIL = re.compile(r"\s+[|\-–—]\s+(?P<site>\S.*)")


@dataclass(frozen=True)
class _Line:
    text: str
    top: float
    bottom: float
    page: int


def _lines(pdf: pdfplumber.PDF) -> tuple[list[_Line], int]:
    """Every text line with its position, and how many images the pages show."""
    lines, images = [], 0
    for number, page in enumerate(pdf.pages):
        images += len(page.images)
        for line in page.extract_text_lines(return_chars=False):
            if line["text"].strip():
                lines.append(_Line(line["text"], line["top"], line["bottom"], number))
    return lines, images


def _paragraphs(lines: list[_Line]) -> str:
    """Lines joined into paragraphs: a gap over half a line's height starts a new one.

    A page break starts one only after a line that ends a sentence.
    """
    if not lines:
        return ""
    height = statistics.median(line.bottom - line.top for line in lines)
    paragraphs = [[lines[0].text.strip()]]
    for before, line in itertools.pairwise(lines):
        if line.page != before.page:
            new = before.text.rstrip().endswith(_SENTENCE_END)
        else:
            new = line.top - before.bottom > 0.5 * height
        if new:
            paragraphs.append([])
        paragraphs[-1].append(line.text.strip())
    return "\n\n".join(" ".join(p) for p in paragraphs)


def title_and_source(info_title: str | None, text: str) -> tuple[str | None, str | None]:
    """The document title and the outlet, from a browser-printed /Title "headline | Site".

    A page printed from a browser has the page's <title> as its title. Where the first
    paragraph (the printed headline) is the start of it, the rest is cut off; that rest
    is the outlet when it is a separator (" | ", " - ", " – ", " — ") and a short name.
    """
    first = text.split("\n\n", 1)[0].strip()
    if not (info_title and first and info_title.startswith(first) and first != info_title):
        return info_title, None
    tail = _SITE_TAIL.fullmatch(info_title[len(first) :])
    site = clean(tail["site"]) if tail else None
    if site and len(site) <= MAX_SITE_CHARS and len(site.split()) <= MAX_SITE_WORDS:
        return first, site
    return first, None


def read_pdf(raw: bytes, name: str) -> Extracted:
    """A text-based PDF article; a scan without a text layer raises ValueError."""
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise ValueError(
                    f"{name} has {len(pdf.pages)} pages, more than the {MAX_PAGES} read "
                    "for one article"
                )
            lines, images = _lines(pdf)
            info, pages = pdf.metadata, len(pdf.pages)
    except ValueError:
        raise
    except Exception as exc:  # pdfminer raises many kinds on a damaged or encrypted file
        raise ValueError(f"{name} could not be read as a PDF ({type(exc).__name__})") from None
    repaired = repair_lines("\n".join(line.text for line in lines))
    texts = repaired.text.split("\n") if lines else []
    fixed = [
        _Line(text, line.top, line.bottom, line.page)
        for text, line in zip(texts, lines, strict=True)
    ]
    text = _paragraphs(fixed)
    if sum(not ch.isspace() for ch in text) < MIN_LETTERS_PER_PAGE * max(pages, 1):
        if images:
            raise ValueError(f"{name} is a scanned PDF, no text layer (OCR it first)")
        raise ValueError(f"{name} has no text")
    title, source = title_and_source(clean(info.get("Title")), text)
    meta = ArticleMeta(
        title=title,
        source=source,
        author=clean(info.get("Author")),
        # /CreationDate is not the publication date: a page printed from a browser
        # (Chromium's Skia/PDF) gets the time it was printed. The text's dateline is
        # the better source, so ``published`` is left to the text-date finder.
    )
    return Extracted(text, meta)
