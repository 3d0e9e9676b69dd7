"""Building the index on a Ray cluster: ``python -m rag index --engine ray``.

Ray Data reads and chunks the articles with the local build's own functions (the same
readers, publication dates, ids and metadata) and embeds their passages in a pool of
actors that each load the model once (on a GPU when ``NABAA_RAY_NUM_GPUS`` is set).
The driver writes what comes back into the same store as a local build
(``SegmentStore.add``), one segment per ``commit_every`` passages of whole articles, so
the result is an ordinary index.

Resuming: a committed segment records its articles' content hashes in the catalog, and a
rerun skips every article whose hash is there; a new store stays out of use, named by
``index/BUILDING``, until it is complete (``rag.store.index.building_store``).

Failures are Ray's to handle: Ray Data's actor pool restarts a dead actor and retries its
batch (``max_restarts`` and ``max_task_retries`` of -1, its defaults, kept so that the
reading stage can fuse with the actors: Ray fuses only stages with the same arguments),
and Ray retries a task whose worker died (3 times by default); a batch that raises an
exception fails the build.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import ray
from filelock import FileLock

import rag
from rag.config import Settings
from rag.errors import EmptyCorpusError, ModelError, NabaaError
from rag.ingest.articles import (
    ARTICLE_SUFFIXES,
    default_id,
    list_files,
    load_article,
    unique_ids,
)
from rag.ingest.chunking import chunk_article
from rag.ingest.dates import publication_date
from rag.ingest.formats import ArticleMeta
from rag.models.embeddings import Embedder
from rag.models.model_store import embedder_loader
from rag.store.catalog import IndexedArticle, passage_from_row, stored_meta
from rag.store.index import (
    UpdateReport,
    building_store,
    chunking_settings,
    finish_update,
    refresh_meta,
    usable_store,
)
from rag.store.store import SegmentStore

# Passages per committed segment: what a killed build can lose.
COMMIT_PASSAGES = 2048
# Passages per call of an embedding actor.
EMBED_BATCH = 128
# Articles per Ray block, at least a few blocks per actor so that all of them work.
ARTICLES_PER_BLOCK = 64
BLOCKS_PER_ACTOR = 4
# Retries of the task that asks which model the workers load.
RETRIES = 3

PASSAGE, UNCHANGED, SKIPPED = "passage", "unchanged", "skipped"
# One row per passage to embed, or per article that is unchanged or could not be read.
_ROWS = pa.schema(
    [
        ("kind", pa.string()),
        ("doc_id", pa.string()),
        ("content_hash", pa.string()),
        ("n_passages", pa.int32()),
        ("seq", pa.int32()),
        ("passage_id", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("sentences", pa.string()),
        ("meta", pa.string()),  # the article's metadata as stored (JSON)
        ("notes", pa.list_(pa.string())),  # why a file was skipped, or how it was read
    ]
)
_EMPTY_ROW = {name: "" for name in _ROWS.names} | {
    "n_passages": 0,
    "seq": 0,
    "start": 0,
    "end": 0,
    "notes": [],
}


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (``auto``, ``ray://head:10001``), or start a Ray
    instance of this process's own, even where a cluster already runs on this machine;
    this ``rag`` package is shipped to the workers."""
    if ray.is_initialized():
        return
    runtime_env = {"py_modules": [str(Path(rag.__file__).parent)], "excludes": ["__pycache__"]}
    if address:
        try:
            ray.init(address=address, runtime_env=runtime_env)
        except ConnectionError as exc:
            raise NabaaError(
                f"Could not reach the Ray cluster at {address} ({exc}). Check the address and "
                "that the cluster runs (`ray start --head`). A cluster started by `ray start` "
                "asks for its token: set RAY_AUTH_MODE=token, with RAY_AUTH_TOKEN or the "
                "head node's ~/.ray/auth_token."
            ) from exc
    else:
        ray.init(
            address="local",
            num_cpus=os.cpu_count(),
            include_dashboard=False,
            runtime_env=runtime_env,
        )


def read_and_chunk(
    batch: pa.Table, root: str, known: dict[str, str], max_chars: int, overlap_sentences: int
) -> pa.Table:
    """Ray Data task: read the listed articles (``path`` under ``root``, ``doc_id``) as
    the local build does and cut the new or changed ones (content hash not in ``known``)
    into passage rows."""
    paths, doc_ids = batch["path"].to_pylist(), batch["doc_id"].to_pylist()
    rows = []
    for listed, doc_id in zip(paths, doc_ids, strict=True):
        article, notes = load_article(Path(root, listed), listed, publication_date, None, doc_id)
        row = {**_EMPTY_ROW, "doc_id": doc_id, "notes": notes}
        if article is None:
            rows.append({**row, "kind": SKIPPED})
            continue
        row["meta"] = json.dumps(stored_meta(article.meta).as_dict(), ensure_ascii=False)
        if known.get(doc_id) == article.content_hash:
            rows.append({**row, "kind": UNCHANGED})
        else:
            passages = chunk_article(article, max_chars, overlap_sentences)
            for seq, p in enumerate(passages):
                rows.append(
                    {
                        **row,
                        "kind": PASSAGE,
                        "content_hash": article.content_hash,
                        "n_passages": len(passages),
                        "seq": seq,
                        "passage_id": p.passage_id,
                        "title": p.title,
                        "text": p.text,
                        "start": p.start,
                        "end": p.end,
                        "sentences": json.dumps(p.sentences),
                        "notes": notes if seq == 0 else [],
                    }
                )
    return pa.Table.from_pylist(rows, schema=_ROWS)


class EmbedPassages:
    """Ray Data actor: loads the model once, then adds the vectors of a batch's passage
    rows (float32 bytes; empty for the other rows)."""

    def __init__(self, load_embedder: Callable[[], Embedder], model_id: str) -> None:
        self.embedder = load_embedder()
        if self.embedder.model_id != model_id:
            raise ModelError(
                f"A Ray worker loaded the embedder {self.embedder.model_id}, the build uses "
                f"{model_id}: every node needs the same model and settings."
            )

    def __call__(self, batch: pa.Table) -> pa.Table:
        kinds = batch["kind"].to_pylist()
        rows = [i for i, kind in enumerate(kinds) if kind == PASSAGE]
        vectors = [b""] * len(kinds)
        if rows:
            texts, titles = batch["text"].to_pylist(), batch["title"].to_pylist()
            embedded = self.embedder.embed_documents(
                [texts[i] for i in rows], [titles[i] for i in rows]
            )
            for i, vector in zip(rows, embedded, strict=True):
                vectors[i] = vector.tobytes()
        return batch.append_column("vector", pa.array(vectors, pa.binary()))


def _describe(load_embedder: Callable[[], Embedder]) -> tuple[str, int]:
    embedder = load_embedder()
    return embedder.model_id, embedder.dim


def _embedder_id(load_embedder: Callable[[], Embedder], num_gpus: float) -> tuple[str, int]:
    """The model id and dimension the actors will have, from a worker like theirs (the
    store to write into depends on it)."""
    describe = ray.remote(num_cpus=1, num_gpus=num_gpus, max_calls=1, max_retries=RETRIES)(
        _describe
    )
    return ray.get(describe.remote(load_embedder))


def _blocks(n: int, actors: int) -> int:
    return max(1, min(n, max(BLOCKS_PER_ACTOR * actors, -(-n // ARTICLES_PER_BLOCK))))


def _article_ids(root: Path, names: list[str]) -> dict[str, str]:
    """The ids the local build gives the files ``names`` (under ``root``): ``unique_ids``
    of those that read as articles. Only files that could share an id are read here."""
    supported = [n for n in names if PurePosixPath(n).suffix.lower() in ARTICLE_SUFFIXES]
    counts = Counter(default_id(n) for n in supported)
    readable = [n for n in supported if counts[default_id(n)] == 1 or load_article(root / n, n)[0]]
    return unique_ids(readable)


def _listed_articles(
    source: Path, actors: int, problems: list[str]
) -> tuple[ray.data.Dataset, Path]:
    """The articles to read as a Ray dataset of ``path`` and ``doc_id`` rows, and the
    folder their paths are relative to. ``source`` is a folder of articles, or a .jsonl or
    .parquet file listing their paths (and ids, if it has a ``doc_id`` column)."""
    if source.is_dir():
        root = source
        listed = [{"path": f.relative_to(source).as_posix()} for f in list_files(source, problems)]
    else:
        readers = {".jsonl": ray.data.read_json, ".parquet": ray.data.read_parquet}
        read = readers.get(source.suffix.lower())
        if read is None or not source.is_file():
            raise NabaaError(
                f"{source} is neither a folder of articles nor a .jsonl or .parquet file "
                "listing their paths."
            )
        options = {"lines": True} if read is ray.data.read_json else {}
        dataset = read(str(source), **options)
        if "path" not in dataset.columns():
            raise NabaaError(f"{source} has no column named path.")
        root = source.parent
        listed = dataset.select_columns([c for c in ("path", "doc_id") if c in dataset.columns()])
        listed = listed.take_all()
    if not listed:
        raise EmptyCorpusError(
            f"No articles in {source}. Add {', '.join(ARTICLE_SUFFIXES)} files and retry."
        )
    ids = _article_ids(root, [r["path"] for r in listed if not r.get("doc_id")])
    rows = [
        {"path": r["path"], "doc_id": r.get("doc_id") or ids.get(r["path"], default_id(r["path"]))}
        for r in listed
    ]
    # Split before the actors start (they may hold every CPU), apart from the reading stage.
    return ray.data.from_items(rows, override_num_blocks=_blocks(len(rows), actors)), root


def _meta(row: dict) -> ArticleMeta:
    return ArticleMeta(**json.loads(row["meta"]))


class _Committer:
    """Gathers the rows Ray sends back into whole articles and commits them to the store,
    ``commit_every`` passages or more a segment."""

    def __init__(
        self,
        store: SegmentStore,
        commit_every: int,
        on_commit: Callable[[int], None] | None,
    ) -> None:
        self.store, self.commit_every, self.on_commit = store, commit_every, on_commit
        self.pending: dict[tuple[str, str], dict[int, dict]] = {}
        self.ready: list[list[dict]] = []
        self.committed: list[str] = []
        self.unchanged: dict[str, ArticleMeta] = {}
        self.notes: list[str] = []
        self.embedded = 0

    def take(self, batch: pa.Table) -> None:
        """Sort a batch's rows; commit once enough articles are whole."""
        for row in batch.to_pylist():
            self.notes += row["notes"]
            if row["kind"] == UNCHANGED:
                self.unchanged[row["doc_id"]] = _meta(row)
            elif row["kind"] == PASSAGE:
                self.embedded += 1
                key = (row["doc_id"], row["content_hash"])
                parts = self.pending.setdefault(key, {})
                parts[row["seq"]] = row
                if len(parts) == row["n_passages"]:
                    self.ready.append([parts[seq] for seq in sorted(self.pending.pop(key))])
        while sum(len(rows) for rows in self.ready) >= self.commit_every:
            size, cut = 0, 0
            while size < self.commit_every:
                size += len(self.ready[cut])
                cut += 1
            self._commit(self.ready[:cut])
            self.ready = self.ready[cut:]

    def flush(self) -> None:
        """Commit what is left (every article is whole once Ray's results are all in)."""
        if self.pending:
            raise NabaaError(f"Ray returned part of the passages of {len(self.pending)} articles.")
        if self.ready:
            self._commit(self.ready)
            self.ready = []

    def _commit(self, articles: list[list[dict]]) -> None:
        rows = [row for article in articles for row in article]
        vectors = np.frombuffer(b"".join(row["vector"] for row in rows), dtype=np.float32)
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        indexed = {
            a[0]["doc_id"]: IndexedArticle(
                a[0]["title"], a[0]["content_hash"], len(a), now, _meta(a[0])
            )
            for a in articles
        }
        passages = [passage_from_row(row) for row in rows]
        self.store.add(indexed, passages, vectors.reshape(len(rows), self.store.manifest.dim))
        self.committed += indexed
        if self.on_commit:
            self.on_commit(len(rows))


def _embedded(
    rows: ray.data.Dataset,
    read: dict[str, object],
    embed: tuple[Callable[[], Embedder], str],
    actors: int,
    num_gpus: float,
) -> ray.data.Dataset:
    """Passage rows with their vectors: ``read_and_chunk(**read)`` then ``EmbedPassages(*embed)``
    in a pool of ``actors``. Without a GPU both stages ask for the same resources, so Ray
    fuses them: the actors read too, and no task waits for CPUs they hold."""
    return rows.map_batches(
        read_and_chunk, batch_format="pyarrow", fn_kwargs=read, num_cpus=1
    ).map_batches(
        EmbedPassages,
        batch_format="pyarrow",
        batch_size=EMBED_BATCH,
        fn_constructor_args=embed,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=1,
        num_gpus=num_gpus,
    )


def update_index_on_ray(
    source: Path,
    index_dir: Path,
    load_embedder: Callable[[], Embedder],
    max_chars: int,
    overlap_sentences: int,
    actors: int = 1,
    num_gpus: float = 0,
    commit_every: int = COMMIT_PASSAGES,
    on_commit: Callable[[int], None] | None = None,
) -> UpdateReport:
    """Bring the index in line with ``source`` on the connected Ray cluster (see
    ``connect``), embedding only new or changed articles, like ``update_index``.

    ``source``: a folder of articles, or a .jsonl or .parquet file with a ``path`` column
    (relative to the file's folder) and an optional ``doc_id``. ``load_embedder`` runs in
    each of the ``actors`` (picklable; ``num_gpus`` each). ``on_commit(passages)`` hears
    after each committed segment.
    """
    started = time.perf_counter()
    report = UpdateReport()
    chunking = chunking_settings(max_chars, overlap_sentences)
    index_dir.mkdir(parents=True, exist_ok=True)
    rows, root = _listed_articles(source.resolve(), actors, report.problems)
    with FileLock(str(index_dir / ".lock")):
        model_id, dim = _embedder_id(load_embedder, num_gpus)
        store = usable_store(index_dir, model_id, dim, chunking, report)
        fresh = store is None
        store = store or building_store(index_dir, model_id, dim, chunking)
        try:
            old = store.articles()
            read = {
                "root": str(root),
                "known": {doc: a.content_hash for doc, a in old.items()},
                "max_chars": max_chars,
                "overlap_sentences": overlap_sentences,
            }
            embed = (load_embedder, model_id)
            passages = _embedded(rows, read, embed, actors, num_gpus)
            committer = _Committer(store, commit_every, on_commit)
            for batch in passages.iter_batches(batch_size=None, batch_format="pyarrow"):
                committer.take(batch)
            committer.flush()
            refresh_meta(store, old, committer.unchanged)
            seen = {*committer.committed, *committer.unchanged}
            if not seen:
                raise EmptyCorpusError(
                    f"No readable articles in {source} ({'; '.join(committer.notes)})."
                )
            report.deleted = sorted(set(old) - seen)
            if report.deleted:
                store.add({}, [], np.zeros((0, dim), np.float32), deleted=report.deleted)
            finish_update(index_dir, store, fresh)
            report.added = sorted(d for d in committer.committed if d not in old)
            report.modified = sorted(d for d in committer.committed if d in old)
            report.unchanged = sorted(committer.unchanged)
            report.problems += sorted(committer.notes)
            report.n_passages = store.n_passages
            report.embedded_passages = committer.embedded
        finally:
            store.close()
    report.seconds = time.perf_counter() - started
    return report


def index_on_ray(settings: Settings, source: Path | None = None) -> UpdateReport:
    """``update_index_on_ray`` with the settings (``NABAA_RAY_*``): the seeds folder by
    default, on the cluster at ``ray_address`` or a Ray instance started here."""
    connect(settings.ray_address)
    device = "cuda" if settings.ray_num_gpus else "cpu"
    return update_index_on_ray(
        source or settings.seeds_dir,
        settings.index_dir,
        embedder_loader(settings, device=device),
        settings.chunk_max_chars,
        settings.chunk_overlap_sentences,
        actors=settings.ray_embed_actors,
        num_gpus=settings.ray_num_gpus,
    )
