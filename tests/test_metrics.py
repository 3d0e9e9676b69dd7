from rag.ingest.chunking import Passage
from rag.measure.evaluation import (
    Question,
    Result,
    contains_answer,
    is_hit,
    percentiles,
    summarize,
    token_f1,
)
from rag.pipeline import Answer
from rag.text.arabic import normalize, tokens


def test_normalize_arabic_variants():
    assert normalize("أَحْمَد") == normalize("احمد") == "احمد"
    assert normalize("إسلام") == "اسلام" and normalize("آمال") == "امال"
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("مستشفى") == "مستشفي"
    assert normalize("جـــميل") == "جميل"
    assert normalize("عام ٢٠٢٠") == "عام 2020"
    assert normalize("Tokayev") == "tokayev"
    assert tokens("قال: «السلامُ» عليكم!") == ["قال", "السلام", "عليكم"]


def test_token_f1_and_contains():
    assert token_f1("قاسم جومارت توكاييف", "توكاييف") == 0.5
    assert token_f1("the answer", "something else") == 0.0
    assert token_f1("عام ٢٠٢٠", "عام 2020") == 1.0
    assert contains_answer("The president is Tokayev [1].", ("tokayev",))
    assert contains_answer("تقع الهند في جنوب آسيا [1].", ("في جنوب آسيا.",))
    assert contains_answer("تابعها ب715 مليون شخص [1].", ("715 مليون شخص.",))
    assert not contains_answer("في جنوب أوروبا", ("في جنوب آسيا",))


def test_citation_markers_are_not_answer_words():
    assert token_f1("ألفي وظيفة [2].", "ألفي وظيفة") == 1.0
    assert token_f1("في عام 2011 [1][3]", "2011") == 0.5
    assert not contains_answer("اعتزل في عام 2011 [1].", ("1",))
    assert not contains_answer("anything", ("...",))
    assert contains_answer("بولندا وليتوانيا", ("بولندا", "ليتوانيا"), require_all=True)
    assert not contains_answer("بولندا فقط", ("بولندا", "ليتوانيا"), require_all=True)


def test_hit_needs_the_gold_article_and_its_evidence():
    passage = Passage("doc", "doc#0", "t", "حدودنا الغربية مع بولندا", 0, 24, ((0, 24),))
    assert is_hit(passage, Question("q", "?", ("Poland",), "doc", "en", ("بولندا",)))
    assert not is_hit(passage, Question("q", "?", ("Poland",), "doc", "en", ("ليتوانيا",)))
    assert is_hit(passage, Question("q", "?", ("x",), "doc"))
    assert not is_hit(passage, Question("q", "?", ("x",), "other"))
    assert not is_hit(passage, Question("q", "?", (), None))


def test_retrieval_metrics_from_known_ranks():
    results = [
        Result(Question(str(i), "?", ("a",), "d"), rank) for i, rank in enumerate([1, 2, 6, None])
    ]
    report = summarize(results, {})
    assert report["retrieval"] == {
        "recall_at_1": 0.25,
        "recall_at_5": 0.5,
        "recall_at_10": 0.75,
        "mrr": round((1 + 0.5 + 1 / 6) / 4, 4),
    }
    assert "answers" not in report


def test_percentiles():
    assert percentiles([1.0, 2.0, 3.0, 4.0, 5.0]) == {"p50": 3.0, "p95": 4.8}


def test_answer_metrics_from_known_answers():
    def answered(question: Question, text: str, language: str = "ar") -> Result:
        timings = {"retrieve_s": 0.1, "first_token_s": 1.0, "total_s": 2.0}
        answer = Answer(question.question, language, text, False, [], timings, {})
        return Result(question, 1, answer)

    results = [
        answered(Question("1", "متى ولد؟", ("16 مايو 1983",), "d"), "16 مايو 1983 [1]."),
        # Digits only: no letters to be in the wrong language.
        answered(Question("2", "في أي عام؟", ("1810",), "d"), "1810 [1]."),
        answered(Question("3", "أين ولدت؟", ("في بارانكيا",), "d"), "She was born in Colombia."),
    ]
    answers = summarize(results, {})["answers"]
    assert answers["contains"] == round(2 / 3, 4)
    assert answers["f1"] == round(2 / 3, 4)
    assert answers["language_accuracy"] == round(2 / 3, 4)
    assert answers["false_refusal_rate"] == 0.0
