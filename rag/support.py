"""Which sentence of a cited passage supports the answer: the one nearest in meaning.

The answer may be English and the passage Arabic, so this compares embeddings, not words.
"""

from __future__ import annotations

import numpy as np

from rag.chunking import Passage, Span
from rag.embeddings import Embedder


def supporting_sentences(
    embedder: Embedder, claims: list[list[str]], passages: list[Passage]
) -> list[Span]:
    """For each passage, the offsets of its sentence closest to the claims citing it.

    ``claims[i]`` are the answer sentences that cite ``passages[i]``; one batch of
    embeddings covers every passage.
    """
    if not passages:
        return []
    sentence_texts = [p.text[s - p.start : e - p.start] for p in passages for s, e in p.sentences]
    claim_texts = [" ".join(c) or "" for c in claims]
    vectors = embedder.embed_documents(sentence_texts + claim_texts)
    sentence_vecs, claim_vecs = vectors[: len(sentence_texts)], vectors[len(sentence_texts) :]
    spans: list[Span] = []
    offset = 0
    for passage, claim_vec in zip(passages, claim_vecs, strict=False):
        count = len(passage.sentences)
        scores = sentence_vecs[offset : offset + count] @ claim_vec
        spans.append(passage.sentences[int(np.argmax(scores))])
        offset += count
    return spans
