"""Embedded passages kept between batches, so a killed build resumes where it stopped.

Each batch of vectors is committed to ``staging.sqlite`` under the embedder, the chunking
and the article's content hash, then the build goes on. A build that is killed loses at
most the batch it was embedding; the next one reads back what was staged. The file is
deleted once its vectors are in the index.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.ingest.chunking import Passage
from rag.models.embeddings import Embedder

BATCH = 128


class Staging:
    """Vectors of passages embedded by builds that have not committed yet."""

    def __init__(self, path: Path, embedder: Embedder, chunking: dict[str, int]) -> None:
        self.path = path
        self.embedder = embedder
        self._key = f"{embedder.model_id}|{json.dumps(chunking, sort_keys=True)}"
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS staged (key TEXT, content_hash TEXT, seq INTEGER,"
            " vector BLOB, PRIMARY KEY (key, content_hash, seq))"
        )

    def _staged(self, content_hash: str) -> dict[int, np.ndarray]:
        rows = self._db.execute(
            "SELECT seq, vector FROM staged WHERE key = ? AND content_hash = ?",
            (self._key, content_hash),
        )
        return {seq: np.frombuffer(blob, dtype=np.float32) for seq, blob in rows}

    def embed(
        self,
        passages: Sequence[Passage],
        hashes: Sequence[str],
        seqs: Sequence[int],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Vectors of ``passages`` (passage ``seqs[i]`` of the article with content hash
        ``hashes[i]``), embedding only those not staged yet, ``BATCH`` at a time.

        ``on_progress(done, total)`` hears once before the first batch (``done`` counts
        what was staged) and after every batch.
        """
        vectors = np.zeros((len(passages), self.embedder.dim), dtype=np.float32)
        todo = []
        cache: dict[str, dict[int, np.ndarray]] = {}
        for i, (content_hash, seq) in enumerate(zip(hashes, seqs, strict=True)):
            staged = cache.setdefault(content_hash, self._staged(content_hash))
            if seq in staged:
                vectors[i] = staged[seq]
            else:
                todo.append(i)
        done = len(passages) - len(todo)
        if on_progress:
            on_progress(done, len(passages))
        for start in range(0, len(todo), BATCH):
            rows = todo[start : start + BATCH]
            batch = [passages[i] for i in rows]
            embedded = self.embedder.embed_documents(
                [p.text for p in batch], [p.title for p in batch]
            )
            vectors[rows] = embedded
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO staged VALUES (?, ?, ?, ?)",
                    [(self._key, hashes[i], seqs[i], vectors[i].tobytes()) for i in rows],
                )
            done += len(rows)
            if on_progress:
                on_progress(done, len(passages))
        return vectors

    def discard(self) -> None:
        """Delete the staging file (its vectors are in the index now)."""
        self._db.close()
        self.path.unlink(missing_ok=True)
