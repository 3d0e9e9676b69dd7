"""Sentence-transformers embeddings with the model's own query and document prompts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.errors import ModelError

_FINGERPRINT_FILES = ("modules.json", "config.json", "config_sentence_transformers.json")


class Embedder:
    """Normalized float32 embeddings; ``model_id`` changes whenever the model does."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model from {path}: {exc}. Delete the folder to "
                "have the default model rebuilt, or set NABAA_EMBEDDER_PATH."
            ) from exc
        self.path = path
        self.dim = int(self.model.get_embedding_dimension())
        digest = hashlib.sha256()
        for name in _FINGERPRINT_FILES:
            if (path / name).is_file():
                digest.update((path / name).read_bytes())
        self.model_id = f"{path.name}:{digest.hexdigest()[:12]}:{self.dim}"

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, shape (dim,)."""
        vec = self.model.encode_query([text], normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vec[0], dtype=np.float32)

    def embed_documents(
        self,
        texts: Sequence[str],
        batch_size: int = 16,
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Document vectors, shape (len(texts), dim), in the order given."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            out[start : start + len(batch)] = self.model.encode_document(
                batch, normalize_embeddings=True, convert_to_numpy=True, batch_size=batch_size
            )
            if on_progress:
                on_progress(len(batch))
        return out
