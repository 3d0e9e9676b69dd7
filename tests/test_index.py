import json
import shutil
import sqlite3

import numpy as np
import pytest

from rag.errors import EmptyCorpusError, IndexCorruptError
from rag.store.catalog import Catalog
from rag.store.index import load_index, update_index


def _update(seeds, index_dir, embedder, max_chars=300):
    return update_index(seeds, index_dir, embedder, max_chars=max_chars, overlap_sentences=1)


def test_build_then_add_modify_delete_reembeds_only_that_article(
    tmp_path, seeds, counting_embedder
):
    index_dir = tmp_path / "index"
    report = _update(seeds, index_dir, counting_embedder)
    assert sorted(report.added) == ["000_7cec5dfa3ac44c0f", "004_82baf4bec990e674"]
    total = load_index(index_dir).n_passages
    assert total == report.n_passages == len(counting_embedder.embedded)

    counting_embedder.embedded.clear()
    report = _update(seeds, index_dir, counting_embedder)
    assert not report.changed and counting_embedder.embedded == []

    (seeds / "new.txt").write_text("عنوان جديد\nخبر جديد عن الاقتصاد.", encoding="utf-8")
    report = _update(seeds, index_dir, counting_embedder)
    assert report.added == ["new"] and not report.modified and not report.deleted
    assert counting_embedder.embedded == ["عنوان جديد\nخبر جديد عن الاقتصاد."]

    counting_embedder.embedded.clear()
    (seeds / "new.txt").write_text("عنوان جديد\nخبر معدل.", encoding="utf-8")
    report = _update(seeds, index_dir, counting_embedder)
    assert report.modified == ["new"] and counting_embedder.embedded == ["عنوان جديد\nخبر معدل."]

    counting_embedder.embedded.clear()
    (seeds / "new.txt").unlink()
    report = _update(seeds, index_dir, counting_embedder)
    assert report.deleted == ["new"] and counting_embedder.embedded == []
    index = load_index(index_dir)
    passages, _ = index.dump()
    assert index.n_passages == total == len(passages)
    assert {p.doc_id for p in passages} == {"000_7cec5dfa3ac44c0f", "004_82baf4bec990e674"}
    # Reused vectors still find their own passage.
    passage = passages[3]
    assert index.search(counting_embedder.embed_query(passage.text), 1)[0][0] == passage


def test_only_one_store_folder_is_kept(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (seeds / "x.txt").write_text("خبر.", encoding="utf-8")
    _update(seeds, index_dir, counting_embedder, max_chars=500)  # a rebuild
    assert len([p for p in index_dir.iterdir() if p.name.startswith("s-")]) == 1


def test_changed_chunking_or_embedder_triggers_a_rebuild(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    report = _update(seeds, index_dir, counting_embedder, max_chars=500)
    assert "chunking changed" in report.rebuilt_reason
    counting_embedder.model_id = "other:8"
    report = _update(seeds, index_dir, counting_embedder, max_chars=500)
    assert "embedder" in report.rebuilt_reason


def _damage(store_path, damage):
    segment = next(store_path.glob("seg-*"))
    if damage == "catalog":
        (store_path / "catalog.sqlite").write_bytes(b"garbage" * 100)
        for wal in store_path.glob("catalog.sqlite-*"):
            wal.unlink()
    elif damage == "vectors":
        data = (segment / "vectors.npy").read_bytes()
        (segment / "vectors.npy").write_bytes(data[: len(data) // 2])
    elif damage == "name":  # a readable segment, but outside the store folder
        shutil.copytree(segment, store_path.parent / "elsewhere")
        db = sqlite3.connect(store_path / "catalog.sqlite")
        with db:
            db.execute("UPDATE segments SET name = '../elsewhere'")
        db.close()
    elif damage == "ids":
        np.save(segment / "pids.npy", np.arange(3))
    elif damage == "segment":
        shutil.rmtree(segment)
    elif damage == "keyword":
        (store_path / "keyword" / "meta.json").write_text("{not json")
    else:
        (store_path.parent / "CURRENT").write_text("s-missing")


@pytest.mark.parametrize(
    "damage", ["catalog", "vectors", "ids", "segment", "name", "keyword", "pointer"]
)
def test_a_damaged_index_is_detected_and_rebuilt(tmp_path, seeds, counting_embedder, damage):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    _damage(load_index(index_dir).path, damage)
    with pytest.raises(IndexCorruptError):
        load_index(index_dir)
    report = _update(seeds, index_dir, counting_embedder)
    assert report.rebuilt_reason
    assert load_index(index_dir).n_passages == report.n_passages > 0


def test_an_index_of_the_old_format_is_rebuilt(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    (index_dir / "v-20260101T000000-abcd").mkdir(parents=True)
    (index_dir / "CURRENT").write_text("v-20260101T000000-abcd")
    with pytest.raises(IndexCorruptError, match="old format"):
        load_index(index_dir)
    report = _update(seeds, index_dir, counting_embedder)
    assert "old format" in report.rebuilt_reason
    assert not (index_dir / "v-20260101T000000-abcd").exists()


def test_an_index_of_the_old_format_is_converted_without_embedding(
    tmp_path, seeds, counting_embedder
):
    import faiss

    from rag.ingest.articles import load_articles
    from rag.ingest.chunking import chunk_article

    index_dir, old = tmp_path / "index", tmp_path / "index" / "v-20260101T000000-abcd"
    old.mkdir(parents=True)
    articles = load_articles(seeds).articles
    passages = [p for a in articles for p in chunk_article(a, 300, 1)]
    flat = faiss.IndexFlatIP(counting_embedder.dim)
    flat.add(counting_embedder.embed_documents([p.text for p in passages]))
    faiss.write_index(flat, str(old / "faiss.index"))
    lines = [
        json.dumps({**p.__dict__, "sentences": [list(s) for s in p.sentences]}) for p in passages
    ]
    (old / "passages.jsonl").write_text("\n".join(lines) + "\n")
    manifest = {
        "embedder": counting_embedder.model_id,
        "dim": counting_embedder.dim,
        "chunking": {"max_chars": 300, "overlap_sentences": 1},
        "articles": {
            a.doc_id: {
                "title": a.title,
                "content_hash": a.content_hash,
                "n_passages": sum(p.doc_id == a.doc_id for p in passages),
                "indexed_at": "2026-01-01T00:00:00",
            }
            for a in articles
        },
        "format_version": 1,
    }
    (old / "manifest.json").write_text(json.dumps(manifest))
    (index_dir / "CURRENT").write_text(old.name)
    counting_embedder.embedded.clear()

    report = _update(seeds, index_dir, counting_embedder)
    assert report.migrated and not report.rebuilt_reason and "old format" in report.summary()
    assert counting_embedder.embedded == [] and not old.exists()
    index = load_index(index_dir)
    assert index.n_passages == len(passages)
    assert index.search(counting_embedder.embed_query(passages[5].text), 1)[0][0] == passages[5]


def test_a_crash_before_the_catalog_commit_leaves_the_previous_index(
    tmp_path, seeds, counting_embedder, monkeypatch
):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    before = load_index(index_dir)
    n_before, articles_before = before.n_passages, before.articles().keys()
    (seeds / "new.txt").write_text("عنوان\nخبر جديد عن القمح في الأردن.", encoding="utf-8")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    # The segment and the keyword entries are written; the catalog never registers them.
    monkeypatch.setattr(Catalog, "insert_passages", crash)
    with pytest.raises(OSError):
        _update(seeds, index_dir, counting_embedder)
    after = load_index(index_dir)
    assert after.path == before.path
    assert after.n_passages == n_before and after.articles().keys() == articles_before
    query = counting_embedder.embed_query("x")
    assert all(p.doc_id != "new" for p, _, _ in after.hybrid_search(query, "القمح الأردن", 5, 0.2))

    monkeypatch.undo()
    report = _update(seeds, index_dir, counting_embedder)
    assert report.added == ["new"]
    found = load_index(index_dir).hybrid_search(query, "القمح الأردن", 5, 0.2)
    assert [p.doc_id for p, _, _ in found].count("new") == 1
    assert not [
        p for p in after.path.glob("seg-*") if p.name not in {s.name for s in after.segments()}
    ]


def test_empty_seeds_folder_is_a_clear_error(tmp_path, counting_embedder):
    (tmp_path / "seeds").mkdir()
    with pytest.raises(EmptyCorpusError, match="No readable articles"):
        _update(tmp_path / "seeds", tmp_path / "index", counting_embedder)


def test_a_binary_file_is_skipped_with_a_warning(tmp_path, seeds, counting_embedder):
    (seeds / "photo.txt").write_bytes(bytes(range(256)))
    report = _update(seeds, tmp_path / "index", counting_embedder)
    assert any("photo.txt" in p for p in report.problems)
    assert "photo" not in load_index(tmp_path / "index").articles()


@pytest.mark.parametrize("meta", [{"dim": "many"}, {"chunking": "[]"}, {"embedder": None}])
def test_settings_of_the_wrong_shape_are_damage(tmp_path, seeds, counting_embedder, meta):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    db = sqlite3.connect(load_index(index_dir).path / "catalog.sqlite")
    with db:
        for key, value in meta.items():
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    db.close()
    with pytest.raises(IndexCorruptError, match="damaged"):
        load_index(index_dir)
    report = _update(seeds, index_dir, counting_embedder)
    assert "damaged" in report.rebuilt_reason
    assert load_index(index_dir).n_passages == report.n_passages


@pytest.mark.parametrize("pointer", ["../../etc", "/tmp", "s-x/../../y", ""])
def test_current_may_only_name_a_store_folder(tmp_path, seeds, counting_embedder, pointer):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (index_dir / "CURRENT").write_text(pointer)
    with pytest.raises(IndexCorruptError, match="CURRENT"):
        load_index(index_dir)
