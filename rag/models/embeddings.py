"""Sentence-transformers embeddings with the model's own query and document prompts."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.errors import ModelError
from rag.models import cpu_profile

_FINGERPRINT_FILES = ("modules.json", "config.json", "config_sentence_transformers.json")
# Bumped when the text sent for a document changes (e.g. titles added), so indexes rebuild.
_DOCUMENT_FORMAT = 2
# EmbeddingGemma's document prompt has a slot for the document's title.
_TITLE_SLOT = "title: none"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16); not in the
    AVX2-only profile."""
    if cpu_profile.profile() != "native":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_dtype(setting: str) -> str:
    """``auto`` means bfloat16 where the CPU has it natively (2.5x faster here), else float32."""
    if setting != "auto":
        return setting
    return "bfloat16" if cpu_has_bf16() else "float32"


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for name in _FINGERPRINT_FILES:
        if (path / name).is_file():
            digest.update((path / name).read_bytes())
    return digest.hexdigest()[:12]


class Embedder:
    """Normalized float32 embeddings; ``model_id`` changes whenever the model does.

    ``backend``: ``openvino`` runs the transformer on OpenVINO (exported once into
    ``export_root``), ``torch`` on PyTorch in ``dtype`` (``float32``, ``bfloat16`` or
    ``auto``, see ``resolve_dtype``), ``auto`` picks OpenVINO where the model supports it
    and ``device`` is the CPU. ``precision`` says which ran.
    """

    def __init__(
        self,
        path: Path,
        dtype: str = "float32",
        backend: str = "torch",
        export_root: Path | None = None,
        remedy: str = "",
        device: str = "cpu",
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        from rag.models import openvino_backend

        hf_logging.disable_progress_bar()
        fingerprint = _fingerprint(path)
        dtype = resolve_dtype(dtype)
        use_openvino = backend != "torch" and device == "cpu" and openvino_backend.available(path)
        if backend == "openvino" and not use_openvino:
            raise ModelError(
                f"The OpenVINO backend needs the CPU, the openvino package, two or more cores "
                f"and an EmbeddingGemma model ({path}). Set NABAA_EMBEDDER_BACKEND=torch."
            )
        export_dir = (export_root or path.parent / "openvino") / f"{path.name}-{fingerprint}"
        if use_openvino:
            # Torch weights are only needed to export; once exported, load them light.
            dtype = "bfloat16" if openvino_backend.exported(export_dir) else "float32"
        try:
            self.model = SentenceTransformer(
                str(path),
                device=device,
                local_files_only=True,
                model_kwargs={"dtype": getattr(torch, dtype)},
            )
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model from {path}: {exc}. {remedy}".strip()
            ) from exc
        self.path = path
        # One request at a time: the OpenVINO backend has a single inference request, and
        # answers on several LLM server slots retrieve at once.
        self._lock = threading.Lock()
        self.dim = int(self.model.get_embedding_dimension())
        prompts = self.model.prompts
        # The prompt sentence-transformers' encode_document would pick.
        self.document_prompt = next(
            (prompts[name] for name in ("document", "passage", "corpus") if name in prompts), ""
        )
        if use_openvino:
            openvino_backend.use_openvino(self.model, export_dir)
            self.model.to(torch.float32)  # the pooling and dense layers, now fed fp32
            self.precision = "openvino"
        else:
            self.precision = dtype
        self.model_id = f"{path.name}:{fingerprint}:{self.dim}:{self.precision}:d{_DOCUMENT_FORMAT}"

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, shape (dim,)."""
        with self._lock:
            vec = self.model.encode_query([text], normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vec[0], dtype=np.float32)

    def document_inputs(self, texts: Sequence[str], titles: Sequence[str] | None) -> list[str]:
        """The model's inputs for documents: its document prompt, with the title if it has
        a slot for one."""
        if titles is None or _TITLE_SLOT not in self.document_prompt:
            return [self.document_prompt + t for t in texts]
        return [
            self.document_prompt.replace(_TITLE_SLOT, f"title: {title or 'none'}") + text
            for text, title in zip(texts, titles, strict=True)
        ]

    def embed_documents(
        self,
        texts: Sequence[str],
        titles: Sequence[str] | None = None,
        batch_size: int = 32,
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Document vectors, shape (len(texts), dim), in the order given.

        Texts are embedded longest first, so each batch pads little.
        """
        inputs = self.document_inputs(texts, titles)
        order = sorted(range(len(inputs)), key=lambda i: -len(inputs[i]))
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            with self._lock:
                out[rows] = self.model.encode_document(
                    [inputs[i] for i in rows],
                    prompt="",
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    batch_size=batch_size,
                )
            if on_progress:
                on_progress(len(rows))
        return out
