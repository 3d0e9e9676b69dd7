"""Shared fixtures. Tests marked ``models`` load the real default models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT

DATA = Path(__file__).parent / "data"
SEEDS = PROJECT_ROOT / "seeds"


class CountingEmbedder:
    """Deterministic stand-in for unit tests of the index logic: counts what it embeds."""

    dim = 8
    model_id = "counting:8"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        vec = np.frombuffer(digest[: self.dim * 4], dtype=np.uint32).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def embed_documents(self, texts, batch_size=16, on_progress=None):
        self.embedded += list(texts)
        if on_progress:
            on_progress(len(texts))
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text):
        return self._vector(text)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="session")
def seeds_qa() -> list[dict]:
    return json.loads((DATA / "seeds_qa.json").read_text(encoding="utf-8"))["questions"]


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """The real pipeline: default models, a real FAISS index built from seeds/, warmed up."""
    from rag.config import get_settings
    from rag.pipeline import Pipeline

    index_dir = tmp_path_factory.mktemp("index")
    pipe = Pipeline(get_settings(index_dir=index_dir))
    pipe.update_index()
    pipe.warm_up()
    return pipe
