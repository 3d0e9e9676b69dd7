import numpy as np

from rag.ingest.chunking import Passage
from rag.store.index import Index, Manifest
from rag.store.keyword import KeywordIndex, keyword_tokens


def test_keyword_tokens_normalize_drop_stopwords_and_stem():
    # Spelling variants meet: hamza on alef, ta marbuta written as ha, diacritics.
    assert keyword_tokens("ما هي الأسلحة النووية؟") == keyword_tokens("الاسلحه النوويّه")
    assert keyword_tokens("ما هي الأسلحة النووية؟") == ["اسلحه", "نوويه"]  # stopwords gone
    assert keyword_tokens("المدارس") == keyword_tokens("مدارس")  # the article is stripped
    assert keyword_tokens("عام ٢٠٢٠") == keyword_tokens("عام 2020")


def test_keyword_scores_are_scaled_to_the_best_match():
    index = KeywordIndex(["افتتح جسر جديد في عمان", "ارتفعت اسعار القمح", "جسر قديم"])
    scores = index.scores("كم طول الجسر الجديد في عمان؟")
    assert scores.argmax() == 0 and scores.max() == 1.0
    assert scores[1] == 0.0
    assert not index.scores("Poland").any()


def test_hybrid_search_ranks_by_the_fused_score_and_reports_cosine():
    import faiss

    texts = ["جسر الوحدة في عمان طوله 800 متر", "خبر عن الطقس", "خبر عن الرياضة"]
    vectors = np.eye(3, 4, dtype=np.float32)
    flat = faiss.IndexFlatIP(4)
    flat.add(vectors)
    passages = [
        Passage("d", f"d#{i}", "t", t, 0, len(t), ((0, len(t)),)) for i, t in enumerate(texts)
    ]
    index = Index(Manifest("m", 4, {}, {}), passages, flat, path=None)
    query = np.array([0.5, 0.6, 0.0, 0.0], dtype=np.float32)  # dense prefers passage 1
    assert index.search(query, 1)[0][0].passage_id == "d#1"
    best, cosine, fused = index.hybrid_search(query, "جسر الوحدة في عمان", 3, 0.2)[0]
    assert best.passage_id == "d#0"
    assert cosine == 0.5 and abs(fused - 0.7) < 1e-6
