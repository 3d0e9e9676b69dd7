import itertools
from pathlib import Path

from rag.ingest.articles import Article, decode_article, load_articles, short_title
from rag.ingest.chunking import chunk_article, split_sentences
from tests.conftest import SEEDS


def _article(text: str) -> Article:
    return Article(doc_id="a", title=short_title(text), text=text, path=Path("a.txt"))


def test_arabic_sentence_ends_and_no_split_on_comma_or_decimal():
    text = "قال الوزير ، إن النمو بلغ 3.5 بالمئة. هل هذا صحيح؟ نعم!\nسطر جديد بلا نقطة"
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [
        "قال الوزير ، إن النمو بلغ 3.5 بالمئة.",
        "هل هذا صحيح؟",
        "نعم!",
        "سطر جديد بلا نقطة",
    ]


def test_closing_quote_stays_with_its_sentence():
    text = "قال: “هذا كل شيء.” ثم غادر."
    assert [text[s:e] for s, e in split_sentences(text)] == ["قال: “هذا كل شيء.”", "ثم غادر."]


def test_passage_offsets_round_trip_on_the_seed_articles():
    for article in load_articles(SEEDS).articles:
        passages = chunk_article(article, max_chars=400, overlap_sentences=1)
        assert passages
        for p in passages:
            assert article.text[p.start : p.end] == p.text
            assert len(p.text) <= 400
            for s, e in p.sentences:
                assert p.start <= s < e <= p.end
        covered = {i for p in passages for s, e in p.sentences for i in range(s, e)}
        letters = {i for i, ch in enumerate(article.text) if not ch.isspace()}
        assert letters <= covered, "every non-space character belongs to some passage"


def test_overlap_repeats_the_last_sentence():
    text = " ".join(f"جملة رقم {i} هنا." for i in range(30))
    passages = chunk_article(_article(text), max_chars=80, overlap_sentences=1)
    for before, after in itertools.pairwise(passages):
        assert after.sentences[0] == before.sentences[-1]


def test_a_sentence_longer_than_a_passage_is_cut_at_spaces():
    text = "كلمة " * 200
    passages = chunk_article(_article(text), max_chars=100, overlap_sentences=1)
    assert all(len(p.text) <= 100 for p in passages)
    assert all(not p.text.startswith(" ") and not p.text.endswith(" ") for p in passages)


def test_title_is_first_line_shortened_at_a_word():
    article = load_articles(SEEDS).articles[0]
    assert article.title.endswith("…")
    assert len(article.title) <= 80
    assert article.text.startswith(article.title[:-1])
    assert short_title("\n\n  Short title \nbody") == "Short title"


def test_legacy_text_is_read_and_said_undecodable_and_binary_files_are_skipped(tmp_path):
    (tmp_path / "good.txt").write_text("مقال جيد.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("café olé".encode("latin-1"))
    (tmp_path / "junk.txt").write_bytes(bytes(range(128, 256)))
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.txt").write_text("  \n")
    result = load_articles(tmp_path)
    assert [a.doc_id for a in result.articles] == ["good", "latin1"]
    assert result.articles[1].text == "café olé"
    problems = " | ".join(result.problems)
    assert "latin1.txt: read as windows-1252" in problems
    assert "junk.txt is not UTF-8" in problems
    assert "image.txt looks like a binary file" in problems
    assert "empty.txt is empty" in problems


def test_bom_and_crlf_are_normalized():
    assert decode_article("\ufeffأ\r\nب".encode(), "x") == "أ\nب"


def test_save_article_validates_and_never_overwrites(tmp_path):
    import pytest

    from rag.errors import NabaaError
    from rag.ingest.articles import save_article

    text = "عنوان\nنص المقال.".encode()
    assert save_article(tmp_path, "../../etc/news.txt", text, 1000) == "news.txt"
    assert save_article(tmp_path, "news.txt", text, 1000) == "news.txt"  # same content
    assert save_article(tmp_path, "news.txt", "آخر".encode(), 1000) == "news-2.txt"
    assert (tmp_path / "news.txt").read_bytes() == text
    with pytest.raises(NabaaError, match=r"x\.exe: \.exe files are not read; supported: \.txt"):
        save_article(tmp_path, "x.exe", text, 1000)
    with pytest.raises(NabaaError, match="limit"):
        save_article(tmp_path, "big.txt", b"a" * 2000, 1000)
    with pytest.raises(NabaaError, match="not UTF-8"):
        save_article(tmp_path, "junk.txt", bytes(range(128, 256)), 1000)
    with pytest.raises(NabaaError, match="binary"):
        save_article(tmp_path, "bin.txt", b"\x00\x01\x02", 1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news-2.txt", "news.txt"]
