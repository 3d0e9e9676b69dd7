"""The fast embedding paths against plain fp32 sentence-transformers (real model)."""

import numpy as np
import pytest

from rag.config import get_settings
from rag.models.embeddings import Embedder
from rag.models.model_store import ensure_embedder

pytestmark = pytest.mark.models

TEXTS = [
    "في يوم الخميس فقط ، وقع وزير الدفاع الروسي سيرجي شويغو ووزير الدفاع البيلاروسي اتفاقية.",
    "قال توكاييف عن الترتيبات البيلاروسية والروسية: لدينا دولة اتحاد. " * 8,
    "Belarus borders Poland.",
]
TITLES = ["كازاخستان", "توكاييف", "none"]


@pytest.fixture(scope="module")
def plain() -> Embedder:
    return Embedder(ensure_embedder(get_settings()), backend="torch", dtype="float32")


@pytest.mark.parametrize("backend,dtype", [("openvino", "float32"), ("torch", "bfloat16")])
def test_fast_paths_match_fp32(plain, tmp_path, backend, dtype):
    fast = Embedder(plain.path, dtype=dtype, backend=backend, export_root=tmp_path / "ov")
    assert fast.precision == ("openvino" if backend == "openvino" else dtype)
    assert fast.model_id != plain.model_id
    docs = np.sum(fast.embed_documents(TEXTS, TITLES) * plain.embed_documents(TEXTS, TITLES), 1)
    assert docs.min() > 0.995
    assert (
        fast.embed_query("متى وقعت الاتفاقية؟") @ plain.embed_query("متى وقعت الاتفاقية؟") > 0.995
    )


def test_titles_fill_the_document_prompt(plain):
    inputs = plain.document_inputs(["text"], ["My title"])
    assert inputs == ["title: My title | text: text"]
    assert plain.document_inputs(["text"], None) == ["title: none | text: text"]
    titled, untitled = (
        plain.embed_documents(["text"], ["My title"]),
        plain.embed_documents(["text"]),
    )
    assert float(titled[0] @ untitled[0]) < 0.999
