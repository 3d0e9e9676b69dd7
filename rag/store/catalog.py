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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.chunking import Passage

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, content_hash TEXT NOT NULL,
    n_passages INTEGER NOT NULL, indexed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS passages (
    pid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, passage_id TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
    sentences TEXT NOT NULL, segment TEXT NOT NULL, live INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE INDEX IF NOT EXISTS passages_dead ON passages (live) WHERE live = 0;
"""


@dataclass
class IndexedArticle:
    """What the catalog records of one article."""

    title: str
    content_hash: str
    n_passages: int
    indexed_at: str


@dataclass(frozen=True)
class Segment:
    """A folder of vectors registered in the catalog: ``flat`` (exact) or ``ivf``."""

    name: str
    kind: str
    n: int


def _passage(row: sqlite3.Row) -> Passage:
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
                r["title"], r["content_hash"], r["n_passages"], r["indexed_at"]
            )
            for r in rows
        }

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
            found.update({r["pid"]: _passage(r) for r in self._query(sql, chunk)})
        return found

    def doc_passages(self, doc_id: str) -> list[Passage]:
        """The live passages of one article, in order."""
        sql = "SELECT * FROM passages WHERE live = 1 AND doc_id = ? ORDER BY pid"
        return [_passage(r) for r in self._query(sql, (doc_id,))]

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
