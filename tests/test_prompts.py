"""Prompt layout: passages grouped by article, best article last, numbers by rank."""

from rag.answer.prompts import (
    EXAMPLES,
    QUOTE_INSTRUCTION,
    TRANSLATE_INSTRUCTION,
    build_messages,
    fixed_messages,
    format_passages,
    user_message,
)
from rag.ingest.chunking import Passage
from rag.pipeline import Hit, relevant_hits


def _passage(doc: str, i: int, start: int, text: str) -> Passage:
    return Passage(doc, f"{doc}#{i}", f"Title {doc}", text, start, start + len(text), ())


def test_passages_grouped_by_article_best_last():
    ranked = [
        _passage("a", 2, 200, "third part of a"),
        _passage("b", 0, 0, "first part of b"),
        _passage("a", 0, 0, "first part of a"),
    ]
    text = format_passages(ranked)
    assert text == (
        "<passages>\n"
        "Article: Title b\n[2] first part of b\n\n"
        "Article: Title a\n[3] first part of a\n[1] third part of a\n"
        "</passages>"
    )


def test_lowest_ranked_passages_dropped_to_fit_the_budget():
    ranked = [_passage("a", i, i * 100, "word " * 50) for i in range(3)]
    messages, shown = build_messages(
        "q?", ranked, [], "en", lambda text: len(text.split()), budget=1000
    )
    assert shown == ranked
    fixed = sum(len(m["content"].split()) + 8 for m in messages[:-1])
    messages, shown = build_messages(
        "q?", ranked, [], "en", lambda text: len(text.split()), budget=fixed + 8 + 120
    )
    assert shown == ranked[:2]
    assert "[3]" not in messages[-1]["content"]


def test_answer_instruction_by_language_and_name_rule_in_the_cached_prefix():
    arabic = [_passage("a", 0, 0, "قال الرئيس توكاييف إن البلاد لن تنضم.")]
    english = [_passage("a", 0, 0, "The president said the country will not join.")]
    assert user_message("من قال؟", arabic, "ar").endswith("\nAnswer in Arabic (العربية).")
    for passages in (arabic, english):
        last_line = user_message("Who said it?", passages, "en").splitlines()[-1]
        assert last_line == "Answer in English, in one sentence."
    # Names with their Arabic spelling: a rule of the cached system prompt, not a per-question
    # line (each question's tokens are evaluated anew).
    assert "Arabic spelling" in fixed_messages()[0]["content"]


def test_worked_examples_are_laid_out_like_the_real_question():
    examples = [m for m in fixed_messages()[1:] if m["content"].startswith("<passages>")]
    assert len(examples) == len(EXAMPLES)
    for message in examples:
        assert message["role"] == "user"
        assert message["content"].startswith("<passages>\nArticle: ")
        assert message["content"].split("\n")[-2].startswith("Question: ")
    # The English example shows both steps of an answer about an Arabic article.
    real = user_message("Who said it?", [_passage("a", 0, 0, "نص عربي.")], "en", QUOTE_INSTRUCTION)
    assert real.split("\n")[-1] == examples[0]["content"].split("\n")[-1] == QUOTE_INSTRUCTION
    assert fixed_messages()[3] == {"role": "user", "content": TRANSLATE_INSTRUCTION}
    arabic = user_message("من قال؟", [_passage("a", 0, 0, "نص عربي.")], "ar")
    assert arabic.split("\n")[-1] == examples[1]["content"].split("\n")[-1]


def test_passages_far_below_the_best_are_left_out_of_the_prompt():
    def hit(rank: int, score: float) -> Hit:
        passage = Passage(f"d{rank}", f"d{rank}:0", "t", "x.", 0, 2, ((0, 2),))
        return Hit(rank=rank, passage=passage, score=score)

    hits = [hit(1, 0.60), hit(2, 0.65), hit(3, 0.49), hit(4, 0.20)]
    assert [h.rank for h in relevant_hits(hits, 0.232, 0.1)] == [1, 2]
    assert [h.rank for h in relevant_hits(hits, 0.232, 1.0)] == [1, 2, 3]
    assert relevant_hits(hits[3:], 0.232, 0.1) == []
