"""The catalog: passages, articles, segments and settings in one SQLite file.

It is the store's source of truth. A segment's files are written before the transaction
that registers it, so a crash at any point leaves the last committed state; passages of a
deleted or changed article are marked dead (tombstones) until a compaction drops them.
Passages are read on demand, never held as one list.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.ingest.chunking import Passage
from rag.ingest.formats.meta import ArticleMeta

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, content_hash TEXT NOT NULL,
    n_passages INTEGER NOT NULL, indexed_at TEXT NOT NULL,
    published TEXT, source TEXT, url TEXT, author TEXT, language TEXT, date_from TEXT);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published);
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS passages (
    pid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, passage_id TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    sentences TEXT NOT NULL, segment TEXT NOT NULL, live INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE INDEX IF NOT EXISTS passages_dead ON passages (live) WHERE live = 0;
"""


# What the catalog keeps of an article's metadata (its title has a column of its own).
META_COLUMNS = ("published", "source", "url", "author", "language", "date_from")


@dataclass
class IndexedArticle:
    """What the catalog records of one article."""

    title: str
    content_hash: str
    n_passages: int
    indexed_at: str
    # Title left out (see ``stored_meta``).
    meta: ArticleMeta = field(default_factory=ArticleMeta)

    def row(self, doc_id: str) -> tuple:
        """The article's row of the articles table."""
        meta = [getattr(self.meta, c) for c in META_COLUMNS]
        return (doc_id, self.title, self.content_hash, self.n_passages, self.indexed_at, *meta)


def _meta(row: sqlite3.Row) -> ArticleMeta:
    return ArticleMeta(**{c: row[c] for c in META_COLUMNS})


def stored_meta(meta: ArticleMeta) -> ArticleMeta:
    """What the catalog keeps of ``meta``: all but the title, which has a column of its own."""
    return replace(meta, title=None)


@dataclass(frozen=True)
class Segment:
    """A folder of vectors registered in the catalog: ``flat`` (exact) or ``ivf``."""

    name: str
    kind: str
    n: int


def passage_from_row(row: Mapping[str, object] | sqlite3.Row) -> Passage:
    """A passage from a row holding its fields (``sentences`` as JSON), as the passages
    table and the rows of a Ray build do."""
    return Passage(
        doc_id=row["doc_id"],
        passage_id=row["passage_id"],
        title=row["title"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
        sentences=tuple(tuple(s) for s in json.loads(row["sentences"])),
    )


class Catalog:
    """One SQLite connection (WAL: readers never wait for the writer), shared by threads."""

    def __init__(self, path: Path, create: bool = False) -> None:
        if not create and not path.is_file():
            raise FileNotFoundError(path)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        if create:
            self._db.executescript(SCHEMA)
        else:
            self._add_meta_columns()

    def _add_meta_columns(self) -> None:
        """Give a catalog written before articles had metadata its columns (left empty
        until the next update fills them)."""
        have = {r["name"] for r in self._query("PRAGMA table_info(articles)")}
        missing = [c for c in META_COLUMNS if c not in have]
        if missing:
            with self.transaction() as db:
                for column in missing:
                    db.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
                db.execute("CREATE INDEX IF NOT EXISTS articles_published ON articles (published)")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All writes inside commit together, or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # Settings and version -----------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Every key of the meta table."""
        return {r["key"]: r["value"] for r in self._query("SELECT key, value FROM meta")}

    @staticmethod
    def set_meta(db: sqlite3.Connection, **values: object) -> None:
        """Set meta keys inside a transaction."""
        db.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, str(v)) for k, v in values.items()],
        )

    def generation(self) -> int:
        """Raised by one at every commit: a reader reloads when it has moved."""
        rows = self._query("SELECT value FROM meta WHERE key = 'generation'")
        return int(rows[0]["value"]) if rows else 0

    # Articles, segments, passages -----------------------------------------------

    def articles(self) -> dict[str, IndexedArticle]:
        """Every indexed article by id, in id order."""
        rows = self._query("SELECT * FROM articles ORDER BY doc_id")
        return {
            r["doc_id"]: IndexedArticle(
                r["title"], r["content_hash"], r["n_passages"], r["indexed_at"], _meta(r)
            )
            for r in rows
        }

    def article_meta(self, doc_ids: Iterable[str]) -> dict[str, ArticleMeta]:
        """The metadata of the articles among ``doc_ids``."""
        wanted = sorted(set(doc_ids))
        marks = ",".join("?" * len(wanted))
        rows = self._query(f"SELECT * FROM articles WHERE doc_id IN ({marks})", wanted)
        return {r["doc_id"]: _meta(r) for r in rows}

    def newest_date(self) -> str | None:
        """The latest publication date of any article (ISO), or None if none has one."""
        return self._query("SELECT max(published) AS d FROM articles")[0]["d"]

    def sources(self) -> list[str]:
        """Every outlet an article names, sorted."""
        sql = "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source"
        return [r["source"] for r in self._query(sql)]

    def pids_published(self, since: str | None, until: str | None, source: str | None) -> list[int]:
        """Live passages of the articles published from ``since`` to ``until`` (ISO dates,
        both included; an undated article is never in a range) by ``source`` (any case)."""
        where, args = ["p.live = 1"], []
        if since:
            where.append("a.published >= ?")
            args.append(since)
        if until:
            where.append("a.published <= ?")
            args.append(until)
        if source:
            where.append("lower(a.source) = lower(?)")
            args.append(source)
        sql = (
            "SELECT p.pid FROM passages p JOIN articles a ON a.doc_id = p.doc_id "
            f"WHERE {' AND '.join(where)} ORDER BY p.pid"
        )
        return [r["pid"] for r in self._query(sql, args)]

    @staticmethod
    def set_article_meta(db: sqlite3.Connection, metas: dict[str, ArticleMeta]) -> None:
        """Replace the metadata of indexed articles, inside a transaction."""
        sets = ", ".join(f"{c} = ?" for c in META_COLUMNS)
        db.executemany(
            f"UPDATE articles SET {sets} WHERE doc_id = ?",
            [(*(getattr(m, c) for c in META_COLUMNS), doc) for doc, m in metas.items()],
        )

    def segments(self) -> list[Segment]:
        """Every registered segment."""
        return [
            Segment(r["name"], r["kind"], r["n"]) for r in self._query("SELECT * FROM segments")
        ]

    def passages(self, pids: Iterable[int]) -> dict[int, Passage]:
        """The live passages among ``pids``."""
        wanted = [int(p) for p in pids]
        found: dict[int, Passage] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT * FROM passages WHERE live = 1 AND pid IN ({marks})"
            found.update({r["pid"]: passage_from_row(r) for r in self._query(sql, chunk)})
        return found

    def doc_passages(self, doc_id: str) -> list[Passage]:
        """The live passages of one article, in order."""
        sql = "SELECT * FROM passages WHERE live = 1 AND doc_id = ? ORDER BY pid"
        return [passage_from_row(r) for r in self._query(sql, (doc_id,))]

    def dead_pids(self) -> list[int]:
        """Passages marked dead and not yet compacted away."""
        return [r["pid"] for r in self._query("SELECT pid FROM passages WHERE live = 0")]

    def live_count(self) -> int:
        """How many passages are live."""
        return self._query("SELECT count(*) AS n FROM passages WHERE live = 1")[0]["n"]

    def next_pid(self) -> int:
        """The id the next added passage gets: ids are never reused."""
        return int(self.meta().get("next_pid", 0))

    def live_pids_of(self, segment: str) -> list[int]:
        """Live passage ids of one segment, ascending."""
        sql = "SELECT pid FROM passages WHERE live = 1 AND segment = ? ORDER BY pid"
        return [r["pid"] for r in self._query(sql, (segment,))]

    @staticmethod
    def insert_passages(
        db: sqlite3.Connection, pids: Sequence[int], passages: Sequence[Passage], segment: str
    ) -> None:
        """Register passages of a new segment, inside a transaction."""
        db.executemany(
            "INSERT INTO passages (pid, doc_id, passage_id, title, text, start, end, sentences,"
            " segment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pid,
                    p.doc_id,
                    p.passage_id,
                    p.title,
                    p.text,
                    p.start,
                    p.end,
                    json.dumps(p.sentences),
                    segment,
                )
                for pid, p in zip(pids, passages, strict=True)
            ],
        )
