"""`python -m rag index --engine ray`: a Ray Data build equals the local one (passages,
vectors, article metadata; every format), survives a killed worker and resumes after its
last commit (one local Ray instance, 2 CPUs)."""

from __future__ import annotations

import functools
import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, CountingEmbedder, write_articles

from rag.config import get_settings
from rag.pipeline import Pipeline
from rag.store.index import load_index, update_index
from rag.store.ray_ingest import index_on_ray, update_index_on_ray

MAX_CHARS, OVERLAP = 250, 1


class CrashingEmbedder(CountingEmbedder):
    """Kills its worker process at its first batch, once: ``marker`` remembers."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def embed_documents(self, texts, titles=None, batch_size=32, on_progress=None):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().embed_documents(texts, titles, batch_size, on_progress)


class Interrupted(Exception):
    pass


@pytest.fixture
def articles(tmp_path):
    """The seeds and the ARCD sample's 25 contexts, as one folder of 27 articles."""
    write_articles(tmp_path / "articles")
    return tmp_path / "articles"


def _by_article(index_dir):
    """{doc_id: [(passage_id, text, vector)]} of an index, each article's in order."""
    passages, vectors = load_index(index_dir).dump()
    found: dict[str, list] = {}
    for passage, vector in zip(passages, vectors, strict=True):
        found.setdefault(passage.doc_id, []).append((passage.passage_id, passage.text, vector))
    return found


def _assert_same(ray_index, local_index, atol=0.0):
    ray_docs, local_docs = _by_article(ray_index), _by_article(local_index)
    assert sorted(ray_docs) == sorted(local_docs)
    for doc, local in local_docs.items():
        built = ray_docs[doc]
        assert [(pid, text) for pid, text, _ in built] == [(pid, text) for pid, text, _ in local]
        np.testing.assert_allclose(
            np.stack([v for *_, v in built]), np.stack([v for *_, v in local]), atol=atol
        )
    assert _catalog(ray_index) == _catalog(local_index)


def _catalog(index_dir):
    """What the catalog records of each article, but when it was indexed."""
    articles = load_index(index_dir).articles()
    return {d: (a.title, a.content_hash, a.n_passages, a.meta) for d, a in articles.items()}


def _ray(source, index_dir, load=CountingEmbedder, **options):
    return update_index_on_ray(source, index_dir, load, MAX_CHARS, OVERLAP, **options)


@pytest.fixture
def local_build(tmp_path, articles):
    index_dir = tmp_path / "local"
    update_index(articles, index_dir, CountingEmbedder(), MAX_CHARS, OVERLAP)
    return index_dir


@pytest.mark.models
def test_ray_build_equals_the_local_build(ray_cluster, tmp_path, articles):
    settings = get_settings(seeds_dir=articles, index_dir=tmp_path / "local")
    Pipeline(settings).update_index()
    ray_settings = settings.model_copy(update={"index_dir": tmp_path / "ray"})
    report = index_on_ray(ray_settings)
    assert len(report.added) == 27 and report.embedded_passages == report.n_passages
    _assert_same(tmp_path / "ray", tmp_path / "local", atol=1e-4)


def test_a_killed_worker_is_restarted_and_the_index_is_complete(
    ray_cluster, tmp_path, articles, local_build
):
    marker = tmp_path / "crashed"
    load = functools.partial(CrashingEmbedder, str(marker))
    report = _ray(articles, tmp_path / "ray", load, commit_every=16)
    assert marker.exists()  # the first attempt died
    passages, _ = load_index(tmp_path / "ray").dump()
    ids = [(p.doc_id, p.passage_id) for p in passages]
    assert len(ids) == len(set(ids)) == report.n_passages == report.embedded_passages
    _assert_same(tmp_path / "ray", local_build)


def test_a_rerun_resumes_after_the_last_commit_and_then_embeds_nothing(
    ray_cluster, tmp_path, articles, local_build
):
    index_dir = tmp_path / "ray"
    committed = []

    def stop_after_first(n):
        committed.append(n)
        raise Interrupted

    with pytest.raises(Interrupted):
        _ray(articles, index_dir, commit_every=20, on_commit=stop_after_first)
    assert not (index_dir / "CURRENT").exists() and (index_dir / "BUILDING").exists()
    total = load_index(local_build).n_passages

    report = _ray(articles, index_dir, commit_every=20)
    assert report.embedded_passages == total - committed[0] > 0
    assert not (index_dir / "BUILDING").exists()
    _assert_same(index_dir, local_build)

    report = _ray(articles, index_dir)
    assert report.embedded_passages == 0 and not report.changed
    assert len(report.unchanged) == 27

    (articles / "ctx_0000.txt").write_text("عنوان\n\nخبر معدل.", encoding="utf-8")
    (articles / "ctx_0001.txt").unlink()
    report = _ray(articles, index_dir)
    assert report.modified == ["ctx_0000"] and report.deleted == ["ctx_0001"]
    assert report.embedded_passages == 1
    update_index(articles, local_build, CountingEmbedder(), MAX_CHARS, OVERLAP)
    _assert_same(index_dir, local_build)


def test_a_list_of_paths_in_jsonl_or_parquet(ray_cluster, tmp_path, articles, local_build):
    names = sorted(p.name for p in articles.iterdir())
    rows = [{"path": f"articles/{n}", "doc_id": n.removesuffix(".txt")} for n in names]
    listed = tmp_path / "articles.jsonl"
    listed.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    report = _ray(listed, tmp_path / "from-jsonl")
    assert len(report.added) == 27 and not report.problems
    _assert_same(tmp_path / "from-jsonl", local_build)

    # Without doc_id, an article's id is its listed path without the suffix.
    paths = pa.Table.from_pylist([{"path": r["path"]} for r in rows])
    pq.write_table(paths, tmp_path / "a.parquet")
    report = _ray(tmp_path / "a.parquet", tmp_path / "from-parquet")
    assert report.added == sorted(f"articles/{n.removesuffix('.txt')}" for n in names)


def test_formats_dates_ids_and_metadata_as_in_the_local_build(ray_cluster, tmp_path):
    folder = tmp_path / "formats"
    folder.mkdir()
    formats = DATA / "formats"
    for name in [
        "en-port-strike.html",
        "en-port-strike.pdf",  # one story in two formats: two ids
        "ar-desalination.docx",
        "ar-locusts.cp1256.txt",
        "en-flood-warning.md",
    ]:
        shutil.copy(formats / name, folder / name)
    shutil.copy(formats / "scanned.pdf", folder / "note.pdf")  # unreadable: "note" is free
    (folder / "note.txt").write_text("A note.\n\nIt was dated 12 March 2025.\n", encoding="utf-8")
    (folder / "x.odt").write_bytes(b"not read")
    local = tmp_path / "local"
    local_report = update_index(folder, local, CountingEmbedder(), MAX_CHARS, OVERLAP)
    report = _ray(folder, tmp_path / "ray")
    assert report.added == local_report.added
    assert {"en-port-strike.html", "en-port-strike.pdf", "note"} <= set(report.added)
    assert sorted(report.problems) == sorted(local_report.problems)
    _assert_same(tmp_path / "ray", local)

    # Metadata the file changes while its text stays: refreshed, nothing embedded.
    md = folder / "en-flood-warning.md"
    md.write_text(md.read_text().replace("Northern Ledger", "Southern Ledger"))
    update_index(folder, local, CountingEmbedder(), MAX_CHARS, OVERLAP)
    report = _ray(folder, tmp_path / "ray")
    assert report.embedded_passages == 0 and not report.changed
    assert load_index(tmp_path / "ray").articles()["en-flood-warning"].meta.source == (
        "Southern Ledger"
    )
    _assert_same(tmp_path / "ray", local)
