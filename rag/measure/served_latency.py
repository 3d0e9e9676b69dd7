"""``python -m rag bench --served N``: retrieval through Ray Serve shards against in-process.

The data set's index is cut into ``N`` shards (``rag.store.shards``), served on a local Ray
instance (``rag.store.served``), and every question is searched both ways with the same
query vector (embedding is not timed): plain dense search and hybrid (dense + BM25).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ray import serve

from rag.config import Settings
from rag.measure.evaluation import evaluation_pipeline, percentiles
from rag.store.ray_ingest import connect
from rag.store.served import ServedStore, deploy_shards, start_serve
from rag.store.shards import split_store
from rag.store.store import Found, PassageReader

K = 10


def _timed(search: Callable[[], list[Found]]) -> tuple[float, list[float]]:
    """Milliseconds, and the cosines of the hits in order: passages with the same text
    (ARCD repeats some contexts) tie, so ids may swap where the ranking is the same."""
    started = time.perf_counter()
    found = search()
    return (time.perf_counter() - started) * 1000, [round(cos, 4) for _, cos, _ in found]


def _run(store: PassageReader, queries: list, weight: float) -> dict[str, tuple[list, list]]:
    """Milliseconds and top-k cosines per question, for dense and hybrid search."""
    runs: dict[str, tuple[list, list]] = {"dense": ([], []), "hybrid": ([], [])}
    for text, vector in queries:
        for kind, search in (
            ("dense", partial(store.search, vector, K)),
            ("hybrid", partial(store.hybrid_search, vector, text, K, weight)),
        ):
            ms, ids = _timed(search)
            runs[kind][0].append(ms)
            runs[kind][1].append(ids)
    return runs


def measure(
    settings: Settings,
    dataset: Path,
    shards: int,
    limit: int,
    on_step: Callable[[str], None],
) -> dict:
    """Latency (ms, p50/p95) in-process and through ``shards`` served shards, and how often
    the served top ``K`` equals the in-process one."""
    pipeline, questions = evaluation_pipeline(settings, dataset)
    pipeline.update_index()
    local = pipeline.store
    queries = [(q.question, pipeline.embedder.embed_query(q.question)) for q in questions[:limit]]
    on_step(f"{len(queries)} questions over {len(local.articles())} articles")
    in_process = _run(local, queries, settings.keyword_weight)
    with tempfile.TemporaryDirectory(prefix="nabaa-served-") as work:
        folders = split_store(local, shards, Path(work))
        connect(None)
        try:
            start_serve("127.0.0.1", None)
            names = deploy_shards(folders)
            served_store = ServedStore({i: serve.get_app_handle(n) for i, n in enumerate(names)})
            _run(served_store, queries[:5], settings.keyword_weight)  # warm the replicas
            served = _run(served_store, queries, settings.keyword_weight)
            retries = served_store.retries
        finally:
            serve.shutdown()
    rows = {}
    for kind in ("dense", "hybrid"):
        same = sum(a == b for a, b in zip(in_process[kind][1], served[kind][1], strict=True))
        rows[kind] = {
            "in_process_ms": percentiles(in_process[kind][0]),
            "served_ms": percentiles(served[kind][0]),
            "same_top_k": round(same / len(queries), 3),
        }
    return {"questions": len(queries), "shards": shards, "k": K, "retries": retries, **rows}


def markdown(report: dict) -> str:
    """The report as a table."""
    lines = [
        f"**{report['questions']} questions, top {report['k']}, {report['shards']} served "
        f"shards ({report['retries']} retries)**",
        "",
        "| search | in-process p50 / p95 (ms) | served p50 / p95 (ms) | same top-k |",
        "|---|---|---|---|",
    ]
    for kind in ("dense", "hybrid"):
        row = report[kind]
        local, served = row["in_process_ms"], row["served_ms"]
        lines.append(
            f"| {kind} | {local['p50']:.1f} / {local['p95']:.1f} | "
            f"{served['p50']:.1f} / {served['p95']:.1f} | {row['same_top_k']:.3f} |"
        )
    return "\n".join(lines)
