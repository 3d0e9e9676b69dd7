"""Publication dates in the index and questions about time: the dated corpus
(``tests/data/dated``, 34 articles) indexed with the session pipeline's embedder, its
dates found in the text, and retrieval limited by dates read from the question or set
explicitly."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.errors import NabaaError
from rag.pipeline import Citation, Pipeline, dates_notice
from rag.store.window import explicit_window
from tests.conftest import PROJECT_ROOT

DATED = PROJECT_ROOT / "tests" / "data" / "dated"
TIME_QA = PROJECT_ROOT / "tests" / "data" / "time_qa.json"


@pytest.fixture(scope="module")
def dated(pipeline, tmp_path_factory) -> Pipeline:
    root = tmp_path_factory.mktemp("dated")
    shutil.copytree(DATED, root / "seeds", ignore=shutil.ignore_patterns("*.json", "*.md"))
    settings = pipeline.settings.model_copy(
        update={"seeds_dir": root / "seeds", "index_dir": root / "index"}
    )
    dated = Pipeline(settings)
    dated.__dict__["embedder"] = pipeline.embedder  # one loaded embedder per test run
    dated.update_index()
    return dated


@pytest.mark.models
def test_every_article_is_indexed_with_the_date_of_its_dateline(dated):
    gold = json.loads((DATED / "dates.json").read_text(encoding="utf-8"))
    articles = {a["doc_id"]: a for a in dated.articles()}
    assert {f"{name[:-4]}" for name in gold} == set(articles)
    right = sum(articles[name[:-4]]["published"] == want for name, want in gold.items())
    assert right / len(gold) >= 0.95, right
    assert all(a["date_from"] == "text" for a in articles.values() if a["published"])
    assert articles["ar_nodate"]["published"] is None
    dates = [a["published"] for a in dated.articles()]
    assert dates == sorted(dates, key=lambda d: d or "", reverse=True)  # newest first
    assert dates[-1] is None  # undated ones last


@pytest.mark.models
def test_a_question_about_a_month_searches_the_articles_of_that_month(dated):
    retrieval = dated.retrieve("كم بلغ سعر صفيحة البنزين 95 أوكتان في كانون الثاني 2023؟", 3)
    assert retrieval.window.since == "2023-01-01" and retrieval.window.until == "2023-01-31"
    assert {h.passage.doc_id for h in retrieval.hits} == {"ar_fuel_1"}
    assert all(h.meta.published.startswith("2023-01") for h in retrieval.hits)
    assert any("2023-01-01" in n and "2023-01-31" in n for n in retrieval.notices)
    as_json = retrieval.to_json()
    assert as_json["filters"]["words"] and as_json["passages"][0]["published"] == "2023-01-18"


@pytest.mark.models
def test_relative_words_count_from_the_newest_article(dated):
    retrieval = dated.retrieve("What did the Gulf Housing Finance Authority decide today?", 3)
    newest = max(a["published"] or "" for a in dated.articles())
    assert retrieval.window.since == retrieval.window.until == newest
    assert retrieval.hits[0].passage.doc_id == "en_rate_3"


@pytest.mark.models
def test_explicit_dates_and_source_limit_the_articles_strictly(dated):
    found = dated.retrieve("fuel price", 5, since="2023-06-01", until="2023-07-31")
    assert found.hits and all("2023-06-01" <= h.meta.published <= "2023-07-31" for h in found.hits)
    assert found.window.words == ""  # set, not read from the question
    nothing = dated.retrieve("fuel price", 5, since="2030-01-01")
    assert nothing.hits == [] and any("since 2030-01-01" in n for n in nothing.notices)
    unknown = dated.retrieve("fuel price", 5, source="No Such Outlet")
    assert unknown.hits == [] and any("No Such Outlet" in n for n in unknown.notices)
    with pytest.raises(NabaaError, match="YYYY-MM-DD"):
        explicit_window("March 2023", None, None)
    with pytest.raises(NabaaError, match="after"):
        explicit_window("2023-05-01", "2023-04-01", None)


@pytest.mark.models
def test_time_words_no_article_matches_are_taken_as_the_events_time(dated):
    retrieval = dated.retrieve("How hot did it get in Damascus in 1998?", 3)
    assert retrieval.window is None and retrieval.hits
    assert any("every article was searched" in n for n in retrieval.notices)


@pytest.mark.models
def test_time_questions_find_their_article_with_dates_and_less_often_without(dated):
    from rag.measure.time_questions import evaluate_time

    report = evaluate_time(dated, TIME_QA)
    with_dates, without = report["recall"]["all"]["with dates"], report["recall"]["all"]["without"]
    assert with_dates["@3"] >= 0.9, report["by_question"]
    assert with_dates["@3"] > without["@3"]
    assert dated.settings.time_filter == "auto"


def test_the_dates_of_cited_articles_are_named_when_they_differ():
    def cited(n: int, published: str | None) -> Citation:
        return Citation(n, "d", "t", "p", "x", 0, 1, 0.5, 0, 1, published=published)

    assert dates_notice([cited(1, "2023-03-12"), cited(2, "2023-03-12")], "en") is None
    notice = dates_notice([cited(1, "2023-03-12"), cited(2, None), cited(3, "2023-06-14")], "en")
    assert notice == (
        "The cited articles were published on different dates: "
        "[1] 2023-03-12, [2] no date, [3] 2023-06-14."
    )
    assert "[1] 2023-03-12" in dates_notice([cited(1, "2023-03-12"), cited(2, "2023-06-14")], "ar")


@pytest.mark.models
def test_an_answer_carries_the_dates_and_the_window(dated):
    answer = dated.ask("كم بلغ سعر صفيحة البنزين 95 أوكتان في حزيران ٢٠٢٣؟")
    assert answer.filters["since"] == "2023-06-01" and answer.filters["until"] == "2023-06-30"
    assert not answer.refused and answer.citations
    assert {c.published for c in answer.citations} == {"2023-06-14"}
    assert answer.to_json()["citations"][0]["published"] == "2023-06-14"
