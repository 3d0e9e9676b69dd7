"""Time expressions in questions (rag.text.time_expressions): absolute and relative, in
English and Arabic, counted from a reference day, and no time where there is none."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from rag.text.time_expressions import time_range

DATA = Path(__file__).parent / "data"
REF = date(2023, 7, 20)  # a Thursday; the dated corpus's newest article


def _range(question: str, reference: date = REF) -> tuple:
    found = time_range(question, reference)
    assert found is not None, question
    return found.since, found.until


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What was the fuel price in March 2023?", date(2023, 3, 1), date(2023, 3, 31)),
        ("What happened in 2022?", date(2022, 1, 1), date(2022, 12, 31)),
        ("What happened on 12 March 2023?", date(2023, 3, 12), date(2023, 3, 12)),
        ("What happened on March 12, 2023?", date(2023, 3, 12), date(2023, 3, 12)),
        ("What happened on 2023-03-12?", date(2023, 3, 12), date(2023, 3, 12)),
        ("Who won between January and March 2023?", date(2023, 1, 1), date(2023, 3, 31)),
        ("What changed from May to July 2022?", date(2022, 5, 1), date(2022, 7, 31)),
        ("What changed between 2021 and 2023?", date(2021, 1, 1), date(2023, 12, 31)),
        ("Prices between November and February 2023?", date(2022, 11, 1), date(2023, 2, 28)),
        ("What was said before April 2023?", None, date(2023, 3, 31)),
        ("What was said after April 2023?", date(2023, 5, 1), None),
        ("What changed since 2021?", date(2021, 1, 1), None),
        ("What was agreed until June 2023?", None, date(2023, 6, 30)),
        ("What happened in the year 2021?", date(2021, 1, 1), date(2021, 12, 31)),
        ("Fuel prices, March 2023", date(2023, 3, 1), date(2023, 3, 31)),
        ("ما سعر البنزين في آذار 2023؟", date(2023, 3, 1), date(2023, 3, 31)),
        ("ما سعر البنزين في مارس ٢٠٢٣؟", date(2023, 3, 1), date(2023, 3, 31)),
        ("ما سعر البنزين في آذار/مارس 2023؟", date(2023, 3, 1), date(2023, 3, 31)),
        ("ما سعر البنزين في شهر تشرين الأول 2022؟", date(2022, 10, 1), date(2022, 10, 31)),
        ("ماذا حدث في حزيران من العام 2023؟", date(2023, 6, 1), date(2023, 6, 30)),
        ("ماذا حدث عام 2022؟", date(2022, 1, 1), date(2022, 12, 31)),
        ("ماذا حدث في عام ٢٠٢٢؟", date(2022, 1, 1), date(2022, 12, 31)),
        ("ماذا حدث في 2022؟", date(2022, 1, 1), date(2022, 12, 31)),
        ("ماذا قيل قبل نيسان 2023؟", None, date(2023, 3, 31)),
        ("ماذا تغير منذ 2021؟", date(2021, 1, 1), None),
        ("ماذا تغير بعد أيار 2023؟", date(2023, 6, 1), None),
        ("ماذا حدث في 12 آذار 2023؟", date(2023, 3, 12), date(2023, 3, 12)),
        ("ماذا حدث في ١٢/٠٣/٢٠٢٣؟", date(2023, 3, 12), date(2023, 3, 12)),
        ("ماذا جرى بين كانون الثاني وآذار 2023؟", date(2023, 1, 1), date(2023, 3, 31)),
        ("ماذا جرى من يناير إلى مارس 2023؟", date(2023, 1, 1), date(2023, 3, 31)),
        ("ماذا جرى حتى حزيران 2023؟", None, date(2023, 6, 30)),
        ("كم طناً بيع في رمضان 1444؟", date(2023, 3, 23), date(2023, 4, 20)),
    ],
)
def test_absolute(question, since, until):
    assert _range(question) == (since, until)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened today?", REF, REF),
        ("What happened yesterday?", date(2023, 7, 19), date(2023, 7, 19)),
        ("What happened the day before yesterday?", date(2023, 7, 18), date(2023, 7, 18)),
        ("What happened last week?", date(2023, 7, 13), REF),
        ("What happened over the past week?", date(2023, 7, 13), REF),
        ("What happened this week?", date(2023, 7, 14), REF),
        ("What happened last month?", date(2023, 6, 1), date(2023, 6, 30)),
        ("What happened in the past month?", date(2023, 6, 20), REF),
        ("What happened this month?", date(2023, 7, 1), REF),
        ("What happened last year?", date(2022, 1, 1), date(2022, 12, 31)),
        ("What happened this year?", date(2023, 1, 1), REF),
        ("What happened in the past 3 days?", date(2023, 7, 17), REF),
        ("What happened in the last three days?", date(2023, 7, 17), REF),
        ("What happened in the past few days?", date(2023, 7, 13), REF),
        ("What happened in the past 24 hours?", date(2023, 7, 19), REF),
        ("What happened in the past two weeks?", date(2023, 7, 6), REF),
        ("What happened 3 days ago?", date(2023, 7, 17), date(2023, 7, 17)),
        ("What happened a few days ago?", date(2023, 7, 13), REF),
        ("What happened two weeks ago?", date(2023, 7, 6), date(2023, 7, 12)),
        ("What changed since last year?", date(2022, 1, 1), None),
        ("ماذا حدث اليوم؟", REF, REF),
        ("ماذا حدث أمس؟", date(2023, 7, 19), date(2023, 7, 19)),
        ("ماذا حدث البارحة؟", date(2023, 7, 19), date(2023, 7, 19)),
        ("ماذا حدث يوم أمس؟", date(2023, 7, 19), date(2023, 7, 19)),
        ("ماذا حدث أول أمس؟", date(2023, 7, 18), date(2023, 7, 18)),
        ("ماذا حدث الأسبوع الماضي؟", date(2023, 7, 13), REF),
        ("ماذا حدث خلال الاسبوع الماضي؟", date(2023, 7, 13), REF),
        ("ماذا حدث هذا الأسبوع؟", date(2023, 7, 14), REF),
        ("ماذا حدث الشهر الماضي؟", date(2023, 6, 1), date(2023, 6, 30)),
        ("ماذا حدث الشهر الجاري؟", date(2023, 7, 1), REF),
        ("ماذا حدث العام الماضي؟", date(2022, 1, 1), date(2022, 12, 31)),
        ("ماذا حدث في السنة الماضية؟", date(2022, 1, 1), date(2022, 12, 31)),
        ("ماذا حدث هذا العام؟", date(2023, 1, 1), REF),
        ("ماذا حدث خلال الأيام الثلاثة الماضية؟", date(2023, 7, 17), REF),
        ("ماذا حدث خلال الأيام الـ3 الماضية؟", date(2023, 7, 17), REF),
        ("ماذا حدث في آخر ٣ أيام؟", date(2023, 7, 17), REF),
        ("ماذا حدث خلال اليومين الماضيين؟", date(2023, 7, 18), REF),
        ("ماذا حدث في الأيام الأخيرة؟", date(2023, 7, 13), REF),
        ("ماذا حدث خلال الأيام القليلة الماضية؟", date(2023, 7, 13), REF),
        ("ماذا حدث خلال الـ24 ساعة الماضية؟", date(2023, 7, 19), REF),
        ("ماذا حدث منذ ثلاثة أيام؟", date(2023, 7, 17), REF),
        ("ماذا حدث قبل 3 أيام؟", date(2023, 7, 17), date(2023, 7, 17)),
        ("ماذا تغير منذ العام الماضي؟", date(2022, 1, 1), None),
        ("ماذا قيل حتى اليوم؟", None, REF),
    ],
)
def test_relative(question, since, until):
    assert _range(question) == (since, until)


def test_the_reference_day_is_where_relative_words_count_from():
    assert _range("What happened last month?", date(2023, 1, 15)) == (
        date(2022, 12, 1),
        date(2022, 12, 31),
    )
    assert _range("ماذا حدث الشهر الماضي؟", date(2024, 3, 31)) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert _range("in the past month", date(2023, 3, 31)) == (date(2023, 2, 28), date(2023, 3, 31))
    assert _range("last week", date(2023, 1, 3)) == (date(2022, 12, 27), date(2023, 1, 3))
    assert _range("yesterday", date(2023, 1, 1)) == (date(2022, 12, 31), date(2022, 12, 31))


@pytest.mark.parametrize(
    ("question", "reference", "since"),
    [
        ("What was the price in March?", date(2023, 7, 20), date(2023, 3, 1)),
        ("What was the price in September?", date(2023, 7, 20), date(2022, 9, 1)),
        ("What was the price in July?", date(2023, 7, 20), date(2023, 7, 1)),
        ("ما السعر في آذار؟", date(2023, 7, 20), date(2023, 3, 1)),
        ("ما السعر في كانون الأول؟", date(2023, 7, 20), date(2022, 12, 1)),
        ("ما السعر في شهر أغسطس؟", date(2023, 7, 20), date(2022, 8, 1)),
        ("What happened on 25 July?", date(2023, 7, 20), date(2022, 7, 25)),
        ("What happened on 12 March?", date(2023, 7, 20), date(2023, 3, 12)),
        ("ماذا حدث في رمضان؟", date(2023, 7, 20), date(2023, 3, 23)),
    ],
)
def test_month_without_a_year_is_the_most_recent_one(question, reference, since):
    assert _range(question, reference)[0] == since


@pytest.mark.parametrize(
    "question",
    [
        "Why did the 3 countries send 2,000 soldiers?",
        "أرسلت الدول الثلاث أكثر من 2000 جندي",
        "More than 2000 soldiers crossed over 2000 metres.",
        "Who won the 2022 election?",
        "What will happen in 3 days?",
        "Who may attend the meeting?",
        "What happened after the march?",
        "ما الذي جرى في اليوم الأول من الهدنة؟",
        "ماذا حدث في اليوم التالي؟",
        "وصل السعر إلى صفر",
        "ماذا جرى قبل 2000 عام؟",
        "The 1990s were calmer.",
        "Call 0800 123 4567 at 10:30.",
        "How many articles mention the ministry?",
        "",
    ],
)
def test_no_time_is_found_where_there_is_none(question):
    assert time_range(question, REF) is None


def test_the_expression_is_removed_from_the_question():
    found = time_range("What was the fuel price in March 2023?", REF)
    assert (found.text, found.question) == ("in March 2023", "What was the fuel price?")
    found = time_range("ماذا حدث خلال الأيام الثلاثة الماضية في بيروت؟", REF)
    assert found.text == "خلال الأيام الثلاثة الماضية"
    assert found.question == "ماذا حدث في بيروت؟"
    found = time_range("What happened between January and March 2023 in Cairo?", REF)
    assert found.question == "What happened in Cairo?"


def test_a_question_that_is_only_a_time_stays_whole():
    found = time_range("الأسبوع الماضي", REF)
    assert found.question == "الأسبوع الماضي"


def test_several_expressions_narrow_each_other():
    assert _range("What happened since 2021 and before March 2023?") == (
        date(2021, 1, 1),
        date(2023, 2, 28),
    )


def _time_qa() -> dict:
    return json.loads((DATA / "time_qa.json").read_text(encoding="utf-8"))


def test_time_qa_set_shape():
    qa = _time_qa()
    questions = qa["questions"]
    assert len(questions) >= 20
    assert {q["lang"] for q in questions} == {"en", "ar"}
    assert sum(q["relative"] for q in questions) >= 5
    assert sum(not q["relative"] for q in questions) >= 5
    newest = max(d for d in json.loads((DATA / "dated" / "dates.json").read_text()).values() if d)
    assert qa["reference"] == newest


@pytest.mark.parametrize("item", _time_qa()["questions"], ids=lambda q: q["id"])
def test_time_qa_ranges_pick_the_right_articles(item):
    """time_range finds the gold expression and range, and the range keeps exactly the gold
    articles among those on the same story."""
    found = time_range(item["question"], date.fromisoformat(item["reference"]))
    assert found is not None
    assert found.text == item["expression"]
    since, until = (d.isoformat() if d else None for d in (found.since, found.until))
    assert (since, until) == (item["since"], item["until"])
    gold = json.loads((DATA / "dated" / "dates.json").read_text(encoding="utf-8"))
    kept = [
        doc
        for doc in item["topic_docs"]
        if (day := gold[doc + ".txt"])
        and (since is None or day >= since)
        and (until is None or day <= until)
    ]
    assert sorted(kept) == sorted(item["docs"])
    assert len(item["topic_docs"]) > len(item["docs"])
    if item["answers"]:
        texts = [
            (DATA / "dated" / f"{doc}.txt").read_text(encoding="utf-8") for doc in item["docs"]
        ]
        assert any(answer in text for answer in item["answers"] for text in texts)
