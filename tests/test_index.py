import json
import shutil

import pytest

from rag.errors import EmptyCorpusError, IndexCorruptError
from rag.store.index import load_index, update_index
from tests.conftest import SEEDS


def _update(seeds, index_dir, embedder, max_chars=300):
    return update_index(seeds, index_dir, embedder, max_chars=max_chars, overlap_sentences=1)


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


def test_build_then_add_modify_delete_reembeds_only_that_article(
    tmp_path, seeds, counting_embedder
):
    index_dir = tmp_path / "index"
    report = _update(seeds, index_dir, counting_embedder)
    assert sorted(report.added) == ["000_7cec5dfa3ac44c0f", "004_82baf4bec990e674"]
    total = load_index(index_dir).faiss_index.ntotal
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
    assert index.faiss_index.ntotal == total
    assert {p.doc_id for p in index.passages} == {"000_7cec5dfa3ac44c0f", "004_82baf4bec990e674"}
    # Reused vectors still find their own passage.
    passage = index.passages[3]
    assert index.search(counting_embedder.embed_query(passage.text), 1)[0][0] == passage


def test_only_one_version_folder_is_kept(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (seeds / "x.txt").write_text("خبر.", encoding="utf-8")
    _update(seeds, index_dir, counting_embedder)
    assert len([p for p in index_dir.iterdir() if p.name.startswith("v-")]) == 1


def test_changed_chunking_or_embedder_triggers_a_rebuild(tmp_path, seeds, counting_embedder):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    report = _update(seeds, index_dir, counting_embedder, max_chars=500)
    assert "chunking changed" in report.rebuilt_reason
    counting_embedder.model_id = "other:8"
    report = _update(seeds, index_dir, counting_embedder, max_chars=500)
    assert "embedder" in report.rebuilt_reason


@pytest.mark.parametrize("damage", ["manifest", "passages", "faiss", "pointer"])
def test_a_damaged_index_is_detected_and_rebuilt(tmp_path, seeds, counting_embedder, damage):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    version = load_index(index_dir).path
    if damage == "manifest":
        (version / "manifest.json").write_text("{not json")
    elif damage == "passages":
        lines = (version / "passages.jsonl").read_text().splitlines()
        (version / "passages.jsonl").write_text("\n".join(lines[:-2]))
    elif damage == "faiss":
        (version / "faiss.index").write_bytes(b"garbage")
    else:
        (index_dir / "CURRENT").write_text("v-missing")
    with pytest.raises(IndexCorruptError):
        load_index(index_dir)
    report = _update(seeds, index_dir, counting_embedder)
    assert report.rebuilt_reason
    assert load_index(index_dir).faiss_index.ntotal == report.n_passages


def test_a_crash_mid_build_leaves_the_previous_index(
    tmp_path, seeds, counting_embedder, monkeypatch
):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    before = load_index(index_dir)
    (seeds / "new.txt").write_text("خبر جديد.", encoding="utf-8")

    import rag.store.index

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rag.store.index, "_fsync_write", crash)
    with pytest.raises(OSError):
        _update(seeds, index_dir, counting_embedder)
    after = load_index(index_dir)
    assert after.path == before.path
    assert json.loads((after.path / "manifest.json").read_text())["articles"].keys() == {
        "000_7cec5dfa3ac44c0f",
        "004_82baf4bec990e674",
    }


def test_empty_seeds_folder_is_a_clear_error(tmp_path, counting_embedder):
    (tmp_path / "seeds").mkdir()
    with pytest.raises(EmptyCorpusError, match="No readable articles"):
        _update(tmp_path / "seeds", tmp_path / "index", counting_embedder)


def test_a_binary_file_is_skipped_with_a_warning(tmp_path, seeds, counting_embedder):
    (seeds / "photo.txt").write_bytes(bytes(range(256)))
    report = _update(seeds, tmp_path / "index", counting_embedder)
    assert any("photo.txt" in p for p in report.problems)
    assert "photo" not in {p.doc_id for p in load_index(tmp_path / "index").passages}


@pytest.mark.parametrize(
    "manifest",
    ['{"articles": []}', "[]", '"text"', "null", '{"embedder": "x", "dim": "many"}'],
)
def test_a_manifest_of_the_wrong_shape_is_damage(tmp_path, seeds, counting_embedder, manifest):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (load_index(index_dir).path / "manifest.json").write_text(manifest)
    with pytest.raises(IndexCorruptError, match="damaged"):
        load_index(index_dir)
    report = _update(seeds, index_dir, counting_embedder)
    assert "damaged" in report.rebuilt_reason
    assert load_index(index_dir).faiss_index.ntotal == report.n_passages


@pytest.mark.parametrize("pointer", ["../../etc", "/tmp", "v-x/../../y", ""])
def test_current_may_only_name_a_version_folder(tmp_path, seeds, counting_embedder, pointer):
    index_dir = tmp_path / "index"
    _update(seeds, index_dir, counting_embedder)
    (index_dir / "CURRENT").write_text(pointer)
    with pytest.raises(IndexCorruptError, match="CURRENT"):
        load_index(index_dir)
