"""BM25 with shard-local statistics against one index: ``python -m rag bench --keyword-shards``.

The articles of a SQuAD file (as ``rag eval`` makes them) are cut into passages by the real
chunker and indexed twice: in one keyword index, and in ``N`` indexes that each hold the
articles whose id hashes to them. Each shard scores with its own document frequencies and
lengths (shard-local IDF, Elasticsearch's default); a query's hits from all shards are
merged by their raw BM25 score. Keyword retrieval alone is compared: recall of a passage of
the gold article, and how far the merged top 10 agree with the single index's.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rag.errors import NabaaError
from rag.ingest.articles import load_articles
from rag.ingest.chunking import Passage, chunk_article
from rag.measure.evaluation import Question, Result, is_hit, load_squad, summarize
from rag.store.keyword import KeywordStore
from rag.store.shards import shard_of

K = 10


def merge_top_k(results: Iterable[dict[int, float]], k: int) -> list[int]:
    """Passage ids of the ``k`` best raw scores over every shard's hits, best first (a tie
    goes to the lower id)."""
    hits = ((pid, score) for found in results for pid, score in found.items())
    return [pid for pid, _ in heapq.nsmallest(k, hits, key=lambda hit: (-hit[1], hit[0]))]


def search_shards(shards: Sequence[KeywordStore], query: str, k: int) -> list[int]:
    """The ``k`` best passages of all shards for ``query``, each shard asked for ``k``."""
    return merge_top_k((shard.search(query, k) for shard in shards), k)


def build_shards(passages: Sequence[Passage], folder: Path, shards: int) -> list[KeywordStore]:
    """Keyword indexes over ``passages`` split by article (``shard_of``); a passage's id is
    its position in ``passages``."""
    members: list[list[int]] = [[] for _ in range(shards)]
    for pid, passage in enumerate(passages):
        members[shard_of(passage.doc_id, shards)].append(pid)
    stores = []
    for i, pids in enumerate(members):
        store = KeywordStore(folder / str(i))
        store.add(pids, [passages[pid].text for pid in pids])
        store.reload()
        stores.append(store)
    return stores


def _overlap(a: list[int], b: list[int]) -> float:
    """Share of the longer list that both hold (1 when both are empty: no keyword)."""
    return len(set(a) & set(b)) / max(len(a), len(b)) if a or b else 1.0


def _row(
    name: str,
    questions: Sequence[Question],
    passages: Sequence[Passage],
    top: list[list[int]],
    single: list[list[int]],
) -> dict:
    """Recall of ``top`` (one ranking per question) and its agreement with ``single``."""
    results = [
        Result(q, next((r for r, pid in enumerate(ranked, 1) if is_hit(passages[pid], q)), None))
        for q, ranked in zip(questions, top, strict=True)
    ]
    pairs = list(zip(top, single, strict=True))
    n = len(pairs)
    return {
        "index": name,
        **summarize(results, {})["retrieval"],
        "same_top1": round(sum(a[:1] == b[:1] for a, b in pairs) / n, 4),
        "top10_overlap": round(sum(_overlap(a, b) for a, b in pairs) / n, 4),
        "identical_top10": round(sum(a == b for a, b in pairs) / n, 4),
    }


def measure(
    dataset: Path,
    shard_counts: Sequence[int],
    work: Path,
    max_chars: int,
    overlap_sentences: int,
    limit: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Keyword-only retrieval of the data set's questions from one index and from each
    number of shards in ``shard_counts``; indexes are written under ``work``."""
    step = on_step or (lambda _: None)
    questions = load_squad(dataset, work / "articles")[:limit]
    if not questions:
        raise NabaaError(f"{dataset} gives no questions to ask.")
    articles = load_articles(work / "articles").articles
    passages = [p for a in articles for p in chunk_article(a, max_chars, overlap_sentences)]
    step(f"{len(articles)} articles, {len(passages)} passages: one index")
    one = build_shards(passages, work / "one-index", 1)
    single = [search_shards(one, q.question, K) for q in questions]
    rows = [_row("one index", questions, passages, single, single)]
    sizes = {}
    for n in sorted(set(shard_counts)):
        step(f"{n} shards")
        shards = build_shards(passages, work / f"{n}-shards", n)
        sizes[n] = [sum(shard_of(p.doc_id, n) == i for p in passages) for i in range(n)]
        top = [search_shards(shards, q.question, K) for q in questions]
        rows.append(_row(f"{n} shards, local IDF", questions, passages, top, single))
    return {
        "dataset": str(dataset),
        "n_questions": len(questions),
        "n_articles": len(articles),
        "n_passages": len(passages),
        "chunking": {"max_chars": max_chars, "overlap_sentences": overlap_sentences},
        "passages_per_shard": sizes,
        "rows": rows,
    }


def markdown(report: dict) -> str:
    """The report as a markdown table."""
    lines = [
        f"**{report['n_questions']} questions, {report['n_articles']} articles, "
        f"{report['n_passages']} passages; keyword (BM25) retrieval only**",
        "",
        "| index | recall@1 | recall@5 | recall@10 | MRR | same top-1 | top-10 overlap "
        "| identical top-10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['index']} | {r['recall_at_1']:.3f} | {r['recall_at_5']:.3f} "
        f"| {r['recall_at_10']:.3f} | {r['mrr']:.3f} | {r['same_top1']:.3f} "
        f"| {r['top10_overlap']:.3f} | {r['identical_top10']:.3f} |"
        for r in report["rows"]
    ]
    sizes = "; ".join(f"{n} shards: {s}" for n, s in report["passages_per_shard"].items())
    return "\n".join([*lines, "", f"Passages per shard: {sizes or 'none'}"])
