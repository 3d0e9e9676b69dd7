"""Merging BM25 hits of shards that keep their own statistics (``rag.measure.keyword_shards``)."""

import pytest

from rag.measure.keyword_shards import measure, merge_top_k, search_shards
from rag.store.keyword import KeywordStore
from rag.store.shards import shard_of
from tests.conftest import DATA


def _stores(tmp_path, groups):
    """One keyword index over every (pid, text), and one per group."""
    single = KeywordStore(tmp_path / "single")
    single.add(*zip(*[pair for group in groups for pair in group], strict=True))
    single.reload()
    shards = []
    for i, group in enumerate(groups):
        shard = KeywordStore(tmp_path / f"shard{i}")
        shard.add(*zip(*group, strict=True))
        shard.reload()
        shards.append(shard)
    return single, shards


def test_shard_of_is_stable_and_spreads_articles():
    assert shard_of("ctx_0001", 4) == shard_of("ctx_0001", 4)
    counts = [0] * 4
    for i in range(400):
        counts[shard_of(f"ctx_{i:04d}", 4)] += 1
    assert min(counts) > 60


def test_merge_is_the_single_index_when_shards_have_its_statistics(tmp_path):
    # In each shard, as in the whole, every word is in half the passages and a passage
    # holds 3.5 words on average: the same IDF and length norm everywhere.
    single, shards = _stores(
        tmp_path,
        [
            [(0, "alpha alpha beta"), (1, "gamma delta delta delta")],
            [(2, "alpha beta beta beta"), (3, "gamma gamma delta")],
        ],
    )
    for query in ["alpha", "beta", "delta", "alpha gamma", "beta delta", "alpha delta"]:
        one = single.search(query, 3)
        merged = search_shards(shards, query, 3)
        assert merged == merge_top_k([one], 3) and len(merged) >= 2
        scores = {pid: s for shard in shards for pid, s in shard.search(query, 3).items()}
        assert [scores[pid] for pid in merged] == pytest.approx([one[pid] for pid in merged])


def test_shard_local_idf_can_change_the_ranking(tmp_path):
    # "beta" is rare in the first shard and in every passage of the second: there it is
    # worth little, so the passage that says it twice loses its first place.
    single, shards = _stores(
        tmp_path,
        [
            [(0, "beta filler"), (1, "filler other"), (2, "other filler"), (3, "filler filler")],
            [(4, "beta beta other"), (5, "beta filler other"), (6, "beta other other")],
        ],
    )
    assert merge_top_k([single.search("beta", 3)], 1) == [4]
    assert search_shards(shards, "beta", 3)[:1] == [0]


def test_one_shard_measures_as_one_index(tmp_path):
    report = measure(DATA / "arcd-sample.json", [1, 2], tmp_path, 250, 1, limit=20)
    one, same, two = report["rows"]
    assert report["n_questions"] == 20 and report["passages_per_shard"][1] == [report["n_passages"]]
    assert {k: v for k, v in same.items() if k != "index"} == {
        k: v for k, v in one.items() if k != "index"
    }
    assert one["identical_top10"] == one["top10_overlap"] == 1.0
    assert 0 < one["recall_at_10"] <= 1
    assert sum(report["passages_per_shard"][2]) == report["n_passages"]
    assert 0 < two["top10_overlap"] <= 1
