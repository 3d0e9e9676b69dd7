"""The on-disk index and how it follows the seeds folder.

Layout: ``index/CURRENT`` names a store folder (``index/s-…/``: catalog, dense segments,
keyword index; see ``rag.store.store``). An update adds a segment to the current store;
a rebuild (another embedder or chunking, or damage) writes a new store folder and then
replaces ``CURRENT`` atomically. Either way a crash leaves the last complete state in
use, and embedded batches are staged so the next run resumes (``rag.store.staging``).
A build that commits a new store in several steps (on Ray) names it in ``index/BUILDING``
until it is complete, so that a rerun resumes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
from filelock import FileLock

from rag.errors import EmptyCorpusError, IndexCorruptError, OldIndexFormatError
from rag.ingest.articles import ARTICLE_SUFFIXES, Article, load_articles
from rag.ingest.chunking import Passage, chunk_article
from rag.ingest.dates import publication_date
from rag.ingest.extraction_cache import ExtractionCache
from rag.ingest.formats import ArticleMeta
from rag.models.embeddings import Embedder
from rag.store.catalog import IndexedArticle, stored_meta
from rag.store.staging import Staging
from rag.store.store import SegmentStore

_CURRENT = "CURRENT"
_BUILDING = "BUILDING"
_STORE_NAME = re.compile(r"s-[0-9A-Za-z-]+")
_OLD_NAME = re.compile(r"v-[0-9A-Za-z-]+")


@dataclass
class UpdateReport:
    """What an index update did, for the user."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rebuilt_reason: str | None = None
    migrated: bool = False
    n_passages: int = 0
    embedded_passages: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True if the index on disk was (re)written."""
        return bool(
            self.added or self.modified or self.deleted or self.rebuilt_reason or self.migrated
        )

    def summary(self) -> str:
        """One line per kind of change."""

        def listed(ids: list[str], most: int = 12) -> str:
            more = f" and {len(ids) - most} more" if len(ids) > most else ""
            return ", ".join(ids[:most]) + more

        lines = [
            f"{label}: {listed(ids)}"
            for label, ids in (
                ("Added", self.added),
                ("Modified", self.modified),
                ("Deleted", self.deleted),
            )
            if ids
        ]
        if self.rebuilt_reason:
            lines.insert(0, f"Rebuilt from scratch: {self.rebuilt_reason}")
        if self.migrated:
            lines.insert(0, "Converted the index from the old format (nothing re-embedded).")
        if not self.changed:
            lines.append(f"Index up to date ({len(self.unchanged)} articles).")
        else:
            lines.append(
                f"{self.n_passages} passages in the index; {self.embedded_passages} embedded "
                f"in {self.seconds:.1f}s."
            )
        lines += [f"Warning: {p}" for p in self.problems]
        return "\n".join(lines)


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _current_store(index_dir: Path) -> Path | None:
    pointer = index_dir / _CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(errors="replace").strip()
    if _OLD_NAME.fullmatch(name):
        raise OldIndexFormatError(f"The index in {index_dir} has an old format.")
    if not _STORE_NAME.fullmatch(name):
        raise IndexCorruptError(f"The index in {index_dir} is damaged ({_CURRENT} is not valid).")
    return index_dir / name


def load_index(index_dir: Path, loaded: SegmentStore | None = None) -> SegmentStore | None:
    """The current index, None if there is none, IndexCorruptError if it is damaged.

    ``loaded``, if it is still the current store, is refreshed instead of opened again.
    """
    path = _current_store(index_dir)
    if path is None:
        return None
    if loaded is not None and loaded.path == path:
        loaded.refresh()
        return loaded
    if not path.is_dir():
        raise IndexCorruptError(f"The index in {index_dir} is damaged ({path.name} is missing).")
    return SegmentStore(path)


def _point_at(index_dir: Path, store: Path) -> None:
    pointer_tmp = index_dir / f"{_CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
    _fsync_write(pointer_tmp, store.name.encode())
    os.replace(pointer_tmp, index_dir / _CURRENT)


def _remove_other_stores(index_dir: Path, keep: Path) -> None:
    for path in index_dir.iterdir():
        stale = (path.name.startswith(("s-", "v-")) and path != keep) or path.name.endswith(".tmp")
        if stale:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()


def _migrate(index_dir: Path, model_id: str, dim: int, chunking: dict[str, int]) -> bool:
    """Convert an index of the old format (one folder: manifest, passages, flat FAISS)
    into a store, reusing its vectors, if it was built with this embedder and chunking."""
    pointer = index_dir / _CURRENT
    name = pointer.read_text(errors="replace").strip() if pointer.is_file() else ""
    if not _OLD_NAME.fullmatch(name):
        return False
    old = index_dir / name
    try:
        manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
        if manifest["embedder"] != model_id or manifest["chunking"] != chunking:
            return False
        lines = (old / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        passages = [_old_passage(line) for line in lines if line.strip()]
        flat = faiss.read_index(str(old / "faiss.index"))
        vectors = flat.reconstruct_n(0, flat.ntotal)
        articles = {doc: IndexedArticle(**a) for doc, a in manifest["articles"].items()}
        if len(passages) != len(vectors) or sum(a.n_passages for a in articles.values()) != len(
            passages
        ):
            return False
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return False
    store = new_store(index_dir, model_id, dim, chunking)
    store.add(articles, passages, vectors)
    _point_at(index_dir, store.path)
    store.close()
    return True


def _old_passage(line: str) -> Passage:
    data = json.loads(line)
    data["sentences"] = tuple(tuple(s) for s in data["sentences"])
    return Passage(**data)


def new_store(index_dir: Path, model_id: str, dim: int, chunking: dict[str, int]) -> SegmentStore:
    """An empty store in a new folder of ``index_dir`` (not current until ``finish_update``)."""
    path = index_dir / f"s-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    return SegmentStore.create(path, model_id, dim, chunking)


def building_store(
    index_dir: Path, model_id: str, dim: int, chunking: dict[str, int]
) -> SegmentStore:
    """A new store to fill in several commits before ``finish_update`` makes it current:
    the one an interrupted build left for this embedder and chunking, else an empty one."""
    pointer = index_dir / _BUILDING
    name = pointer.read_text(errors="replace").strip() if pointer.is_file() else ""
    if _STORE_NAME.fullmatch(name) and (index_dir / name).is_dir():
        with contextlib.suppress(IndexCorruptError):
            store = SegmentStore(index_dir / name)
            if stale_reason(store, model_id, chunking) is None:
                return store
            store.close()
    store = new_store(index_dir, model_id, dim, chunking)
    pointer_tmp = index_dir / f"{_BUILDING}.{uuid.uuid4().hex[:8]}.tmp"
    _fsync_write(pointer_tmp, store.path.name.encode())
    os.replace(pointer_tmp, pointer)
    return store


def usable_store(
    index_dir: Path, model_id: str, dim: int, chunking: dict[str, int], report: UpdateReport
) -> SegmentStore | None:
    """The current store if it serves this embedder and chunking (an old-format index is
    converted first), else None, with the reason for a rebuild in ``report``."""
    report.migrated = _migrate(index_dir, model_id, dim, chunking)
    try:
        previous = load_index(index_dir)
    except IndexCorruptError as exc:
        report.rebuilt_reason = str(exc)
        return None
    if previous is None:
        return None
    reason = stale_reason(previous, model_id, chunking)
    if reason:
        report.rebuilt_reason = reason
        previous.close()
        return None
    return previous


def chunking_settings(max_chars: int, overlap_sentences: int) -> dict[str, int]:
    """How passages were cut, as recorded in the manifest."""
    return {"max_chars": max_chars, "overlap_sentences": overlap_sentences}


def stale_reason(index: SegmentStore, embedder_id: str, chunking: dict[str, int]) -> str | None:
    """Why ``index`` cannot serve this embedder and chunking, or None if it can."""
    if index.manifest.embedder != embedder_id:
        return f"the index was built with embedder {index.manifest.embedder}, now {embedder_id}"
    if index.manifest.chunking != chunking:
        return f"chunking changed from {index.manifest.chunking} to {chunking}"
    return None


def _passages_to_embed(
    articles: list[Article], max_chars: int, overlap_sentences: int
) -> tuple[list[Passage], list[str], list[int]]:
    passages, hashes, seqs = [], [], []
    for article in articles:
        chunks = chunk_article(article, max_chars, overlap_sentences)
        passages += chunks
        hashes += [article.content_hash] * len(chunks)
        seqs += range(len(chunks))
    return passages, hashes, seqs


def update_index(
    seeds_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    max_chars: int,
    overlap_sentences: int,
    on_progress: Callable[[int, int], None] | None = None,
) -> UpdateReport:
    """Bring the index in line with ``seeds_dir``, embedding only new or changed articles.

    ``on_progress(done, total)`` is called as passages are embedded.
    """
    started = time.perf_counter()
    cache = ExtractionCache(index_dir / "extracted")
    loaded = load_articles(seeds_dir, publication_date, cache)
    report = UpdateReport(problems=loaded.problems)
    if not loaded.articles:
        detail = "; ".join(loaded.problems) or "the folder is empty"
        raise EmptyCorpusError(
            f"No readable articles in {seeds_dir} ({detail}). "
            f"Add {', '.join(ARTICLE_SUFFIXES)} files and retry."
        )
    chunking = chunking_settings(max_chars, overlap_sentences)
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".lock")):
        store = usable_store(index_dir, embedder.model_id, embedder.dim, chunking, report)
        old_articles = store.articles() if store else {}
        to_embed: list[Article] = []
        for article in loaded.articles:
            before = old_articles.get(article.doc_id)
            if before is not None and before.content_hash == article.content_hash:
                report.unchanged.append(article.doc_id)
            else:
                (report.modified if before else report.added).append(article.doc_id)
                to_embed.append(article)
        report.deleted = sorted(set(old_articles) - {a.doc_id for a in loaded.articles})
        cache.prune()
        if store is not None:
            unchanged = set(report.unchanged)
            metas = {a.doc_id: a.meta for a in loaded.articles if a.doc_id in unchanged}
            refresh_meta(store, old_articles, metas)
        if store is not None and not (report.added or report.modified or report.deleted):
            _remove_other_stores(index_dir, keep=store.path)
            report.n_passages = store.n_passages
            report.seconds = time.perf_counter() - started
            store.close()
            return report

        passages, hashes, seqs = _passages_to_embed(to_embed, max_chars, overlap_sentences)
        staging = Staging(index_dir / "staging.sqlite", embedder, chunking)
        vectors = staging.embed(passages, hashes, seqs, on_progress)
        fresh = store is None
        if fresh:
            store = new_store(index_dir, embedder.model_id, embedder.dim, chunking)
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        counts: dict[str, int] = {}
        for passage in passages:
            counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
        articles = {
            a.doc_id: IndexedArticle(
                a.title, a.content_hash, counts.get(a.doc_id, 0), now, stored_meta(a.meta)
            )
            for a in to_embed
        }
        store.add(articles, passages, vectors, deleted=report.deleted)
        finish_update(index_dir, store, fresh)
        staging.discard()
        report.n_passages = store.n_passages
        report.embedded_passages = len(passages)
        report.seconds = time.perf_counter() - started
        store.close()
        return report


def refresh_meta(
    store: SegmentStore, old: dict[str, IndexedArticle], metas: dict[str, ArticleMeta]
) -> None:
    """Store what the files say now of articles whose text is unchanged (``metas``), where
    it differs from what ``old`` records."""
    metas = {doc: stored_meta(meta) for doc, meta in metas.items()}
    store.set_meta({doc: meta for doc, meta in metas.items() if old[doc].meta != meta})


def finish_update(index_dir: Path, store: SegmentStore, fresh: bool) -> None:
    """After an update's writes (the caller holds the index lock): merge segments if due,
    make a ``fresh`` store current, and delete what it replaced."""
    store.merge_if_due()
    if fresh:
        _point_at(index_dir, store.path)
    (index_dir / _BUILDING).unlink(missing_ok=True)
    _remove_other_stores(index_dir, keep=store.path)
    store.remove_unregistered()


def compact_index(index_dir: Path) -> bool:
    """Merge the current index's segments into one and drop deleted passages."""
    with FileLock(str(index_dir / ".lock")):
        store = load_index(index_dir)
        if store is None:
            return False
        try:
            return store.compact()
        finally:
            store.close()
