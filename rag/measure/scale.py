"""``python -m rag bench --scale``: the index at 10k, 100k and 1M passages, today's store
next to the design it replaced, on synthetic archives (``rag.measure.synthetic``).

Each design is built in this process (without embedding: the embedder is timed on its
own, as the one cost that stays linear) and then opened in a fresh process, as an app
would be after a start, which measures: time until ready (open plus the first hybrid
query), query latency, resident memory, recall@10 of dense search against exact search,
and the time to add and to delete one article.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from rag.ingest.chunking import Passage
from rag.measure.bench import memory_mb, stats
from rag.measure.machine import describe_machine, machine_line
from rag.measure.synthetic import PASSAGES_PER_ARTICLE, SyntheticArchive
from rag.store.catalog import IndexedArticle
from rag.store.keyword import keyword_words
from rag.store.store import SegmentStore

if TYPE_CHECKING:
    from rag.models.embeddings import Embedder

SIZES = (10_000, 100_000, 1_000_000)
# The old design rebuilds its keyword index at every start in pure Python: past this
# size one run of it takes many minutes.
OLD_UP_TO = 10_000
QUERIES = 100
DIM = 768
KEYWORD_WEIGHT = 0.2

Progress = Callable[[str], None]


def _articles(passages: Sequence[Passage]) -> dict[str, IndexedArticle]:
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
    return {doc: IndexedArticle(doc, doc, n, "") for doc, n in counts.items()}


def _disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def _exact_top10(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    top = np.empty((len(queries), 10), dtype=np.int64)
    for start in range(0, len(queries), 10):
        scores = queries[start : start + 10] @ vectors.T
        best = np.argpartition(-scores, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
        top[start : start + 10] = np.take_along_axis(best, order, axis=1)
    return top


# The design being replaced: everything in memory, rebuilt at every start ----------------


class OldDesign:
    """The index before segments: passages in a JSON lines file and a flat FAISS index,
    rewritten whole on every update; vectors copied next to FAISS for hybrid search and
    BM25 (rank_bm25, Snowball's pure-Python stemmer) rebuilt at the first question."""

    def __init__(self, path: Path) -> None:
        from rank_bm25 import BM25Okapi
        from snowballstemmer.arabic_stemmer import ArabicStemmer  # the pure-Python one

        self.path = path
        lines = (path / "passages.jsonl").read_text(encoding="utf-8").splitlines()
        self.passages = [json.loads(line) for line in lines]
        self.flat = faiss.read_index(str(path / "faiss.index"))
        self.matrix = self.flat.reconstruct_n(0, self.flat.ntotal)
        stemmer = ArabicStemmer()
        self.tokens = lambda text: stemmer.stemWords(keyword_words(text))
        self.bm25 = BM25Okapi([self.tokens(p["text"]) or [""] for p in self.passages])

    @staticmethod
    def write(path: Path, passages: Sequence[dict], vectors: np.ndarray) -> None:
        """Write the whole index (what every update did)."""
        path.mkdir(parents=True, exist_ok=True)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors)
        faiss.write_index(flat, str(path / "faiss.index"))
        lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages)
        (path / "passages.jsonl").write_text(lines, encoding="utf-8")

    def search(self, query: np.ndarray, k: int = 10) -> np.ndarray:
        return self.flat.search(query.reshape(1, -1), k)[1][0]

    def hybrid_search(self, query: np.ndarray, text: str, k: int = 10) -> np.ndarray:
        raw = np.asarray(self.bm25.get_scores(self.tokens(text)), dtype=np.float32)
        scaled = raw / raw.max() if raw.max() > 0 else raw
        return np.argsort(-(self.matrix @ query + KEYWORD_WEIGHT * scaled))[:k]

    def add_and_delete(self, passages: list[dict], vectors: np.ndarray) -> tuple[float, float]:
        started = time.perf_counter()
        OldDesign.write(self.path, self.passages + passages, np.vstack([self.matrix, vectors]))
        added = time.perf_counter() - started
        started = time.perf_counter()
        OldDesign.write(self.path, self.passages, self.matrix)
        return added, time.perf_counter() - started


# Probes: a fresh process opens an index and measures it ---------------------------------


def _row(passage_id: str) -> int:
    """Where a synthetic passage is in its archive ("a0000012#3" is row 12 * 20 + 3)."""
    doc, number = passage_id.split("#")
    return int(doc[1:]) * PASSAGES_PER_ARTICLE + int(number)


def _probe(design: str, path: Path, work: Path) -> dict:
    baseline = memory_mb(os.getpid())
    queries = np.load(work / "queries.npy")
    texts = json.loads((work / "texts.json").read_text(encoding="utf-8"))
    exact = np.load(work / "exact.npy")
    extra = json.loads((work / "extra.json").read_text(encoding="utf-8"))
    extra_vectors = np.load(work / "extra.npy")
    started = time.perf_counter()
    if design == "old":
        index = OldDesign(path)
        index.hybrid_search(queries[0], texts[0])
    else:
        index = SegmentStore(path)
        index.hybrid_search(queries[0], texts[0], 10, KEYWORD_WEIGHT)
    ready = time.perf_counter() - started
    dense, hybrid, recall = [], [], []
    for query, text, truth in zip(queries, texts, exact, strict=True):
        started = time.perf_counter()
        if design == "old":
            found = index.search(query)
        else:
            found = [_row(p.passage_id) for p, _, _ in index.search(query, 10)]
        dense.append(time.perf_counter() - started)
        recall.append(len(set(found) & set(truth.tolist())) / 10)
        started = time.perf_counter()
        if design == "old":
            index.hybrid_search(query, text)
        else:
            index.hybrid_search(query, text, 10, KEYWORD_WEIGHT)
        hybrid.append(time.perf_counter() - started)
    memory = memory_mb(os.getpid())
    if design == "old":
        added, deleted = index.add_and_delete(extra, extra_vectors)
    else:
        new = [Passage(**{**p, "sentences": tuple(map(tuple, p["sentences"]))}) for p in extra]
        started = time.perf_counter()
        index.add(_articles(new), new, extra_vectors)
        added = time.perf_counter() - started
        started = time.perf_counter()
        index.add({}, [], extra_vectors[:0], deleted=[new[0].doc_id])
        deleted = time.perf_counter() - started
        exact = _exact_latency(index, queries)
    return {
        "ready_s": round(ready, 3),
        "dense_s": stats(dense),
        "hybrid_s": stats(hybrid),
        "recall_at_10": round(float(np.mean(recall)), 4),
        "memory_mb": round(
            memory["anon_rss_mb"]
            + memory["file_rss_mb"]
            - baseline["anon_rss_mb"]
            - baseline["file_rss_mb"],
            1,
        ),
        "add_one_article_s": round(added, 3),
        "delete_one_article_s": round(deleted, 3),
        **({} if design == "old" else {"exact_dense_s": exact}),
    }


def _exact_latency(index: SegmentStore, queries: np.ndarray) -> dict[str, float]:
    """Latency of exact search over every vector, from memory (what an index without an
    approximate segment would cost): the measure that sets ``APPROXIMATE_FROM``."""
    matrices = [np.ascontiguousarray(s.all_vectors()) for s in index.dense_segments()]
    timings = []
    for query in queries:
        started = time.perf_counter()
        for matrix in matrices:
            scores = matrix @ query
            np.argpartition(-scores, 10)[:10]
        timings.append(time.perf_counter() - started)
    return stats(timings)


def _run_probe(design: str, path: Path, work: Path) -> dict:
    out = work / f"{design}.json"
    done = subprocess.run(
        [sys.executable, "-m", "rag.measure.scale", design, str(path), str(work), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {design} probe failed: {done.stderr[-2000:]}")
    return json.loads(out.read_text())


# One size, both designs ---------------------------------------------------------------------


def bench_size(n: int, with_old: bool, workdir: Path, on_step: Progress) -> dict:
    """Build, open and measure an archive of ``n`` passages."""
    on_step(f"{n:,} passages: making the archive")
    archive = SyntheticArchive(n, DIM)
    passages = archive.passages()
    vectors = archive.vectors()
    picked, queries = archive.questions(vectors, QUERIES)
    texts = [" ".join(passages[i].text.split()[:6]) for i in picked]
    extra = archive.passages(first_article=n // PASSAGES_PER_ARTICLE + 1, n=PASSAGES_PER_ARTICLE)
    work = workdir / f"n{n}"
    work.mkdir(parents=True)
    np.save(work / "queries.npy", queries)
    (work / "texts.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    on_step(f"{n:,} passages: exact search for recall")
    np.save(work / "exact.npy", _exact_top10(vectors, queries))
    as_dicts = [{**p.__dict__, "sentences": [list(s) for s in p.sentences]} for p in extra]
    (work / "extra.json").write_text(json.dumps(as_dicts, ensure_ascii=False), encoding="utf-8")
    np.save(work / "extra.npy", archive.vectors(PASSAGES_PER_ARTICLE))
    result: dict = {"passages": n}

    on_step(f"{n:,} passages: building the segment store")
    path = work / "new"
    started = time.perf_counter()
    store = SegmentStore.create(path, "synthetic", DIM, {})
    store.add(_articles(passages), passages, vectors)
    store.close()
    result["new"] = {"build_s": round(time.perf_counter() - started, 2), "disk_mb": _disk_mb(path)}
    on_step(f"{n:,} passages: opening and querying the segment store")
    result["new"].update(_run_probe("new", path, work))
    shutil.rmtree(path)

    if with_old:
        on_step(f"{n:,} passages: the old design")
        path = work / "old"
        rows = [{**p.__dict__, "sentences": [list(s) for s in p.sentences]} for p in passages]
        started = time.perf_counter()
        OldDesign.write(path, rows, vectors)
        result["old"] = {
            "build_s": round(time.perf_counter() - started, 2),
            "disk_mb": _disk_mb(path),
        }
        result["old"].update(_run_probe("old", path, work))
    shutil.rmtree(work)
    return result


def bench_embedder(embedder: Embedder, n: int = 64) -> dict:
    """Passages per second of the real embedder on synthetic passages of the usual size."""
    texts = [p.text for p in SyntheticArchive(n, DIM).passages()]
    embedder.embed_documents(texts[:4])
    started = time.perf_counter()
    embedder.embed_documents(texts)
    rate = n / (time.perf_counter() - started)
    return {"passages_per_s": round(rate, 2), "hours_per_million": round(1e6 / rate / 3600, 1)}


def run_scale(
    sizes: Sequence[int] = SIZES,
    old_up_to: int = OLD_UP_TO,
    embedder: Embedder | None = None,
    on_step: Progress = lambda _step: None,
) -> dict:
    """Every size, as a JSON-ready report."""
    report: dict = {"machine": describe_machine(), "sizes": []}
    with tempfile.TemporaryDirectory(prefix="nabaa-scale-") as tmp:
        for n in sizes:
            report["sizes"].append(bench_size(n, n <= old_up_to, Path(tmp), on_step))
    if embedder is not None:
        on_step("Embedder speed")
        report["embedder"] = bench_embedder(embedder)
    return report


def markdown(report: dict) -> str:
    """One row per size and design."""

    def ms(s: dict) -> str:
        return f"{s['p50'] * 1000:.1f} / {s['p95'] * 1000:.1f}"

    rows = [
        machine_line(report["machine"]),
        "",
        "| passages | design | build s | ready s | dense ms p50 / p95 | hybrid ms p50 / p95 "
        "| memory MB | disk MB | add one s | delete one s | recall@10 | exact ms p50 / p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report["sizes"]:
        for design in ("old", "new"):
            if design not in size:
                continue
            d = size[design]
            rows.append(
                f"| {size['passages']:,} | {design} | {d['build_s']:.1f} | {d['ready_s']:.2f} "
                f"| {ms(d['dense_s'])} | {ms(d['hybrid_s'])} | {d['memory_mb']:,.0f} "
                f"| {d['disk_mb']:,.0f} | {d['add_one_article_s']:.2f} "
                f"| {d['delete_one_article_s']:.2f} | {d['recall_at_10']:.3f} "
                f"| {ms(d['exact_dense_s']) if 'exact_dense_s' in d else '–'} |"
            )
    if "embedder" in report:
        e = report["embedder"]
        rows.append(
            f"\nEmbedder: {e['passages_per_s']} passages/s, "
            f"{e['hours_per_million']} h per million passages."
        )
    return "\n".join(rows)


def plot_report(report: dict, path: Path) -> None:
    """Each measure against corpus size, one panel each, old and new designs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [
        ("build_s", "build (s, no embedding)"),
        ("ready_s", "ready after start (s)"),
        ("hybrid_s", "hybrid query p95 (ms)"),
        ("memory_mb", "memory (MB)"),
        ("disk_mb", "disk (MB)"),
        ("add_one_article_s", "add one article (s)"),
    ]
    figure, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (key, title) in zip(axes.flat, measures, strict=True):
        for design, style in (("old", "o--"), ("new", "o-")):
            points = [(s["passages"], s[design][key]) for s in report["sizes"] if design in s]
            if not points:
                continue
            xs, ys = zip(*points, strict=True)
            ys = [y["p95"] * 1000 if isinstance(y, dict) else y for y in ys]
            ax.plot(xs, ys, style, label=design)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("passages")
        ax.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    design, index_path, work_dir, out_path = sys.argv[1:5]
    result = _probe(design, Path(index_path), Path(work_dir))
    Path(out_path).write_text(json.dumps(result))
