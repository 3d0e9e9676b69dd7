"""The index's shards served by Ray Serve (``rag.store.served``): two shards answer as one
index does, through the client and through the Pipeline (NABAA_CLUSTER), and a shard
replica killed under a query is restarted by Serve while the client asks again, and a shard
under load is given a second replica by Serve's autoscaler (one local Ray instance, 2
CPUs)."""

from __future__ import annotations

import threading
import time

import pytest
import ray
from conftest import CountingEmbedder, write_articles
from ray import serve

from rag.config import get_settings
from rag.errors import NabaaError
from rag.pipeline import Pipeline
from rag.store.index import load_index, update_index
from rag.store.served import (
    APP_PREFIX,
    ServedStore,
    Shard,
    deploy_shards,
    scaling,
    start_serve,
)
from rag.store.shards import shard_index
from rag.store.store import Found, SegmentStore

MAX_CHARS, OVERLAP, K = 250, 1, 5
# The replica of the slow shard holds each search this long: time to kill it meanwhile.
SLOW_S = 2.0


class SlowShard(Shard.func_or_class):
    """A shard whose searches take ``SLOW_S``."""

    def search(self, *args):
        time.sleep(SLOW_S)
        return super().search(*args)


@pytest.fixture(scope="module")
def served(ray_cluster, tmp_path_factory):
    """One index over 27 articles, and its two shards served; yields (the index, the shard
    folders, the client, the ARCD questions). Serve stops afterwards, freeing its CPUs."""
    tmp = tmp_path_factory.mktemp("served")
    questions = write_articles(tmp / "articles")
    update_index(tmp / "articles", tmp / "index", CountingEmbedder(), MAX_CHARS, OVERLAP)
    folders = shard_index(tmp / "index", 2, tmp / "shards")
    assert start_serve("127.0.0.1", None) is None  # no HTTP proxy: the shards have no routes
    deploy_shards(folders, replica_cpus=0.5)
    yield load_index(tmp / "index"), folders, ServedStore.connect("auto"), questions
    serve.shutdown()


def _queries(questions, seeds_qa) -> list[str]:
    """Questions of the ARCD sample (Arabic) and of the seeds (English and Arabic)."""
    return [q.question for q in questions[:6]] + [q["question"] for q in seeds_qa[:4]]


def _assert_same(served: list[Found], one: list[Found]) -> None:
    """The same passages (doc, passage id) with the same scores, rank by rank. Equal texts
    have equal vectors here, so passages tied with the last may come in another order or
    be cut: those are compared by text."""
    assert len(served) == len(one)
    for (_, cos, key), (_, one_cos, one_key) in zip(served, one, strict=True):
        assert abs(cos - one_cos) < 1e-5 and abs(key - one_key) < 1e-5
    cut = one[-1][2] + 1e-5 if one else 0.0

    def named(found: list[Found]) -> list[tuple]:
        return sorted(
            (round(key, 5), p.doc_id, p.passage_id) if key > cut else (round(key, 5), p.text)
            for p, _, key in found
        )

    assert named(served) == named(one)


def test_two_served_shards_answer_as_one_index(served, seeds_qa):
    one, folders, store, questions = served
    embedder = CountingEmbedder()
    shards = [SegmentStore(f) for f in folders]
    assert all(s.n_passages for s in shards)
    assert sum(s.n_passages for s in shards) == one.n_passages
    assert store.articles().keys() == one.articles().keys()
    docs = sorted(one.articles())
    assert store.article_meta(docs) == one.article_meta(docs)
    assert (store.sources(), store.newest_date()) == (one.sources(), one.newest_date())
    assert store.manifest.embedder == one.manifest.embedder

    # Only some articles: the filter's ids are the client's, carrying their shard.
    chosen = set(docs[::3])
    one_among = [
        p
        for p, x in one.passages(one.pids_published(None, None, None)).items()
        if x.doc_id in chosen
    ]
    served_among = [
        p
        for p, x in store.passages(store.pids_published(None, None, None)).items()
        if x.doc_id in chosen
    ]
    assert len(served_among) == len(one_among) > K
    assert len({p >> 40 for p in served_among}) == 2

    for query in _queries(questions, seeds_qa):
        vector = embedder.embed_query(query)
        _assert_same(store.search(vector, K), one.search(vector, K))
        _assert_same(store.search(vector, K, served_among), one.search(vector, K, one_among))
        found = store.hybrid_search(vector, query, K, 0.2, served_among)
        assert len(found) == K and {p.doc_id for p, _, _ in found} <= chosen

        # Hybrid: BM25 is each shard's own, scaled by the best of both, so the reference is
        # the shards' own searches so scaled, merged; the cosines are the one index's.
        hybrid = store.hybrid_search(vector, query, K, 0.2)
        best = max(s.best_bm25(query) for s in shards)
        merged = sorted(
            (
                (s.passages([pid])[pid], cos, key)
                for s in shards
                for pid, cos, key in s.hybrid_ranked(vector, query, K, 0.2, None, best)
            ),
            key=lambda f: -f[2],
        )[:K]
        _assert_same(hybrid, merged)
        cosines = {(p.doc_id, p.passage_id): c for p, c, _ in one.search(vector, one.n_passages)}
        for p, cos, _ in hybrid:
            assert abs(cosines[(p.doc_id, p.passage_id)] - cos) < 1e-5
    assert store.retries == 0


def test_the_pipeline_retrieves_from_the_cluster(served, seeds_qa, tmp_path):
    one, _, _, questions = served
    settings = get_settings(index_dir=tmp_path / "no-index", cluster="auto", keyword_weight=0)
    pipeline = Pipeline(settings)
    pipeline.__dict__["embedder"] = CountingEmbedder()
    local = Pipeline(settings.model_copy(update={"cluster": None, "index_dir": one.path.parent}))
    local.__dict__["embedder"] = CountingEmbedder()
    for query in _queries(questions, seeds_qa):
        hits = pipeline.retrieve(query, K).hits
        expected = local.retrieve(query, K).hits
        _assert_same(*[[(h.passage, h.score, h.score) for h in r] for r in (hits, expected)])
    assert len(pipeline.articles()) == 27
    assert not (tmp_path / "no-index").exists()  # no local index was built


def test_a_killed_replica_is_restarted_and_the_query_asked_again(served, seeds_qa):
    one, folders, store, questions = served
    slow = serve.deployment(SlowShard, name="Shard", ray_actor_options={"num_cpus": 0.5})
    serve.run(slow.bind(str(folders[0])), name=f"{APP_PREFIX}0", route_prefix=None)
    replica = _replica(0)
    vector = CountingEmbedder().embed_query(questions[0].question)
    answers: list[list[Found]] = []
    asking = threading.Thread(target=lambda: answers.append(store.search(vector, K)))
    asking.start()
    time.sleep(SLOW_S / 2)  # the shard's replica is in the middle of the search
    ray.kill(ray.get_actor(replica, namespace="serve"))  # as a crash would
    asking.join(timeout=120)
    assert answers and store.retries >= 1
    _assert_same(answers[0], one.search(vector, K))
    assert _replica(0) != replica  # Serve started another
    vector = CountingEmbedder().embed_query(seeds_qa[0]["question"])
    _assert_same(store.search(vector, K), one.search(vector, K))


def test_a_shard_under_load_is_scaled_out_by_serve(served, seeds_qa):
    one, folders, store, questions = served
    deploy_shards(folders, replica_cpus=0.25, replicas=1, max_replicas=2)
    assert _running(1) == 1
    embedder = CountingEmbedder()
    asked = [embedder.embed_query(q) for q in _queries(questions, seeds_qa)]
    expected = [one.search(vector, K) for vector in asked]
    stop, answered, errors = threading.Event(), [], []

    def user() -> None:  # asks again as soon as it has its answer, as a busy client would
        while not stop.is_set():
            for vector, want in zip(asked, expected, strict=True):
                try:
                    _assert_same(store.search(vector, K), want)
                    answered.append(1)
                except Exception as exc:  # every failure is reported below
                    errors.append(exc)

    users = [threading.Thread(target=user) for _ in range(8)]
    for thread in users:
        thread.start()
    deadline = time.monotonic() + 120
    while _running(1) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    stop.set()
    for thread in users:
        thread.join(timeout=60)
    assert _running(1) == 2, "Serve's autoscaler added no replica under load"
    assert answered and not errors, errors[:3]


def _running(shard: int) -> int:
    """How many replicas of a shard's application are running."""
    app = serve.status().applications[f"{APP_PREFIX}{shard}"]
    return sum(d.replica_states.get("RUNNING", 0) for d in app.deployments.values())


def _replica(shard: int) -> str:
    """The name of the replica actor of a shard's application, once it has one only (a
    replaced one may still be stopping)."""
    prefix = f"SERVE_REPLICA::{APP_PREFIX}{shard}#"
    for _ in range(300):
        actors = ray.util.list_named_actors(all_namespaces=True)
        names = [a["name"] for a in actors if a["name"].startswith(prefix)]
        if len(names) == 1:
            return names[0]
        time.sleep(0.1)
    raise AssertionError(f"shard {shard} has replicas {names}")


def test_replica_options_for_serve():
    assert scaling(2) == scaling(2, 2) == {"num_replicas": 2}
    auto = scaling(1, 3, target=4)["autoscaling_config"]
    assert (auto["min_replicas"], auto["max_replicas"]) == (1, 3)
    assert auto["target_ongoing_requests"] == 4
    with pytest.raises(NabaaError, match="--max-replicas"):
        scaling(3, 2)
