"""The passage store: catalog (SQLite), dense segments (FAISS) and keyword search (tantivy).

``PassageStore`` is the interface retrieval uses; ``SegmentStore`` implements it on one
machine. Adding articles writes one new segment; deleting or changing one marks its
passages dead. ``compact`` merges segments and drops the dead.

Write order, so that a crash at any point leaves the last committed state serving: new
segment files and keyword entries first (invisible until registered), then the catalog
transaction that registers them, then the removal of what it replaced. A reader ignores
keyword entries the catalog does not list as live.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import TypeAdapter

from rag.errors import IndexCorruptError
from rag.ingest.chunking import Passage
from rag.ingest.formats.meta import ArticleMeta
from rag.store.catalog import META_COLUMNS, Catalog, IndexedArticle, Segment
from rag.store.dense import DenseSegment, write_segment
from rag.store.keyword import KeywordStore

FORMAT_VERSION = 2
# Candidates each side of hybrid search brings to the fusion. On ARCD (895 passages)
# recall@1 is 0.805 with 50, 0.816 with 200 and 0.823 when every passage is scored
# (before segments, 0.812); recall@5 and @10 do not move.
CANDIDATES = 200
# Flat segments merged together once there are more than this many.
MAX_FLAT_SEGMENTS = 8
# Archives up to this many passages are kept as one segment (merging costs little).
SMALL_ARCHIVE = 20_000

# The only segment folders the catalog may name (as `CURRENT` may only name a store folder).
_SEGMENT_NAME = re.compile(r"seg-[0-9a-f]{12}")
# Keyword hits fetched beyond the limit to make up for dead passages among them.
_MOST_DEAD_SKIPPED = 1000

Found = tuple[Passage, float, float]  # passage, cosine similarity, rank key
Ranked = tuple[int, float, float]  # passage id, cosine similarity, rank key


@dataclass
class Manifest:
    """What the store was built with: another embedder or chunking means a rebuild."""

    embedder: str
    dim: int
    chunking: dict[str, int]
    format_version: int = FORMAT_VERSION
    built_at: str = ""


# Any other shape of the stored settings is damage (pydantic's ValidationError is a ValueError).
_MANIFEST_SCHEMA = TypeAdapter(Manifest)


class PassageReader(Protocol):
    """What retrieval needs of a store; the served shards (``rag.store.served``) implement
    it too."""

    manifest: Manifest

    def search(self, query: np.ndarray, k: int, among: Sequence[int] | None = None) -> list[Found]:
        """The ``k`` passages nearest to a normalized query vector, best first (only
        passages ``among`` these ids, when given)."""
        ...

    def hybrid_search(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        keyword_weight: float,
        among: Sequence[int] | None = None,
    ) -> list[Found]:
        """The ``k`` best passages by cosine + ``keyword_weight`` * scaled BM25."""
        ...

    def pids_published(self, since: str | None, until: str | None, source: str | None) -> list[int]:
        """Passages of the articles published in a range of dates, by a source."""
        ...

    def article_meta(self, doc_ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """The metadata of these articles."""
        ...

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        """Live passages by id."""
        ...

    def articles(self) -> dict[str, IndexedArticle]:
        """Every indexed article by id."""
        ...

    def newest_date(self) -> str | None:
        """The latest publication date of any article, or None."""
        ...

    def sources(self) -> list[str]:
        """The outlets the articles name."""
        ...


class PassageStore(PassageReader, Protocol):
    """A store retrieval reads and an update writes."""

    def add(
        self,
        articles: dict[str, IndexedArticle],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        deleted: Sequence[str] = (),
    ) -> None:
        """Add (or replace) articles with their passages and vectors; delete others."""
        ...


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class SegmentStore:
    """A store in one folder, shared by threads; picks up other processes' commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.catalog = Catalog(path / "catalog.sqlite")
            meta = self.catalog.meta()
            self.manifest = _MANIFEST_SCHEMA.validate_python(
                {**meta, "chunking": json.loads(meta["chunking"])}
            )
            self.keywords = KeywordStore(path / "keyword")
            self._segments: dict[str, DenseSegment] = {}
            self._generation = -1
            self.refresh()
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, sqlite3.Error) as exc:
            raise IndexCorruptError(f"The index in {path.parent} is damaged ({exc}).") from exc
        if self.manifest.format_version != FORMAT_VERSION:
            raise IndexCorruptError(f"The index in {path.parent} has an old format.")

    @classmethod
    def create(cls, path: Path, embedder: str, dim: int, chunking: dict[str, int]) -> SegmentStore:
        """An empty store in a new folder."""
        path.mkdir(parents=True)
        catalog = Catalog(path / "catalog.sqlite", create=True)
        with catalog.transaction() as db:
            Catalog.set_meta(
                db,
                embedder=embedder,
                dim=dim,
                chunking=json.dumps(chunking, sort_keys=True),
                format_version=FORMAT_VERSION,
                generation=0,
                next_pid=0,
                built_at=_now(),
            )
        catalog.close()
        return cls(path)

    def close(self) -> None:
        """Close the catalog."""
        self.catalog.close()

    # Reading ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Load what was committed since the last look (segments, dead passages)."""
        try:
            self._refresh()
        except (OSError, ValueError, RuntimeError, sqlite3.Error) as exc:
            raise IndexCorruptError(f"The index in {self.path.parent} is damaged ({exc}).") from exc

    def _refresh(self) -> None:
        generation = self.catalog.generation()
        if generation == self._generation:
            return
        registered = self.catalog.segments()
        for segment in registered:
            if not _SEGMENT_NAME.fullmatch(segment.name) or segment.kind not in ("flat", "ivf"):
                raise ValueError(f"the catalog names a segment {segment.name!r} ({segment.kind})")
        loaded = {
            s.name: self._segments.get(s.name) or DenseSegment(self.path / s.name, s.kind)
            for s in registered
        }
        for segment in registered:
            if len(loaded[segment.name]) != segment.n:
                raise ValueError(f"segment {segment.name} does not hold {segment.n} passages")
        self._segments = loaded
        self._dead = np.asarray(sorted(self.catalog.dead_pids()), dtype=np.int64)
        self._next_pid = self.catalog.next_pid()
        self.keywords.reload()
        self._generation = generation

    @property
    def n_passages(self) -> int:
        """Live passages."""
        return self.catalog.live_count()

    def segments(self) -> list[Segment]:
        """The registered segments."""
        return self.catalog.segments()

    def articles(self) -> dict[str, IndexedArticle]:
        """Every indexed article by id."""
        return self.catalog.articles()

    def dense_segments(self) -> list[DenseSegment]:
        """The loaded dense segments."""
        self.refresh()
        return list(self._segments.values())

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        """Live passages by id."""
        return self.catalog.passages(pids)

    def _live(self, segments: Sequence[DenseSegment]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and vectors of the live passages of ``segments``, in id order."""
        pids, vectors = [np.zeros(0, np.int64)], [np.zeros((0, self.manifest.dim), np.float32)]
        for segment in segments:
            live = np.isin(segment.pids, self._dead, invert=True)
            pids.append(segment.pids[live])
            vectors.append(np.asarray(segment.all_vectors()[np.flatnonzero(live)]))
        all_pids = np.concatenate(pids)
        order = np.argsort(all_pids)
        return all_pids[order], np.concatenate(vectors)[order]

    def dump(self) -> tuple[list[Passage], np.ndarray]:
        """Every live passage and its vector, in id order (to measure small corpora)."""
        self.refresh()
        pids, vectors = self._live(list(self._segments.values()))
        passages = self.passages(pids.tolist())
        return [passages[p] for p in pids.tolist()], vectors

    def _dense(
        self, query: np.ndarray, k: int, among: Sequence[int] | None = None
    ) -> dict[int, float]:
        if among is not None:  # exact, over the allowed passages only
            allowed = self._cosines(query, among)
            return dict(sorted(allowed.items(), key=lambda item: -item[1])[:k])
        found: dict[int, float] = {}
        for segment in self._segments.values():
            pids, scores = segment.search(query, k, self._dead)
            found.update(zip(pids.tolist(), scores.tolist(), strict=True))
        return dict(sorted(found.items(), key=lambda item: -item[1])[:k])

    def _keyword(
        self, query: str, limit: int, among: Sequence[int] | None = None
    ) -> dict[int, float]:
        dead = set(self._dead.tolist())
        found = self.keywords.search(query, limit + min(len(dead), _MOST_DEAD_SKIPPED), among)
        live = {p: s for p, s in found.items() if p not in dead and p < self._next_pid}
        return dict(sorted(live.items(), key=lambda item: -item[1])[:limit])

    def _cosines(self, query: np.ndarray, pids: Sequence[int]) -> dict[int, float]:
        wanted = np.asarray(sorted(pids), dtype=np.int64)
        found: dict[int, float] = {}
        for segment in self._segments.values():
            found.update(segment.cosines(query, wanted))
        return found

    def _with_passages(self, ranked: list[Ranked]) -> list[Found]:
        passages = self.passages([pid for pid, _, _ in ranked])
        return [(passages[pid], cos, key) for pid, cos, key in ranked if pid in passages]

    def search(self, query: np.ndarray, k: int, among: Sequence[int] | None = None) -> list[Found]:
        """The ``k`` passages nearest to a normalized query vector, best first, each with
        its cosine similarity as its score and as its rank key; only passages ``among``
        these ids when given (a date or source filter)."""
        return self._with_passages(self.ranked(query, k, among))

    def ranked(self, query: np.ndarray, k: int, among: Sequence[int] | None = None) -> list[Ranked]:
        """``search`` by passage id, without reading the passages."""
        self.refresh()
        dense = self._dense(np.asarray(query, dtype=np.float32), k, among)
        return [(pid, cos, cos) for pid, cos in dense.items()]

    def hybrid_search(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        keyword_weight: float,
        among: Sequence[int] | None = None,
    ) -> list[Found]:
        """``hybrid_ranked`` with the passages."""
        return self._with_passages(
            self.hybrid_ranked(query_vector, query, k, keyword_weight, among)
        )

    def hybrid_ranked(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        keyword_weight: float,
        among: Sequence[int] | None = None,
        best_bm25: float | None = None,
    ) -> list[Ranked]:
        """The ``k`` best passage ids by cosine + ``keyword_weight`` * BM25 / best BM25.

        Only the union of the dense and the keyword candidates is scored, each side
        filling in the other's score for it. Each passage comes with its cosine (what
        the refusal threshold reads) and the fused score it was ranked by. ``among``, when
        given, limits both sides to those passage ids. ``best_bm25``, when given, is the
        best BM25 to scale by instead of this store's own (a shard's: the best of all).
        """
        self.refresh()
        query_vector = np.asarray(query_vector, dtype=np.float32)
        wanted = max(k, CANDIDATES)
        cosine = self._dense(query_vector, wanted, among)
        bm25 = self._keyword(query, wanted, among)
        best = max(bm25.values(), default=0.0)
        if best > 0:
            missing = [p for p in cosine if p not in bm25]
            bm25.update(self._keyword(query, len(missing), among=missing))
            cosine.update(self._cosines(query_vector, [p for p in bm25 if p not in cosine]))
        best = best_bm25 or best
        scale = keyword_weight / best if best > 0 else 0.0
        fused = {p: c + scale * bm25.get(p, 0.0) for p, c in cosine.items()}
        ranked = sorted(fused, key=lambda p: -fused[p])[:k]
        return [(p, cosine[p], fused[p]) for p in ranked]

    def best_bm25(self, query: str, among: Sequence[int] | None = None) -> float:
        """The best BM25 score of a live passage (``among`` these ids) for ``query``."""
        return max(self._keyword(query, 1, among).values(), default=0.0)

    def pids_published(self, since: str | None, until: str | None, source: str | None) -> list[int]:
        """Live passages of the articles published from ``since`` to ``until`` (ISO dates,
        both included) by ``source``; an article without a date is in no range."""
        return self.catalog.pids_published(since, until, source)

    def article_meta(self, doc_ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """The metadata of these articles (title left out)."""
        return self.catalog.article_meta(doc_ids)

    def newest_date(self) -> str | None:
        """The latest publication date of any article, or None."""
        return self.catalog.newest_date()

    def sources(self) -> list[str]:
        """The outlets the articles name."""
        return self.catalog.sources()

    # Writing (the caller holds the index lock) ----------------------------------

    def add(
        self,
        articles: dict[str, IndexedArticle],
        passages: Sequence[Passage],
        vectors: np.ndarray,
        deleted: Sequence[str] = (),
    ) -> None:
        """Add articles with their passages and vectors, in one new segment. Earlier
        passages of these articles, and of the ``deleted`` ones, are marked dead."""
        first = self.catalog.next_pid()
        self.keywords.delete(from_pid=first)  # left by a write that never committed
        pids = np.arange(first, first + len(passages), dtype=np.int64)
        name = f"seg-{uuid.uuid4().hex[:12]}"
        kind = write_segment(self.path / name, pids, vectors) if len(passages) else None
        self.keywords.add(pids.tolist(), [p.text for p in passages])
        gone = [*articles, *deleted]
        with self.catalog.transaction() as db:
            marks = ",".join("?" * len(gone))
            dead = [
                r[0]
                for r in db.execute(
                    f"SELECT pid FROM passages WHERE live = 1 AND doc_id IN ({marks})", gone
                )
            ]
            db.execute(f"UPDATE passages SET live = 0 WHERE doc_id IN ({marks})", gone)
            db.execute(f"DELETE FROM articles WHERE doc_id IN ({marks})", gone)
            if kind is not None:
                Catalog.insert_passages(db, pids.tolist(), passages, name)
                db.execute("INSERT INTO segments VALUES (?, ?, ?)", (name, kind, len(passages)))
            columns = ("doc_id", "title", "content_hash", "n_passages", "indexed_at", *META_COLUMNS)
            db.executemany(
                f"INSERT INTO articles ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [a.row(doc) for doc, a in articles.items()],
            )
            self._bump(db, next_pid=first + len(passages))
        self.keywords.delete(pids=dead)
        self.refresh()

    def set_meta(self, metas: dict[str, ArticleMeta]) -> None:
        """Replace the metadata of indexed articles (their passages stay)."""
        if metas:
            with self.catalog.transaction() as db:
                Catalog.set_article_meta(db, metas)
                self._bump(db)

    def _bump(self, db: sqlite3.Connection, **values: object) -> None:
        Catalog.set_meta(db, generation=self.catalog.generation() + 1, built_at=_now(), **values)

    def compact(self, names: Sequence[str] | None = None) -> bool:
        """Merge segments (all of them by default) into one and drop dead passages.
        Returns False when there was nothing to do."""
        self.refresh()
        merged = [self._segments[n] for n in (names or list(self._segments))]
        dead = self._dead
        if len(merged) < 2 and not len(dead):
            return False
        self.keywords.delete(pids=dead.tolist())
        pids, vectors = self._live(merged)
        name = f"seg-{uuid.uuid4().hex[:12]}"
        kind = write_segment(self.path / name, pids, vectors) if len(pids) else None
        old = [s.folder.name for s in merged]
        with self.catalog.transaction() as db:
            marks = ",".join("?" * len(old))
            if kind is not None:
                db.execute("INSERT INTO segments VALUES (?, ?, ?)", (name, kind, len(pids)))
                db.execute(
                    f"UPDATE passages SET segment = ? WHERE live = 1 AND segment IN ({marks})",
                    [name, *old],
                )
            db.execute(f"DELETE FROM segments WHERE name IN ({marks})", old)
            db.execute(f"DELETE FROM passages WHERE live = 0 AND segment IN ({marks})", old)
            self._bump(db)
        self.refresh()
        self.remove_unregistered()
        return True

    def merge_if_due(self) -> bool:
        """Merge after an update: everything in a small archive, else the flat segments
        once there are too many of them."""
        segments = self.segments()
        if self.n_passages <= SMALL_ARCHIVE and (len(segments) > 1 or len(self._dead)):
            return self.compact()
        flat = [s.name for s in segments if s.kind == "flat"]
        if len(flat) > MAX_FLAT_SEGMENTS:
            return self.compact(flat)
        return False

    def remove_unregistered(self) -> None:
        """Delete segment folders the catalog does not list (left by a crash or a merge)."""
        registered = {s.name for s in self.segments()}
        for path in self.path.glob("seg-*"):
            if path.name not in registered:
                shutil.rmtree(path, ignore_errors=True)
