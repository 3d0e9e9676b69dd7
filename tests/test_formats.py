"""Article formats: saved news pages, PDFs printed by Chromium, Word files, legacy encodings.

The fixtures in tests/data/formats are made by scripts/make_format_fixtures.py
(see PROVENANCE.md there); ``*.body.txt`` is each article as written (headline and
body), ``*.with-byline.txt`` the same with the byline under the headline, as the
printed PDFs and the Word files have it.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from rag.errors import NabaaError
from rag.ingest.articles import Article, load_articles, save_article
from rag.ingest.dates import find_publication_date
from rag.ingest.formats import ArticleMeta, read_article
from rag.ingest.formats.arabic import (
    is_reversed,
    normalize_presentation_forms,
    repair_lines,
    visual_to_logical,
)
from rag.ingest.formats.meta import iso_date
from rag.ingest.formats.pdf import title_and_source
from rag.ingest.formats.text import split_front_matter
from rag.measure.formats import boilerplate_kept, similarity
from tests.conftest import DATA

FORMATS = DATA / "formats"
PAGES = ("ar-desalination", "ar-central-bank", "en-port-strike", "en-flood-warning")


def _read(name: str):
    return read_article(name, (FORMATS / name).read_bytes())


def _body(stem: str) -> str:
    return (FORMATS / f"{stem}.body.txt").read_text(encoding="utf-8")


def _with_byline(stem: str) -> str:
    return (FORMATS / f"{stem}.with-byline.txt").read_text(encoding="utf-8")


def _text_date(text: str) -> date | None:
    found = find_publication_date(text)
    return found.date if found else None


@pytest.mark.parametrize("stem", PAGES)
def test_a_saved_page_gives_the_article_without_the_site_around_it(stem):
    text = _read(f"{stem}.html").text
    assert similarity(text, _body(stem)) >= 0.95
    boilerplate = (FORMATS / f"{stem}.boilerplate.txt").read_text(encoding="utf-8").splitlines()
    assert boilerplate_kept(text, boilerplate) == []


@pytest.mark.parametrize("stem", PAGES)
def test_a_pdf_printed_by_chromium_reads_as_the_article(stem):
    text = _read(f"{stem}.pdf").text
    assert similarity(text, _with_byline(stem)) >= 0.98
    assert not any("\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff" for ch in text)


def test_the_arabic_pdf_lines_come_reversed_and_are_put_back():
    import pdfplumber

    with pdfplumber.open(FORMATS / "ar-desalination.pdf") as pdf:
        plain = pdf.pages[0].extract_text()
    assert "ندرﻷا" in plain  # visual order, lam-alef as one glyph
    repair = repair_lines(plain)
    assert repair.reversed_lines == repair.arabic_lines > 10
    assert repair.text.startswith("الأردن يفتتح المرحلة الأولى")
    assert "نحو 50 مليون متر" in repair.text  # the number stays left to right
    assert "بقلم ليلى حداد · صحيفة الأفق · الأربعاء 12 آذار/مارس 2025" in repair.text
    assert similarity(repair.text, _with_byline("ar-desalination")) >= 0.98


@pytest.mark.parametrize("stem", ["ar-desalination", "en-port-strike"])
def test_a_word_file_gives_its_paragraphs(stem):
    assert similarity(_read(f"{stem}.docx").text, _with_byline(stem)) >= 0.98


def test_presentation_forms_become_letters_and_nothing_else_changes():
    assert normalize_presentation_forms("ﻻ اﻷردن ﺍﻟﻌﻘﺒﺔ") == "لا الأردن العقبة"
    assert normalize_presentation_forms("oﬀer") == "offer"
    untouched = "① ²  ٢٠٢٥ café Ａ"  # NFKC would change these: they are left alone
    assert normalize_presentation_forms(untouched) == untouched


def test_a_reversed_line_is_detected_and_put_back():
    line = "قال الوزير إن المحطة ستنتج 50 مليون متر مكعب (في المرحلة الأولى)."
    shown = visual_to_logical(line)  # the same reordering turns written into visual
    assert shown.startswith(".(") and "50" in shown
    assert not is_reversed(line) and is_reversed(shown)
    assert repair_lines(shown).text == line
    assert repair_lines(line).reversed_lines == 0
    assert is_reversed("ندرﻷا") and repair_lines("ندرﻷا").text == "الأردن"


def test_english_lines_and_arabic_inside_them():
    assert repair_lines("Port workers end strike").reversed_lines == 0
    repair = repair_lines("The minister of ﺔﻴﻠﺤﺘﻟا said today")
    assert repair.text == "The minister of التحلية said today"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("ar-locusts.cp1256.txt", "read as windows-1256"),
        ("ar-locusts.iso8859-6.txt", "read as ISO-8859-6"),
        ("ar-locusts.utf16.txt", "read as UTF-16 (byte-order mark)"),
    ],
)
def test_legacy_encodings_are_decoded_and_said(tmp_path, name, said):
    extracted = _read(name)
    assert extracted.text == _body("ar-locusts")
    assert extracted.notes == (said,)
    shutil.copy(FORMATS / name, tmp_path / name)
    result = load_articles(tmp_path)
    assert result.articles[0].text == _body("ar-locusts")
    assert result.problems == [f"{name}: {said}"]


def test_binary_junk_is_rejected_by_name(tmp_path):
    (tmp_path / "junk.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    (tmp_path / "noise.md").write_bytes(bytes(range(128, 256)) * 4)
    problems = load_articles(tmp_path).problems
    assert any(p.startswith("junk.txt looks like a binary file") for p in problems)
    assert any(p.startswith("noise.md is not UTF-8 text") for p in problems)


def test_a_scanned_pdf_is_rejected_with_what_to_do(tmp_path):
    message = "scanned.pdf is a scanned PDF, no text layer (OCR it first)"
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _read("scanned.pdf")
    shutil.copy(FORMATS / "scanned.pdf", tmp_path / "scanned.pdf")
    assert load_articles(tmp_path).problems == [f"{message}: skipped"]
    with pytest.raises(NabaaError, match="OCR it first"):
        save_article(tmp_path / "up", "scanned.pdf", (FORMATS / "scanned.pdf").read_bytes(), 10**6)


def test_damaged_files_and_unknown_suffixes_are_rejected_by_name(tmp_path):
    for name, data in [("x.pdf", b"%PDF-1.7 not really"), ("x.docx", b"PK\x03\x04 nope")]:
        with pytest.raises(ValueError, match=rf"^{name} could not be read as a"):
            read_article(name, data)
    with pytest.raises(ValueError, match=r"^x\.odt: \.odt files are not read; supported: "):
        read_article("x.odt", b"whatever")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    assert load_articles(tmp_path).problems == [
        "photo.jpg: .jpg files are not read; supported: .txt, .md, .html, .htm, .pdf, .docx"
        ": skipped"
    ]
    with pytest.raises(NabaaError, match=r"^x\.rtf: \.rtf files are not read"):
        save_article(tmp_path, "x.rtf", b"{\\rtf1 hello}", 1000)


@pytest.mark.parametrize(
    "name", ["ar-desalination.pdf", "en-port-strike.docx", "ar-central-bank.html"]
)
def test_uploads_take_every_format_and_keep_the_file_as_it_came(tmp_path, name):
    data = (FORMATS / name).read_bytes()
    assert save_article(tmp_path, name, data, 200_000) == name
    assert (tmp_path / name).read_bytes() == data
    with pytest.raises(NabaaError, match="over the 1,000-byte limit"):
        save_article(tmp_path, name, data, 1000)
    article = load_articles(tmp_path).articles[0]
    assert article.doc_id == name.rsplit(".", 1)[0]


def test_page_metadata_comes_from_its_meta_tags_and_json_ld():
    assert _read("ar-desalination.html").meta == ArticleMeta(
        title="الأردن يفتتح المرحلة الأولى من مشروع تحلية مياه العقبة",
        published="2025-03-12",
        source="صحيفة الأفق",
        url="https://www.alofoq-news.example/news/2025/ar-desalination",
        author="ليلى حداد",
        language="ar",
        date_from="file",
    )
    assert _read("en-port-strike.html").meta.as_dict() == {
        "title": "Port workers end three-day strike after pay deal",
        "published": "2025-06-18",
        "source": "The Harbour Times",
        "url": "https://www.harbourtimes.example/news/2025/en-port-strike",
        "author": "Daniel Okafor",
        "language": "en",
        "date_from": "file",
    }


def test_json_ld_fills_in_what_the_meta_tags_leave_out():
    page = b"""<html><head><script type="application/ld+json">
    {"@graph": [{"@type": "WebSite"}, {"@type": ["NewsArticle"], "headline": "Bridge opens",
     "datePublished": "2024-02-29T10:00:00Z", "author": [{"name": "A. Writer"}, "B. Other"],
     "publisher": {"name": "Daily Example"}, "mainEntityOfPage": {"@id": "https://x.example/b"}}]}
    </script></head><body><article><h1>Bridge opens</h1><p>The new bridge over the river
    opened to traffic on Thursday morning after four years of building work.</p>
    <p>Officials said it would halve journey times between the two towns.</p></article>
    </body></html>"""
    meta = read_article("bridge.html", page).meta
    assert (meta.title, meta.published) == ("Bridge opens", "2024-02-29")
    assert (meta.source, meta.author) == ("Daily Example", "A. Writer, B. Other")
    assert (meta.url, meta.language) == ("https://x.example/b", "en")


def test_word_and_pdf_metadata():
    assert _read("ar-desalination.docx").meta == ArticleMeta(
        title="الأردن يفتتح المرحلة الأولى من مشروع تحلية مياه العقبة",
        author="ليلى حداد",
        language="ar",
    )
    # Chromium's /Title is the page's <title>, with the site's name after a bar: the
    # printed headline shows where the title ends, and the rest is the outlet. Its
    # /CreationDate is the print time, so the date is left to the text.
    assert _read("en-port-strike.pdf").meta == ArticleMeta(
        title="Port workers end three-day strike after pay deal",
        source="The Harbour Times",
        language="en",
    )


@pytest.mark.parametrize(
    ("info_title", "want"),
    [
        ("Bridge opens | Daily Example", ("Bridge opens", "Daily Example")),
        ("Bridge opens - Daily Example", ("Bridge opens", "Daily Example")),
        ("Bridge opens — Daily Example", ("Bridge opens", "Daily Example")),
        ("Bridge opens | Daily Example: news, sport, weather and more", ("Bridge opens", None)),
        ("Bridge opens | The Daily Example News of the Valley", ("Bridge opens", None)),
        ("Bridge opens: what it means", ("Bridge opens", None)),  # no separator
        ("Bridge opens", ("Bridge opens", None)),
        ("Tunnel closes | Daily Example", ("Tunnel closes | Daily Example", None)),  # not printed
        (None, (None, None)),
    ],
)
def test_a_printed_pages_title_gives_the_outlet_after_the_headline(info_title, want):
    assert title_and_source(info_title, "Bridge opens\n\nThe new bridge opened.") == want


DATED_FIXTURES = [
    ("ar-desalination.pdf", date(2025, 3, 12), "صحيفة الأفق"),
    ("ar-central-bank.pdf", date(2025, 11, 6), "المرصد الاقتصادي"),
    ("en-port-strike.pdf", date(2025, 6, 18), "The Harbour Times"),
    ("en-flood-warning.pdf", date(2025, 1, 27), "Northern Ledger"),
    ("ar-desalination.html", date(2025, 3, 12), "صحيفة الأفق"),
    ("ar-central-bank.html", date(2025, 11, 6), "المرصد الاقتصادي"),
    ("en-port-strike.html", date(2025, 6, 18), "The Harbour Times"),
    ("en-flood-warning.html", date(2025, 1, 27), "Northern Ledger"),
    ("ar-desalination.docx", date(2025, 3, 12), None),  # Word has no outlet property
    ("en-port-strike.docx", date(2025, 6, 18), None),
    ("ar-locusts.cp1256.txt", date(2025, 2, 3), None),
    ("ar-locusts.iso8859-6.txt", date(2025, 2, 3), None),
    ("ar-locusts.utf16.txt", date(2025, 2, 3), None),
]


@pytest.mark.parametrize(("name", "published", "source"), DATED_FIXTURES)
def test_every_fixture_gives_its_publication_date_and_outlet(name, published, source):
    raw = (FORMATS / name).read_bytes()
    meta = read_article(name, raw, find_date=_text_date).meta
    assert (meta.published, meta.source) == (published.isoformat(), source)
    if not name.endswith(".html"):  # a page's meta tags date it; the others, their text
        assert read_article(name, raw).meta.published is None


def test_fixtures_dropped_into_seeds_load_with_dates_and_outlets(tmp_path):
    names = [n for n, _, _ in DATED_FIXTURES if not n.endswith((".iso8859-6.txt", "utf16.txt"))]
    for name in names:
        shutil.copy(FORMATS / name, tmp_path / name)
    result = load_articles(tmp_path, find_date=_text_date)
    got = {a.path.name: (a.meta.published, a.meta.source) for a in result.articles}
    want = {n: (d.isoformat(), s) for n, d, s in DATED_FIXTURES if n in names}
    assert got == want


def test_front_matter_is_metadata_and_not_text():
    extracted = _read("en-flood-warning.md")
    assert extracted.text == _body("en-flood-warning")
    assert extracted.meta == ArticleMeta(
        title="River levels fall but flood warnings stay in place across the valley",
        published="2025-01-27",
        source="Northern Ledger",
        url="https://www.northernledger.example/news/2025/en-flood-warning",
        author="Mei Lin Carter",
        language="en",
        date_from="file",
    )
    ruled = "---\nnot: front matter\nJust a line between rules\n---\nText."
    assert split_front_matter(ruled) == (ruled, ArticleMeta())


def test_the_title_and_meta_reach_the_article(tmp_path):
    shutil.copy(FORMATS / "ar-central-bank.html", tmp_path / "bank.html")
    (tmp_path / "plain.txt").write_text("Headline here\nBody.", encoding="utf-8")
    bank, plain = load_articles(tmp_path).articles
    assert bank.title == "البنك المركزي يثبت أسعار الفائدة للمرة الثالثة على التوالي"
    assert bank.meta.published == "2025-11-06" and bank.meta.source == "المرصد الاقتصادي"
    assert plain.title == "Headline here" and plain.meta.language == "en"
    assert Article("a", "t", "x", tmp_path).meta == ArticleMeta()


def test_a_text_date_finder_is_asked_only_when_the_file_gives_no_date(tmp_path):
    asked = []

    def finder(text: str) -> date | None:
        asked.append(text[:10])
        return date(2025, 3, 12)

    docx_meta = read_article("a.docx", (FORMATS / "ar-desalination.docx").read_bytes(), finder)
    assert docx_meta.meta.published == "2025-03-12" and len(asked) == 1
    html = read_article("a.html", (FORMATS / "en-port-strike.html").read_bytes(), finder)
    assert html.meta.published == "2025-06-18" and len(asked) == 1
    shutil.copy(FORMATS / "en-port-strike.pdf", tmp_path / "strike.pdf")
    assert load_articles(tmp_path, find_date=finder).articles[0].meta.published == "2025-03-12"


def test_iso_dates():
    assert iso_date("2025-03-12T23:30:00-05:00") == "2025-03-12"  # the outlet's own day
    assert iso_date("2024-02-29") == "2024-02-29"
    assert iso_date("2023-02-29") is None
    assert iso_date("12 March 2025") is None
    assert iso_date("20250312") == "2025-03-12"  # ISO 8601's basic format
    assert iso_date(None) is None
