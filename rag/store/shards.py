"""Splitting the index into shards by article: ``python -m rag shard --shards N``.

Each shard is an ordinary store folder (``rag.store.store.SegmentStore``) holding whole
articles, with its own passage ids; ``rag.store.served`` serves them and merges their
results.
"""

from __future__ import annotations

import os
import shutil
import uuid
import zlib
from pathlib import Path

import numpy as np
from filelock import FileLock

from rag.errors import NabaaError
from rag.store.index import load_index
from rag.store.store import SegmentStore

SHARD_PREFIX = "shard-"


def shard_of(doc_id: str, shards: int) -> int:
    """The shard an article goes to: the same on every run and machine."""
    return zlib.crc32(doc_id.encode()) % shards


def shard_folders(shards_dir: Path) -> list[Path]:
    """The shard folders under ``shards_dir``, in shard order."""
    return sorted(p for p in shards_dir.glob(f"{SHARD_PREFIX}*") if p.is_dir())


def split_store(store: SegmentStore, shards: int, out_dir: Path) -> list[Path]:
    """Write the live passages of ``store`` into ``shards`` new stores under ``out_dir``
    (replacing what was there once all are written), each article whole in one of them;
    returns their folders."""
    if shards < 1:
        raise NabaaError("The number of shards must be at least 1.")
    passages, vectors = store.dump()
    articles = store.articles()
    manifest = store.manifest
    of = np.array([shard_of(p.doc_id, shards) for p in passages], dtype=np.int64)
    staging = out_dir.with_name(f"{out_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    staging.mkdir(parents=True)
    width = len(str(shards - 1))
    for shard in range(shards):
        folder = staging / f"{SHARD_PREFIX}{shard:0{width}d}"
        part = SegmentStore.create(folder, manifest.embedder, manifest.dim, manifest.chunking)
        rows = np.flatnonzero(of == shard)
        docs = {doc: a for doc, a in articles.items() if shard_of(doc, shards) == shard}
        part.add(docs, [passages[i] for i in rows], vectors[rows])
        part.close()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    return shard_folders(out_dir)


def shard_index(index_dir: Path, shards: int, out_dir: Path) -> list[Path]:
    """``split_store`` of the current index in ``index_dir``, under its lock."""
    if not index_dir.is_dir():
        raise NabaaError(f"No index in {index_dir}: run `python -m rag index` first.")
    with FileLock(str(index_dir / ".lock")):
        store = load_index(index_dir)
        if store is None:
            raise NabaaError(f"No index in {index_dir}: run `python -m rag index` first.")
        try:
            return split_store(store, shards, out_dir)
        finally:
            store.close()
