"""The segment store: segments, tombstones, compaction, approximate search, a killed build."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np

from rag.ingest.chunking import Passage
from rag.store import dense, store
from rag.store.catalog import IndexedArticle
from rag.store.index import load_index, update_index
from rag.store.store import SegmentStore
from tests.conftest import SEEDS


def _update(seeds, index_dir, embedder):
    return update_index(seeds, index_dir, embedder, max_chars=300, overlap_sentences=1)


def _results(index, embedder, queries):
    return [
        [
            (p.passage_id, round(c, 5))
            for p, c, _ in index.hybrid_search(embedder.embed_query(q), q, 5, 0.2)
        ]
        for q in queries
    ]


def test_segments_add_change_delete_and_compact(tmp_path, seeds, counting_embedder, monkeypatch):
    monkeypatch.setattr(store, "SMALL_ARCHIVE", 0)  # keep every segment to look at it
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    index = load_index(index_dir)
    assert len(index.segments()) == 1

    (seeds / "wheat.txt").write_text("القمح\nارتفعت أسعار القمح في عمان.", encoding="utf-8")
    _update(seeds, index_dir, counting_embedder)
    index.refresh()
    assert len(index.segments()) == 2  # adding wrote one more segment, nothing rewritten
    assert index.segments()[1].n == 1

    (seeds / "wheat.txt").write_text("القمح\nانخفضت أسعار القمح في عمان.", encoding="utf-8")
    _update(seeds, index_dir, counting_embedder)
    index.refresh()
    assert len(index.segments()) == 3
    queries = ["أسعار القمح في عمان", "الاتحاد الاقتصادي الأوراسي", "محطة الطاقة النووية"]
    (current,) = index.catalog.doc_passages("wheat")
    assert "انخفضت" in current.text
    found = index.hybrid_search(counting_embedder.embed_query(current.text), queries[0], 40, 0.2)
    assert [p.text for p, _, _ in found if p.doc_id == "wheat"] == [current.text]
    old = counting_embedder.embed_query(current.text.replace("انخفضت", "ارتفعت"))
    assert all(p.doc_id != "wheat" or "انخفضت" in p.text for p, _, _ in index.search(old, 40))

    (seeds / "wheat.txt").unlink()
    _update(seeds, index_dir, counting_embedder)
    index.refresh()
    assert "wheat" not in index.articles()
    assert all(p.doc_id != "wheat" for p, _, _ in index.search(old, 40))
    gone = _results(index, counting_embedder, queries)

    assert index.compact()
    index.refresh()
    assert len(index.segments()) == 1 and index.n_passages == index.segments()[0].n
    assert not index.catalog.dead_pids()
    assert _results(index, counting_embedder, queries) == gone
    assert len(list(index.path.glob("seg-*"))) == 1
    assert not index.compact()  # nothing left to merge


def test_a_small_archive_stays_one_segment(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (seeds / "x.txt").write_text("خبر.", encoding="utf-8")
    _update(seeds, index_dir, counting_embedder)
    index = load_index(index_dir)
    assert len(index.segments()) == 1 and not index.catalog.dead_pids()


def _clustered(n, dim, rng):
    centres = rng.normal(size=(n // 50, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim))
    vectors = vectors.astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_approximate_search_finds_what_exact_search_finds(tmp_path, monkeypatch):
    monkeypatch.setattr(dense, "APPROXIMATE_FROM", 1_000)
    rng = np.random.default_rng(0)
    vectors = _clustered(20_000, 64, rng)
    pids = np.arange(20_000, dtype=np.int64) * 3  # ids need not be rows
    assert dense.write_segment(tmp_path / "seg", pids, vectors) == "ivf"
    segment = dense.DenseSegment(tmp_path / "seg", "ivf")
    queries = vectors[rng.choice(20_000, 100, replace=False)] + 0.3 * rng.normal(size=(100, 64))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    dead = pids[:5000:7]
    dead_set = set(dead.tolist())
    recall = []
    for query in queries:
        exact = np.argsort(-(vectors @ query))
        exact = [int(pids[i]) for i in exact[:50] if pids[i] not in dead_set][:10]
        found, scores = segment.search(query, 10, dead)
        assert not set(found.tolist()) & dead_set
        np.testing.assert_allclose(scores, vectors[found // 3] @ query, rtol=1e-5)  # re-scored
        recall.append(len(set(found.tolist()) & set(exact)) / 10)
    assert np.mean(recall) >= 0.95


_SLOW_BUILD = """
import sys, time
from pathlib import Path
from rag.store import staging
from rag.store.index import update_index
from tests.conftest import CountingEmbedder

class Slow(CountingEmbedder):
    def embed_documents(self, texts, titles=None, **kwargs):
        time.sleep(0.2)
        return super().embed_documents(texts, titles)

staging.BATCH = 4
update_index(Path(sys.argv[1]), Path(sys.argv[2]), Slow(), 300, 1)
"""


def test_a_killed_build_resumes_and_loses_at_most_one_batch(tmp_path, counting_embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(30):
        sentences = " ".join(f"الخبر {i} الجملة {j} عن الاقتصاد." for j in range(12))
        (seeds / f"a{i:02d}.txt").write_text(f"عنوان {i}\n{sentences}", encoding="utf-8")
    index_dir = tmp_path / "index"
    build = subprocess.Popen(
        [sys.executable, "-c", _SLOW_BUILD, str(seeds), str(index_dir)],
        cwd=SEEDS.parent,
        env={**os.environ, "PYTHONPATH": str(SEEDS.parent)},
    )
    staged_db = index_dir / "staging.sqlite"
    staged = 0
    deadline = time.monotonic() + 120
    while staged < 12 and time.monotonic() < deadline and build.poll() is None:
        time.sleep(0.1)
        if staged_db.exists():
            try:
                with sqlite3.connect(staged_db) as db:
                    staged = db.execute("SELECT count(*) FROM staged").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    assert staged >= 12, "the build never staged a batch"
    assert load_index(index_dir) is None  # nothing half-built is served

    with sqlite3.connect(staged_db) as db:
        kept = db.execute("SELECT count(*) FROM staged").fetchone()[0]
    report = _update(seeds, index_dir, counting_embedder)
    assert len(counting_embedder.embedded) == report.n_passages - kept
    assert kept >= staged  # batches committed before the kill are all kept
    index = load_index(index_dir)
    assert index.n_passages == report.n_passages and len(index.articles()) == 30
    assert not staged_db.exists()
    passage = index.dump()[0][7]
    assert index.search(counting_embedder.embed_query(passage.text), 1)[0][0] == passage


def test_hybrid_search_ranks_by_the_fused_score_and_reports_cosine(tmp_path):
    texts = ["جسر الوحدة في عمان طوله 800 متر", "خبر عن الطقس", "خبر عن الرياضة"]
    passages = [
        Passage("d", f"d#{i}", "t", t, 0, len(t), ((0, len(t)),)) for i, t in enumerate(texts)
    ]
    index = SegmentStore.create(tmp_path / "s-1", "m", 4, {})
    article = IndexedArticle("t", "h", 3, "now")
    index.add({"d": article}, passages, np.eye(3, 4, dtype=np.float32))
    query = np.array([0.5, 0.6, 0.0, 0.0], dtype=np.float32)  # dense prefers passage 1
    assert index.search(query, 1)[0][0].passage_id == "d#1"
    best, cosine, fused = index.hybrid_search(query, "جسر الوحدة في عمان", 3, 0.2)[0]
    assert best.passage_id == "d#0"
    assert cosine == 0.5 and abs(fused - 0.7) < 1e-6
    assert [p.passage_id for p, _, _ in index.hybrid_search(query, "Poland", 3, 0.2)] == [
        "d#1",
        "d#0",
        "d#2",
    ]
