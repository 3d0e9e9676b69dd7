"""Dense segments: one folder of passage vectors each, searched exactly or through IVF.

A segment holds ``vectors.npy`` (float32, one row per passage), ``pids.npy`` (the passage
id of each row, ascending) and, when it is large, ``ivf.faiss``: an inverted-file index
with 8-bit scalar quantization whose candidates are re-scored exactly from the vectors,
which stay on disk (no second copy in memory).
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

# From this many passages a segment is searched through IVF instead of exactly: where exact
# search passes 20 ms p95 on 2 cores (`python -m rag bench --scale`: 15.2 ms at 100,000
# passages, 133 ms at 1,000,000; README, "Scale").
APPROXIMATE_FROM = 130_000
# Share of the IVF cells probed per query (at least MIN_PROBES), and candidates re-scored
# exactly per segment.
PROBED_SHARE = 1 / 16
MIN_PROBES = 32
RESCORED = 100
_TRAIN_PER_CELL = 40


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(folder: Path, pids: np.ndarray, vectors: np.ndarray) -> str:
    """Write a segment and return its kind, ``flat`` or ``ivf``; files are synced to disk."""
    folder.mkdir(parents=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    np.save(folder / "vectors.npy", vectors)
    np.save(folder / "pids.npy", np.asarray(pids, dtype=np.int64))
    kind = "flat"
    if len(vectors) >= APPROXIMATE_FROM:
        faiss.write_index(build_ivf(vectors), str(folder / "ivf.faiss"))
        kind = "ivf"
    for path in [*folder.iterdir(), folder]:
        _fsync(path)
    return kind


def build_ivf(vectors: np.ndarray) -> faiss.Index:
    """An IVF index with 8-bit scalar quantization over normalized vectors; ids are rows."""
    n, dim = vectors.shape
    cells = max(1, int(2 * np.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, cells, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = 10
    sample = np.random.default_rng(0).choice(n, min(n, cells * _TRAIN_PER_CELL), replace=False)
    index.train(vectors[np.sort(sample)])
    for start in range(0, n, 100_000):
        index.add(vectors[start : start + 100_000])
    return index


class DenseSegment:
    """A loaded segment; ``search`` returns passage ids and exact cosine similarities."""

    def __init__(self, folder: Path, kind: str) -> None:
        self.folder = folder
        self.kind = kind
        self.pids = np.load(folder / "pids.npy")
        self.ivf = None
        # A flat segment is scanned whole at every query, so it is read into memory. An IVF
        # segment's vectors stay on disk: the rows it re-scores are read with pread, so
        # neither a copy nor mapped pages of them grow the process.
        self._memory: np.ndarray | None = None
        path = folder / "vectors.npy"
        if kind == "flat":
            self._memory = np.load(path)
            rows = self._memory.shape[0]
        else:
            self.ivf = faiss.read_index(str(folder / "ivf.faiss"))
            rows = self._open_rows(path)
            if self.ivf.ntotal != rows:
                raise ValueError(f"segment {folder.name} has {self.ivf.ntotal} vectors in IVF")
        if rows != len(self.pids):
            raise ValueError(f"segment {folder.name} has {len(self.pids)} ids for {rows} vectors")

    def _open_rows(self, path: Path) -> int:
        with path.open("rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(fh)
            self._offset = fh.tell()
        if dtype != np.float32 or fortran or len(shape) != 2:
            raise ValueError(f"{path} does not hold float32 rows")
        self._row_bytes = shape[1] * 4
        if path.stat().st_size != self._offset + shape[0] * self._row_bytes:
            raise ValueError(f"{path} is truncated")
        self._fd = os.open(path, os.O_RDONLY)
        return shape[0]

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of the given rows."""
        if self._memory is not None:
            return self._memory[rows]
        blocks = [
            os.pread(self._fd, self._row_bytes, self._offset + int(r) * self._row_bytes)
            for r in rows
        ]
        return np.frombuffer(b"".join(blocks), dtype=np.float32).reshape(len(rows), -1)

    def all_vectors(self) -> np.ndarray:
        """Every vector, in row order (memory-mapped for an IVF segment)."""
        if self._memory is not None:
            return self._memory
        return np.load(self.folder / "vectors.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self.pids)

    def rows(self, pids: np.ndarray) -> np.ndarray:
        """Rows of the given passage ids (-1 for ids this segment does not hold)."""
        rows = np.searchsorted(self.pids, pids)
        rows = np.minimum(rows, len(self.pids) - 1)
        return np.where(self.pids[rows] == pids, rows, -1)

    def search(self, query: np.ndarray, k: int, dead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best live passages: (ids, cosines), best first. ``dead`` are ids."""
        if len(self.pids) == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        dead_rows = self.rows(dead) if len(dead) else np.zeros(0, np.int64)
        dead_rows = dead_rows[dead_rows >= 0]
        if self.ivf is None:
            scores = self._memory @ query
            scores[dead_rows] = -np.inf
            rows = np.arange(len(scores))
        else:
            probes = max(MIN_PROBES, int(self.ivf.nlist * PROBED_SHARE))
            params = faiss.SearchParametersIVF(nprobe=probes)
            if len(dead_rows):
                params.sel = faiss.IDSelectorNot(faiss.IDSelectorBatch(dead_rows))
            wanted = max(k, RESCORED)
            _, found = self.ivf.search(query.reshape(1, -1), wanted, params=params)
            rows = np.sort(found[0][found[0] >= 0])
            scores = self.vectors(rows) @ query
        if len(scores) > k:
            best = np.argpartition(-scores, k)[:k]
            top = best[np.argsort(-scores[best], kind="stable")]
        else:
            top = np.argsort(-scores, kind="stable")
        top = top[np.isfinite(scores[top])]
        return self.pids[rows[top]], scores[top].astype(np.float32)

    def cosines(self, query: np.ndarray, pids: np.ndarray) -> dict[int, float]:
        """Exact cosine similarity of the given ids that this segment holds."""
        rows = self.rows(pids)
        rows = np.sort(rows[rows >= 0])
        scores = self.vectors(rows) @ query
        return dict(zip(self.pids[rows].tolist(), scores.tolist(), strict=True))
