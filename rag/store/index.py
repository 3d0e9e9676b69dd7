"""The on-disk index: a FAISS inner-product index, a passage store and a manifest.

Layout: ``index/CURRENT`` names a version folder (``index/v-…/``) holding
``faiss.index``, ``passages.jsonl`` and ``manifest.json``. A build writes a new
version folder and then replaces ``CURRENT`` atomically, so a crash mid-build leaves
the previous index in use. Updates re-embed only articles whose content hash changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np
from filelock import FileLock
from pydantic import TypeAdapter

from rag.errors import EmptyCorpusError, IndexCorruptError
from rag.ingest.articles import Article, load_articles
from rag.ingest.chunking import Passage, chunk_article
from rag.models.embeddings import Embedder
from rag.store.keyword import KeywordIndex

FORMAT_VERSION = 1
_CURRENT = "CURRENT"
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z-]+")


@dataclass
class IndexedArticle:
    """What the manifest records of one article."""

    title: str
    content_hash: str
    n_passages: int
    indexed_at: str


@dataclass
class Manifest:
    """Everything needed to decide whether the index still matches seeds and settings."""

    embedder: str
    dim: int
    chunking: dict[str, int]
    articles: dict[str, IndexedArticle]
    format_version: int = FORMAT_VERSION
    built_at: str = ""

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse ``manifest.json``, raising pydantic's ValidationError (a ValueError) unless
        every field is there with its type: valid JSON of another shape is damage too."""
        return _MANIFEST_SCHEMA.validate_json(text)


_MANIFEST_SCHEMA = TypeAdapter(Manifest)


@dataclass
class Index:
    """A loaded index: passages in FAISS order and the FAISS index over their vectors."""

    manifest: Manifest
    passages: list[Passage]
    faiss_index: faiss.Index
    path: Path

    def search(self, query: np.ndarray, k: int) -> list[tuple[Passage, float, float]]:
        """The ``k`` passages nearest to a normalized query vector, best first.

        Each comes with its cosine similarity twice: as its score and as its rank key.
        """
        k = min(k, len(self.passages))
        if k <= 0:
            return []
        scores, ids = self.faiss_index.search(query.reshape(1, -1).astype(np.float32), k)
        found = zip(scores[0], ids[0], strict=True)
        return [(self.passages[i], float(s), float(s)) for s, i in found if i >= 0]

    def vectors(self) -> np.ndarray:
        """All stored vectors, shape (n_passages, dim)."""
        return self.faiss_index.reconstruct_n(0, self.faiss_index.ntotal)

    @cached_property
    def keywords(self) -> KeywordIndex:
        """BM25 over the passages, built on first use."""
        return KeywordIndex([p.text for p in self.passages])

    @cached_property
    def _matrix(self) -> np.ndarray:
        return self.vectors()

    def hybrid_search(
        self, query_vector: np.ndarray, query: str, k: int, keyword_weight: float
    ) -> list[tuple[Passage, float, float]]:
        """The ``k`` best passages by cosine + ``keyword_weight`` * scaled BM25.

        Each comes with its cosine similarity (what the refusal threshold reads) and the
        fused score it was ranked by.
        """
        cosine = self._matrix @ query_vector
        fused = cosine + keyword_weight * self.keywords.scores(query)
        best = np.argsort(-fused)[:k]
        return [(self.passages[i], float(cosine[i]), float(fused[i])) for i in best]


@dataclass
class UpdateReport:
    """What an index update did, for the user."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rebuilt_reason: str | None = None
    n_passages: int = 0
    embedded_passages: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """True if the index on disk was (re)written."""
        return bool(self.added or self.modified or self.deleted or self.rebuilt_reason)

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
        if not self.changed:
            lines.append(f"Index up to date ({len(self.unchanged)} articles).")
        else:
            lines.append(
                f"{self.n_passages} passages in the index; {self.embedded_passages} embedded "
                f"in {self.seconds:.1f}s."
            )
        lines += [f"Warning: {p}" for p in self.problems]
        return "\n".join(lines)


def _passage_to_json(p: Passage) -> str:
    data = asdict(p)
    data["sentences"] = [list(s) for s in p.sentences]
    return json.dumps(data, ensure_ascii=False)


def _passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    data["sentences"] = tuple(tuple(s) for s in data["sentences"])
    return Passage(**data)


def _current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / _CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(errors="replace").strip()
    if not _VERSION_NAME.fullmatch(name):
        raise IndexCorruptError(f"The index in {index_dir} is damaged ({_CURRENT} is not valid).")
    return index_dir / name


def load_index(index_dir: Path) -> Index | None:
    """The current index, None if there is none, IndexCorruptError if it is damaged."""
    version = _current_version(index_dir)
    if version is None:
        return None
    try:
        manifest = Manifest.from_json((version / "manifest.json").read_text())
        lines = (version / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        passages = [_passage_from_json(line) for line in lines if line.strip()]
        faiss_index = faiss.read_index(str(version / "faiss.index"))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorruptError(f"The index in {index_dir} is damaged ({exc}).") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(f"The index in {index_dir} has an old format.")
    expected = sum(a.n_passages for a in manifest.articles.values())
    if not (faiss_index.ntotal == len(passages) == expected) or faiss_index.d != manifest.dim:
        raise IndexCorruptError(
            f"The index in {index_dir} is inconsistent ({faiss_index.ntotal} vectors, "
            f"{len(passages)} passages, {expected} in the manifest)."
        )
    return Index(manifest=manifest, passages=passages, faiss_index=faiss_index, path=version)


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_version(
    index_dir: Path, manifest: Manifest, passages: list[Passage], vectors: np.ndarray
) -> Path:
    version = index_dir / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    version.mkdir(parents=True)
    flat = faiss.IndexFlatIP(manifest.dim)
    if len(vectors):
        flat.add(vectors.astype(np.float32))
    faiss.write_index(flat, str(version / "faiss.index"))
    _fsync_write(
        version / "passages.jsonl",
        "".join(_passage_to_json(p) + "\n" for p in passages).encode("utf-8"),
    )
    manifest_json = json.dumps(asdict(manifest), ensure_ascii=False, indent=1)
    _fsync_write(version / "manifest.json", manifest_json.encode("utf-8"))
    pointer_tmp = index_dir / f"{_CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
    _fsync_write(pointer_tmp, version.name.encode())
    os.replace(pointer_tmp, index_dir / _CURRENT)
    return version


def _remove_stale_versions(index_dir: Path, keep: Path) -> None:
    for path in index_dir.iterdir():
        stale_version = path.name.startswith("v-") and path != keep
        if stale_version or path.name.endswith(".tmp"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()


def _usable_previous(
    index_dir: Path, embedder: Embedder, chunking: dict[str, int], report: UpdateReport
) -> Index | None:
    try:
        previous = load_index(index_dir)
    except IndexCorruptError as exc:
        report.rebuilt_reason = str(exc)
        return None
    if previous is None:
        return None
    reason = stale_reason(previous, embedder.model_id, chunking)
    if reason:
        report.rebuilt_reason = reason
        return None
    return previous


def chunking_settings(max_chars: int, overlap_sentences: int) -> dict[str, int]:
    """How passages were cut, as recorded in the manifest."""
    return {"max_chars": max_chars, "overlap_sentences": overlap_sentences}


def stale_reason(index: Index, embedder_id: str, chunking: dict[str, int]) -> str | None:
    """Why ``index`` cannot serve this embedder and chunking, or None if it can."""
    if index.manifest.embedder != embedder_id:
        return f"the index was built with embedder {index.manifest.embedder}, now {embedder_id}"
    if index.manifest.chunking != chunking:
        return f"chunking changed from {index.manifest.chunking} to {chunking}"
    return None


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
    loaded = load_articles(seeds_dir)
    report = UpdateReport(problems=loaded.problems)
    if not loaded.articles:
        detail = "; ".join(loaded.problems) or "the folder is empty"
        raise EmptyCorpusError(
            f"No readable articles in {seeds_dir} ({detail}). Add UTF-8 .txt files and retry."
        )
    chunking = chunking_settings(max_chars, overlap_sentences)
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".lock")):
        previous = _usable_previous(index_dir, embedder, chunking, report)
        old_vectors: dict[str, np.ndarray] = {}
        old_passages: dict[str, list[Passage]] = {}
        if previous is not None:
            vectors = previous.vectors()
            for i, passage in enumerate(previous.passages):
                old_passages.setdefault(passage.doc_id, []).append(passage)
                old_vectors.setdefault(passage.doc_id, []).append(vectors[i])
        old_articles = previous.manifest.articles if previous else {}

        to_embed: list[Article] = []
        for article in loaded.articles:
            before = old_articles.get(article.doc_id)
            if before is not None and before.content_hash == article.content_hash:
                report.unchanged.append(article.doc_id)
            else:
                (report.modified if before else report.added).append(article.doc_id)
                to_embed.append(article)
        current_ids = {a.doc_id for a in loaded.articles}
        report.deleted = sorted(set(old_articles) - current_ids)
        if previous is not None and not report.changed:
            report.n_passages = len(previous.passages)
            report.seconds = time.perf_counter() - started
            return report

        new_passages = {a.doc_id: chunk_article(a, max_chars, overlap_sentences) for a in to_embed}
        flat = [p for doc in new_passages.values() for p in doc]
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if on_progress:
                on_progress(done, len(flat))

        new_vectors = embedder.embed_documents(
            [p.text for p in flat], [p.title for p in flat], on_progress=progress
        )
        by_doc_vectors: dict[str, list[np.ndarray]] = {}
        for passage, vector in zip(flat, new_vectors, strict=False):
            by_doc_vectors.setdefault(passage.doc_id, []).append(vector)

        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        passages: list[Passage] = []
        vector_rows: list[np.ndarray] = []
        articles: dict[str, IndexedArticle] = {}
        for article in loaded.articles:
            fresh = article.doc_id in new_passages
            doc_passages = new_passages[article.doc_id] if fresh else old_passages[article.doc_id]
            doc_vectors = (
                by_doc_vectors.get(article.doc_id, []) if fresh else old_vectors[article.doc_id]
            )
            passages += doc_passages
            vector_rows += doc_vectors
            articles[article.doc_id] = IndexedArticle(
                title=article.title,
                content_hash=article.content_hash,
                n_passages=len(doc_passages),
                indexed_at=now if fresh else old_articles[article.doc_id].indexed_at,
            )
        manifest = Manifest(
            embedder=embedder.model_id,
            dim=embedder.dim,
            chunking=chunking,
            articles=articles,
            built_at=now,
        )
        matrix = np.vstack(vector_rows) if vector_rows else np.zeros((0, embedder.dim))
        version = _write_version(index_dir, manifest, passages, matrix)
        _remove_stale_versions(index_dir, keep=version)
        report.n_passages = len(passages)
        report.embedded_passages = len(flat)
        report.seconds = time.perf_counter() - started
        return report
