"""The index's shards served by Ray Serve: ``python -m rag serve-shards``, NABAA_CLUSTER.

Each shard folder (``rag.store.shards``) is one Serve application, ``nabaa-shard-<i>``,
whose ``Shard`` replicas open the folder and only read it. ``ServedStore`` is the
``PassageReader`` retrieval uses instead of the local store: it asks every shard at once
through Serve's deployment handles and merges their top ``k`` with FAISS's result heap.

A passage's id carries its shard in the bits above ``SHARD_SHIFT``, so that the ids the
client hands out (to ``among`` filters, ``passages``) never collide across shards.

Failures: Serve restarts a replica that dies; the client asks a shard again when its
replica died under a request (``RETRIES`` times, counted in ``ServedStore.retries``).
Shard folders must be readable at the same path on every node that runs a replica.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.context import _get_global_client
from ray.serve.handle import DeploymentHandle

from rag.errors import NabaaError
from rag.ingest.chunking import Passage
from rag.ingest.formats.meta import ArticleMeta
from rag.store.catalog import IndexedArticle
from rag.store.ray_ingest import connect
from rag.store.store import Found, Manifest, Ranked, SegmentStore

APP_PREFIX = "nabaa-shard-"
# Global passage id = shard << SHARD_SHIFT | the shard's own id (up to 2**40 passages each).
SHARD_SHIFT = 40
_LOCAL = (1 << SHARD_SHIFT) - 1
# A shard is asked again this many times when its replica dies, after RETRY_WAIT_S, 2x, ...
RETRIES = 5
RETRY_WAIT_S = 0.5
# Seconds a shard may take to answer before it is asked again.
ANSWER_TIMEOUT_S = 60.0
# How often Serve checks a replica (its default, 10 s, is how long a dead one may go unseen).
HEALTH_CHECK_S = 2.0
# Serve's autoscaler adds a replica once the load has stayed above its target this long
# (its default, 30 s, is long for a search), and removes one after this long below it.
UPSCALE_DELAY_S = 5.0
DOWNSCALE_DELAY_S = 120.0

ShardAnswer = tuple[list[Ranked], dict[int, Passage]]  # ranked ids, their live passages


@serve.deployment(health_check_period_s=HEALTH_CHECK_S)
class Shard:
    """One shard folder, which it only reads: the store's reads, by the shard's own ids."""

    def __init__(self, path: str) -> None:
        self.store = SegmentStore(Path(path))

    def manifest(self) -> Manifest:
        """What the shard was built with."""
        return self.store.manifest

    def search(self, query: np.ndarray, k: int, among: Sequence[int] | None) -> ShardAnswer:
        """``SegmentStore.ranked`` and the passages it names."""
        return self._answer(self.store.ranked(query, k, among))

    def hybrid_search(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        keyword_weight: float,
        among: Sequence[int] | None,
        best_bm25: float,
    ) -> ShardAnswer:
        """``SegmentStore.hybrid_ranked`` and the passages it names."""
        ranked = self.store.hybrid_ranked(query_vector, query, k, keyword_weight, among, best_bm25)
        return self._answer(ranked)

    def best_bm25(self, query: str, among: Sequence[int] | None) -> float:
        """The shard's best BM25 score for ``query``."""
        return self.store.best_bm25(query, among)

    def _answer(self, ranked: list[Ranked]) -> ShardAnswer:
        return ranked, self.store.passages([pid for pid, _, _ in ranked])

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        """Live passages by id."""
        return self.store.passages(pids)

    def articles(self) -> dict[str, IndexedArticle]:
        """The shard's articles by id."""
        return self.store.articles()

    def pids_published(self, since: str | None, until: str | None, source: str | None) -> list[int]:
        """The shard's passages published in a range of dates, by a source."""
        return self.store.pids_published(since, until, source)

    def article_meta(self, doc_ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """The metadata of those of these articles the shard holds."""
        return self.store.article_meta(doc_ids)

    def newest_date(self) -> str | None:
        """The shard's latest publication date."""
        return self.store.newest_date()

    def sources(self) -> list[str]:
        """The outlets the shard's articles name."""
        return self.store.sources()


def global_id(shard: int, pid: int) -> int:
    """The id the client gives a shard's passage ``pid``."""
    return shard << SHARD_SHIFT | pid


def split_id(gid: int) -> tuple[int, int]:
    """The shard and its own passage id of a global id."""
    return gid >> SHARD_SHIFT, gid & _LOCAL


def start_serve(host: str, port: int | None) -> str | None:
    """Start Serve on the connected cluster, its HTTP proxy (for ``serve-app``) on the head
    node at ``host:port``, or none without a port. Serve's options are fixed for its
    lifetime: where it already runs, it keeps its own. Returns the URL its proxy listens
    at, or None where it has none."""
    if port is None:
        serve.start(proxy_location="Disabled")
    else:
        serve.start(proxy_location="HeadOnly", http_options={"host": host, "port": port})
    if not serve.status().proxies:
        return None
    options = _get_global_client().http_config  # Serve's own, not the ones asked for
    return f"http://{options.host}:{options.port}"


def scaling(replicas: int, max_replicas: int | None = None, target: float = 2.0) -> dict:
    """Deployment options: ``replicas`` replicas, or with ``max_replicas`` above that,
    Serve's autoscaling between the two, aiming at ``target`` requests under way (queued
    included) per replica."""
    if max_replicas is None or max_replicas == replicas:
        return {"num_replicas": replicas}
    if max_replicas < replicas:
        raise NabaaError(f"--max-replicas ({max_replicas}) is below --replicas ({replicas}).")
    autoscaling = {
        "min_replicas": replicas,
        "max_replicas": max_replicas,
        "target_ongoing_requests": target,
        "upscale_delay_s": UPSCALE_DELAY_S,
        "downscale_delay_s": DOWNSCALE_DELAY_S,
    }
    return {"autoscaling_config": autoscaling}


def deploy_shards(
    folders: Sequence[Path],
    replica_cpus: float = 1.0,
    replicas: int = 1,
    max_replicas: int | None = None,
) -> list[str]:
    """Serve each shard folder as application ``nabaa-shard-<i>`` (no HTTP route) on the
    connected Ray cluster, in ``replicas`` replicas each, or autoscaled up to
    ``max_replicas`` (shards served before beyond these are deleted); returns the names."""
    options = scaling(replicas, max_replicas)
    names = []
    for shard, folder in enumerate(folders):
        app = Shard.options(ray_actor_options={"num_cpus": replica_cpus}, **options).bind(
            str(folder.resolve())
        )
        names.append(f"{APP_PREFIX}{shard}")
        serve.run(app, name=names[-1], route_prefix=None)
    for stale in set(served_shards().values()) - set(names):
        serve.delete(stale)
    return names


def served_shards() -> dict[int, str]:
    """The shard applications served on the connected cluster, by shard."""
    apps = serve.status().applications
    return {int(n.removeprefix(APP_PREFIX)): n for n in apps if n.startswith(APP_PREFIX)}


class ServedStore:
    """The served shards as one ``PassageReader``: each call asks the shards at once and
    merges their answers.

    Dense search is exact across shards: the merged top ``k`` is the one index's. Hybrid
    search scales BM25 by the best score of all shards (asked first), but BM25 itself is
    shard-local: each shard scores with its own statistics (document frequencies,
    lengths), like Elasticsearch's default query-then-fetch, so fused scores and the
    ranking may differ from one index's. ``retries`` counts the shard requests asked
    again after a replica died or did not answer.
    """

    def __init__(self, handles: dict[int, DeploymentHandle]) -> None:
        if not handles:
            raise NabaaError("No shards are served: run `python -m rag serve-shards` first.")
        self.handles = handles
        self.retries = 0
        self._lock = threading.Lock()
        manifests = self._ask("manifest", {shard: () for shard in handles})
        embedders = {(m.embedder, m.dim) for m in manifests.values()}
        if len(embedders) != 1:
            raise NabaaError(f"The served shards were built with different embedders: {embedders}.")
        self.manifest: Manifest = manifests[min(manifests)]

    @classmethod
    def connect(cls, address: str) -> ServedStore:
        """The shards served on the Ray cluster at ``address`` (``auto``, ``ray://…``)."""
        connect(address)
        return cls({shard: serve.get_app_handle(n) for shard, n in served_shards().items()})

    def _ask(self, method: str, calls: dict[int, tuple]) -> dict[int, Any]:
        """``method(*args)`` of each shard in ``calls`` (shard: args), all at once; a shard
        whose replica died is asked again."""
        pending = {s: getattr(self.handles[s], method).remote(*a) for s, a in calls.items()}
        answers = {}
        for shard, args in calls.items():
            for attempt in range(RETRIES + 1):
                try:
                    answers[shard] = pending[shard].result(timeout_s=ANSWER_TIMEOUT_S)
                    break
                except (RayActorError, TimeoutError) as exc:
                    if attempt == RETRIES:
                        raise NabaaError(f"Shard {shard} did not answer ({exc}).") from exc
                    with self._lock:
                        self.retries += 1
                    time.sleep(RETRY_WAIT_S * 2**attempt)
                    pending[shard] = getattr(self.handles[shard], method).remote(*args)
        return answers

    def _ask_all(self, method: str, *args: object) -> dict[int, Any]:
        return self._ask(method, {shard: args for shard in self.handles})

    def _among(self, among: Sequence[int] | None) -> dict[int, list[int] | None]:
        """``among`` (global ids) as each shard's own ids; shards with none left out."""
        if among is None:
            return dict.fromkeys(self.handles)
        mine: dict[int, list[int] | None] = {}
        for gid in among:
            shard, pid = split_id(int(gid))
            mine.setdefault(shard, []).append(pid)
        return {shard: pids for shard, pids in mine.items() if shard in self.handles}

    def _merge(self, answers: dict[int, ShardAnswer], k: int) -> list[Found]:
        """The best ``k`` of the shards' answers by rank key (FAISS's result heap)."""
        heap = faiss.ResultHeap(1, k, keep_max=True)
        found: dict[int, Found] = {}
        for shard, (ranked, passages) in answers.items():
            live = [(pid, cos, key) for pid, cos, key in ranked if pid in passages]
            if not live:
                continue
            gids = np.array([[global_id(shard, pid) for pid, _, _ in live]], dtype=np.int64)
            keys = np.array([[key for _, _, key in live]], dtype=np.float32)
            heap.add_result(keys, gids)
            for gid, (pid, cos, key) in zip(gids[0].tolist(), live, strict=True):
                found[gid] = (passages[pid], cos, key)
        heap.finalize()
        return [found[gid] for gid in heap.I[0].tolist() if gid >= 0]

    def search(self, query: np.ndarray, k: int, among: Sequence[int] | None = None) -> list[Found]:
        """The ``k`` passages nearest to a normalized query vector over all shards."""
        calls = {s: (query, k, pids) for s, pids in self._among(among).items()}
        return self._merge(self._ask("search", calls), k)

    def hybrid_search(
        self,
        query_vector: np.ndarray,
        query: str,
        k: int,
        keyword_weight: float,
        among: Sequence[int] | None = None,
    ) -> list[Found]:
        """The ``k`` best passages by cosine + ``keyword_weight`` * BM25 / the best BM25 of
        all shards, each shard's BM25 by its own statistics (see the class)."""
        mine = self._among(among)
        bests = self._ask("best_bm25", {s: (query, pids) for s, pids in mine.items()})
        best = max(bests.values(), default=0.0)
        calls = {s: (query_vector, query, k, keyword_weight, ids, best) for s, ids in mine.items()}
        return self._merge(self._ask("hybrid_search", calls), k)

    def passages(self, pids: Sequence[int]) -> dict[int, Passage]:
        """Live passages by global id."""
        answers = self._ask("passages", {s: (ids,) for s, ids in self._among(pids).items()})
        return {
            global_id(shard, pid): passage
            for shard, found in answers.items()
            for pid, passage in found.items()
        }

    def articles(self) -> dict[str, IndexedArticle]:
        """Every served article by id."""
        return {doc: a for found in self._ask_all("articles").values() for doc, a in found.items()}

    def pids_published(self, since: str | None, until: str | None, source: str | None) -> list[int]:
        """Global ids of the passages published in a range of dates, by a source."""
        answers = self._ask_all("pids_published", since, until, source)
        return [global_id(shard, pid) for shard, pids in answers.items() for pid in pids]

    def article_meta(self, doc_ids: Sequence[str]) -> dict[str, ArticleMeta]:
        """The metadata of these articles, from the shards that hold them."""
        answers = self._ask_all("article_meta", list(doc_ids))
        return {doc: m for found in answers.values() for doc, m in found.items()}

    def newest_date(self) -> str | None:
        """The latest publication date of any served article, or None."""
        return max(filter(None, self._ask_all("newest_date").values()), default=None)

    def sources(self) -> list[str]:
        """The outlets the served articles name."""
        return sorted({s for found in self._ask_all("sources").values() for s in found})
