"""Rendering of answers and sources for the browser (pure functions, no server)."""

from rag.apps.webui import Conversation, render_answer, render_sources
from rag.pipeline import Answer, Citation

TEXT = "قال الوزير إن المصنع سيفتتح. وسيوفر ألفي وظيفة."


def _answer(text: str, citations: list[Citation], language: str = "en") -> Answer:
    return Answer(
        question="q?",
        language=language,
        answer=text,
        refused=not citations,
        citations=citations,
        timings={},
        model={},
    )


def _citation(n: int = 1) -> Citation:
    return Citation(
        n=n,
        doc_id="d",
        title="<b>title</b>",
        passage_id="d#0",
        text=TEXT,
        start=100,
        end=100 + len(TEXT),
        score=0.61,
        sentence_start=100 + TEXT.index("وسيوفر"),
        sentence_end=100 + len(TEXT),
    )


def test_markers_become_links_and_text_is_escaped():
    html = render_answer(_answer("<script>x</script> It opens [1] and [7].", [_citation()]), 2)
    assert '<a href="#src-2-1" class="cite"' in html
    assert "[7]" in html and "#src-2-7" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.startswith('<div dir="auto" class="answer">')


def test_line_breaks_are_kept_without_markdown():
    html = render_answer(
        _answer("first line\n![p](http://127.0.0.1:9/q.png) [1]", [_citation()]), 0
    )
    assert "first line<br>![p](http://127.0.0.1:9/q.png)" in html


def test_sources_highlight_the_supporting_sentence():
    conversation = Conversation(answers=[_answer("x [1]", [_citation()])])
    html = render_sources(conversation)
    assert 'id="src-0-1"' in html and "score 0.61" in html
    assert "<mark>وسيوفر ألفي وظيفة.</mark>" in html
    assert "&lt;b&gt;title&lt;/b&gt;" in html


def test_a_refused_answer_shows_no_sources():
    html = render_sources(Conversation(answers=[_answer("The articles do not say.", [])]))
    assert "No sources" in html and '<details class="source"' not in html
