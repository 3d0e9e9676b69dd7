"""``python -m rag.measure.formats``: how well each format reader gets the article out.

On the fixtures in tests/data/formats (made by scripts/make_format_fixtures.py), it
prints per file: character similarity of the text read to the article as written
(rapidfuzz ratio on whitespace-normalised text), how many of the page's boilerplate
lines got through, for PDFs the Arabic lines found reversed and put back, with
the similarity before and after, and the publication date and outlet the file gives
(the date from the file's metadata, else from its text by rag.ingest.dates). Then the
libraries compared (HTML: trafilatura, readability-lxml, jusText; PDF: pdfplumber,
pypdf) and reversed-line detection on synthetic lines without presentation forms.

The article as written is ``*.with-byline.txt`` (headline, byline, body) for the
formats that keep the byline, the printed PDF and the Word file, and ``*.body.txt``
(headline, body) for the others: a saved page's byline is metadata (its meta tags say
author, outlet and date), not main text, and trafilatura leaves it out.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from rapidfuzz import fuzz

from rag.config import PROJECT_ROOT
from rag.ingest.dates import find_publication_date
from rag.ingest.formats import read_article
from rag.ingest.formats.arabic import normalize_presentation_forms, repair_lines, visual_to_logical

FIXTURES = PROJECT_ROOT / "tests" / "data" / "formats"
SEEDS = PROJECT_ROOT / "seeds"
T = TypeVar("T")
_NOT_ARTICLES = ("PROVENANCE.md", "scanned.pdf")
_TRUTHS = (".body.txt", ".with-byline.txt", ".boilerplate.txt")
# Formats whose text keeps the byline under the headline.
_WITH_BYLINE = (".pdf", ".docx")


def normalized(text: str) -> str:
    return " ".join(text.split())


def similarity(text: str, truth: str) -> float:
    """rapidfuzz's ratio of the two texts, whitespace normalised, from 0 to 1."""
    return fuzz.ratio(normalized(text), normalized(truth)) / 100


def boilerplate_kept(text: str, boilerplate: list[str]) -> list[str]:
    """The page's boilerplate lines found in ``text``: short ones as whole lines only."""
    lines = {normalized(line) for line in text.splitlines()}
    flat = normalized(text)
    return [
        b
        for b in map(normalized, boilerplate)
        if b and (b in lines or (len(b) >= 15 and b in flat))
    ]


def _truth(path: Path) -> str:
    """The article as written, with its byline for the formats that keep it."""
    stem = path.name.split(".")[0]
    with_byline = FIXTURES / f"{stem}.with-byline.txt"
    if path.suffix in _WITH_BYLINE and with_byline.exists():
        return with_byline.read_text(encoding="utf-8")
    return (FIXTURES / f"{stem}.body.txt").read_text(encoding="utf-8")


def text_date(text: str) -> date | None:
    """The publication date in an article's text (rag.ingest.dates), or None."""
    found = find_publication_date(text)
    return found.date if found else None


def _boilerplate(path: Path) -> list[str]:
    file = FIXTURES / f"{path.name.split('.')[0]}.boilerplate.txt"
    return file.read_text(encoding="utf-8").splitlines() if file.exists() else []


def _timed(read: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = read()
    return result, time.perf_counter() - started


def fixtures_table() -> list[str]:
    rows = [
        "| file | similarity | boilerplate kept | Arabic lines | reversed, put back "
        "| similarity before repair | ms | date (from) | source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in sorted(FIXTURES.iterdir()):
        if path.name.endswith(_TRUTHS) or path.name in _NOT_ARTICLES:
            continue
        raw = path.read_bytes()
        article, seconds = _timed(lambda raw=raw, path=path: read_article(path.name, raw))
        extracted, meta = article.text, article.meta
        dated = read_article(path.name, raw, text_date).meta.published
        date_from = f"{dated} ({'file' if meta.published else 'text'})" if dated else "–"
        kept = boilerplate_kept(extracted, _boilerplate(path))
        arabic = flipped = before = "–"
        if path.suffix == ".pdf":
            plain = _pdfplumber_text(raw)
            repair = repair_lines(plain)
            arabic, flipped = str(repair.arabic_lines), str(repair.reversed_lines)
            before = f"{similarity(normalize_presentation_forms(plain), _truth(path)):.3f}"
        rows.append(
            f"| {path.name} | {similarity(extracted, _truth(path)):.3f} | {len(kept)} "
            f"| {arabic} | {flipped} | {before} | {seconds * 1000:.0f} | {date_from} "
            f"| {meta.source or '–'} |"
        )
    return rows


def _without_headline(text: str) -> str:
    return text.split("\n", 1)[1] if "\n" in text else text


def _trafilatura(raw: bytes) -> str:
    import trafilatura

    return trafilatura.extract(raw, include_comments=False, include_tables=True) or ""


def _readability(raw: bytes) -> str:
    import lxml.html
    from readability import Document

    tree = lxml.html.fromstring(Document(raw).summary(html_partial=True))
    return "\n".join(el.text_content() for el in tree.iter("p", "h1", "h2", "h3", "li"))


def _justext(raw: bytes, language: str) -> str:
    import justext

    stoplist = justext.get_stoplist("Arabic" if language == "ar" else "English")
    return "\n".join(p.text for p in justext.justext(raw, stoplist) if not p.is_boilerplate)


def html_libraries_table() -> list[str]:
    """Each library's main text (no headline: none of them adds it) against the body."""
    rows = [
        "| page | library | similarity | boilerplate kept | ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path in sorted(FIXTURES.glob("*.html")):
        raw, language = path.read_bytes(), path.name[:2]
        truth = _without_headline(_truth(path))
        libraries = {
            "trafilatura": lambda raw=raw: _trafilatura(raw),
            "readability-lxml": lambda raw=raw: _readability(raw),
            "jusText": lambda raw=raw, language=language: _justext(raw, language),
        }
        for library, extract in libraries.items():
            try:
                text, seconds = _timed(extract)
            except ImportError:
                rows.append(f"| {path.name} | {library} | not installed | | |")
                continue
            kept = boilerplate_kept(text, _boilerplate(path))
            rows.append(
                f"| {path.name} | {library} | {similarity(text, truth):.3f} | {len(kept)} "
                f"| {seconds * 1000:.0f} |"
            )
    return rows


def _pdfplumber_text(raw: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return "\n".join(page.extract_text() for page in pdf.pages)


def _pypdf_text(raw: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(raw)).pages)


def pdf_libraries_table() -> list[str]:
    """Each library's text, as it comes and after ``repair_lines``, against the article."""
    rows = [
        "| PDF | library | as extracted | after repair | lines put back | ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    libraries = {"pdfplumber": _pdfplumber_text, "pypdf": _pypdf_text}
    for path in sorted(p for p in FIXTURES.glob("*.pdf") if p.name != "scanned.pdf"):
        raw, truth = path.read_bytes(), _truth(path)
        for library, extract in libraries.items():
            try:
                text, seconds = _timed(lambda raw=raw, extract=extract: extract(raw))
            except ImportError:
                rows.append(f"| {path.name} | {library} | not installed | | | |")
                continue
            repair = repair_lines(text)
            rows.append(
                f"| {path.name} | {library} | {similarity(text, truth):.3f} "
                f"| {similarity(repair.text, truth):.3f} | {repair.reversed_lines} "
                f"| {seconds * 1000:.0f} |"
            )
    return rows


def _arabic_lines() -> list[list[str]]:
    """The Arabic lines of each fixture article and seed, one list per document."""
    files = sorted(FIXTURES.glob("ar-*.body.txt")) + sorted(SEEDS.glob("*.txt"))
    documents = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        lines = [line.strip() for line in text.splitlines() if repair_lines(line).arabic_lines]
        documents.append(lines)
    return documents


def detection_table() -> list[str]:
    """Plain-letter lines (no shapes to go by), every other one reversed, then repaired."""
    rows = [
        "| line length | lines | reversed ones left | good ones flipped |",
        "| --- | --- | --- | --- |",
    ]
    for words in (None, 12, 4):
        total = missed = flipped = 0
        for lines in _arabic_lines():
            if words:
                lines = [
                    " ".join(line.split()[i : i + words])
                    for line in lines
                    for i in range(0, len(line.split()), words)
                ]
            shown = [visual_to_logical(line) if i % 2 else line for i, line in enumerate(lines)]
            out = repair_lines("\n".join(shown)).text.split("\n")
            total += len(lines)
            wrong = [i for i, (got, want) in enumerate(zip(out, lines, strict=True)) if got != want]
            missed += sum(i % 2 for i in wrong)
            flipped += sum(1 - i % 2 for i in wrong)
        label = f"{words} words" if words else "whole paragraphs"
        rows.append(f"| {label} | {total} | {missed} | {flipped} |")
    return rows


def main() -> None:
    sections = {
        "Readers on the fixtures (read_article)": fixtures_table,
        "HTML main text, by library": html_libraries_table,
        "PDF text, by library": pdf_libraries_table,
        "Reversed-line detection without presentation forms (synthetic)": detection_table,
    }
    for title, table in sections.items():
        print(f"\n## {title}\n")
        print("\n".join(table()))


if __name__ == "__main__":
    main()
