"""Article metadata in the catalog (and catalogs written before it) and the cache that
keeps a file from being extracted again while it does not change."""

from __future__ import annotations

import sqlite3

from rag.ingest import articles as articles_module
from rag.ingest.articles import load_articles
from rag.ingest.extraction_cache import ExtractionCache
from rag.ingest.formats.meta import ArticleMeta
from rag.store.catalog import META_COLUMNS, Catalog, IndexedArticle

OLD_ARTICLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, content_hash TEXT NOT NULL,
    n_passages INTEGER NOT NULL, indexed_at TEXT NOT NULL);
INSERT INTO articles VALUES ('old', 'An old article', 'h', 2, '2026-01-01T00:00:00');
"""


def test_a_catalog_from_before_metadata_gets_its_columns_and_keeps_its_articles(tmp_path):
    path = tmp_path / "catalog.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_ARTICLES)
    catalog = Catalog(path)
    old = catalog.articles()["old"]
    assert old.title == "An old article" and old.meta == ArticleMeta()
    meta = ArticleMeta(published="2025-03-12", source="Al-Ufuq", date_from="text")
    with catalog.transaction() as db:
        Catalog.set_article_meta(db, {"old": meta})
    assert catalog.articles()["old"].meta == meta
    assert catalog.newest_date() == "2025-03-12" and catalog.sources() == ["Al-Ufuq"]
    assert catalog.article_meta(["old", "absent"]) == {"old": meta}
    catalog.close()
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(articles)")}
    assert set(META_COLUMNS) <= columns


def test_an_indexed_article_row_holds_its_metadata():
    meta = ArticleMeta(published="2025-01-27", source="Northern Ledger", url="https://x.example")
    row = IndexedArticle("T", "h", 3, "now", meta).row("doc")
    assert row[:5] == ("doc", "T", "h", 3, "now")
    assert dict(zip(META_COLUMNS, row[5:], strict=True))["source"] == "Northern Ledger"


def test_a_file_is_extracted_again_only_when_it_changes(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.md").write_text("---\ndate: 2025-01-27\n---\nFloods in the north.\n")
    (seeds / "b.txt").write_text("Another article.\n")
    calls: list[str] = []
    real = articles_module.read_file

    def counting(name, raw):
        calls.append(name)
        return real(name, raw)

    monkeypatch.setattr(articles_module, "read_file", counting)
    cache = ExtractionCache(tmp_path / "extracted")
    first = load_articles(seeds, cache=cache)
    assert sorted(calls) == ["a.md", "b.txt"]
    assert first.articles[0].meta.published == "2025-01-27"
    assert first.articles[0].meta.date_from == "file"

    calls.clear()
    again = ExtractionCache(tmp_path / "extracted")
    second = load_articles(seeds, cache=again)
    assert calls == [] and second.articles == first.articles

    (seeds / "b.txt").write_text("Another article, corrected.\n")
    (seeds / "a.md").unlink()
    calls.clear()
    third = ExtractionCache(tmp_path / "extracted")
    assert [a.text for a in load_articles(seeds, cache=third).articles] == [
        "Another article, corrected.\n"
    ]
    assert calls == ["b.txt"]
    third.prune()  # only the current file's reading is left
    assert len(list((tmp_path / "extracted").iterdir())) == 1


def test_one_story_in_two_formats_gets_two_ids(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("story.md", "story.txt", "other.txt"):
        (seeds / name).write_text(f"The text of {name}.\n")
    ids = sorted(a.doc_id for a in load_articles(seeds).articles)
    assert ids == ["other", "story.md", "story.txt"]
