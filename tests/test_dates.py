"""Publication dates from article text (rag.ingest.dates): every dateline form, no guess,
not fooled by other numbers, and the dated corpus against its gold dates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from rag.ingest.dates import find_dates, find_publication_date, main, measure, parse_iso_date

DATED = Path(__file__).parent / "data" / "dated"


@pytest.mark.parametrize(
    ("text", "want", "how"),
    [
        # Levantine months, alone, paired with the Gulf name, or with it in brackets
        ("بيروت - 12 آذار/مارس 2023 - أعلنت الوزارة", date(2023, 3, 12), "dateline"),
        ("بيروت - 18 كانون الثاني/يناير 2023 -", date(2023, 1, 18), "dateline"),
        ("بيروت، ١٩ تموز (يوليو) ٢٠٢٣ — ارتفع", date(2023, 7, 19), "dateline"),
        ("دمشق - 5 شباط 2023", date(2023, 2, 5), "dateline"),
        ("عمّان - 23 أيار 2023", date(2023, 5, 23), "dateline"),
        ("دمشق - 2 آب 2022", date(2022, 8, 2), "dateline"),
        ("حلب - 1 نيسان 2023", date(2023, 4, 1), "dateline"),
        ("بغداد - 30 حزيران 2023", date(2023, 6, 30), "dateline"),
        ("حمص - 9 أيلول 2022", date(2022, 9, 9), "dateline"),
        ("صيدا - 3 تشرين الأول 2022", date(2022, 10, 3), "dateline"),
        ("صور - 3 تشرين الثاني 2022", date(2022, 11, 3), "dateline"),
        ("زحلة - 24 كانون الأول 2022", date(2022, 12, 24), "dateline"),
        ("تونس - 15 سبتمبر/أيلول 2022", date(2022, 9, 15), "dateline"),
        ("دمشق - 5 أيار من عام 2023", date(2023, 5, 5), "dateline"),
        # Egyptian/Gulf months and their spellings
        ("القاهرة - 20 فبراير 2023", date(2023, 2, 20), "dateline"),
        ("الرباط - 1 ابريل 2023", date(2023, 4, 1), "dateline"),
        ("القاهرة - 1 يونيه 2023", date(2023, 6, 1), "dateline"),
        ("الإسكندرية في 18 يوليه 2023 - أعلنت", date(2023, 7, 18), "dateline"),
        ("الكويت - 4 أغسطس 2022", date(2022, 8, 4), "dateline"),
        ("الجزائر - 5 جويلية 2022", date(2022, 7, 5), "dateline"),
        # Arabic-Indic and Persian digits, weekdays
        ("الثلاثاء ١٤ مارس ٢٠٢٣", date(2023, 3, 14), "dateline"),
        ("عمّان، الأحد ٢ أبريل ٢٠٢٣ - فتحت", date(2023, 4, 2), "dateline"),
        ("الإسكندرية - ۲۰ مارس ۲۰۲۳ - وصلت", date(2023, 3, 20), "dateline"),
        # Hijri next to Gregorian (the Gregorian wins), Hijri alone (converted)
        (
            "بريدة - نشر في 5 رمضان 1444 هـ الموافق 27 مارس 2023 - باع",
            date(2023, 3, 27),
            "hijri+gregorian",
        ),
        ("الرياض - 21 محرم 1444 هـ (19 أغسطس 2022) - افتتح", date(2022, 8, 19), "hijri+gregorian"),
        ("جدة - 27 مارس 2023 الموافق 5 رمضان 1444 هـ", date(2023, 3, 27), "hijri+gregorian"),
        ("بريدة - 3 ذو الحجة 1444 هـ - شحن", date(2023, 6, 21), "hijri"),
        # English
        ("LONDON, March 12, 2023 (Reuters) - The", date(2023, 3, 12), "dateline"),
        ("AMMAN, 12 March 2023 — The", date(2023, 3, 12), "dateline"),
        ("ALEXANDRIA, Egypt, Feb. 2, 2023 (Delta Press) — Two", date(2023, 2, 2), "dateline"),
        ("NICOSIA, 3rd October 2022 — A ferry", date(2022, 10, 3), "dateline"),
        ("AMMAN, Jordan, Sunday 5 June 2022 — The", date(2022, 6, 5), "dateline"),
        # bylines: author and outlet, a middle dot or bullet before the date
        (
            "Port workers end strike\n\nBy Daniel Okafor · The Harbour Times · "
            "Wednesday 18 June 2025 17.05 BST\n\nDock workers",
            date(2025, 6, 18),
            "dateline",
        ),
        (
            "بقلم ليلى حداد · صحيفة الأفق · الأربعاء 12 آذار/مارس 2025",
            date(2025, 3, 12),
            "dateline",
        ),
        ("Mei Lin Carter • Northern Ledger • 27 January 2025", date(2025, 1, 27), "dateline"),
        ("12 Sept 2023\n\nThe council met.", date(2023, 9, 12), "dateline"),
        ("Published: 2023-03-12\n\nDUBAI — The", date(2023, 3, 12), "label"),
        ("Updated: 20 July 2023 09:45 GMT", date(2023, 7, 20), "label"),
        ("الرياض، تاريخ النشر: 2022-11-30", date(2022, 11, 30), "label"),
        ("Date: 14/08/2022", date(2022, 8, 14), "label"),
        ("التاريخ: 28/06/2023\n\nعمّان - أعلنت", date(2023, 6, 28), "label"),
        ("دبي - آخر تحديث: 13 يوليو 2023", date(2023, 7, 13), "label"),
        ("عمان في 10/07/2023 - قالت", date(2023, 7, 10), "dateline"),
    ],
)
def test_date_forms(text, want, how):
    found = find_publication_date(text)
    assert found is not None, text
    assert (found.date, found.how) == (want, how)
    assert found.source_text in text


def test_source_text_is_the_words_read():
    found = find_publication_date("بيروت - 12 آذار/مارس 2023 - أعلنت")
    assert found.source_text == "12 آذار/مارس 2023"
    found = find_publication_date("بريدة - نشر في 5 رمضان 1444 هـ الموافق 27 مارس 2023 - باع")
    assert found.source_text == "5 رمضان 1444 هـ الموافق 27 مارس 2023"


def test_numeric_dates_are_day_first_unless_impossible():
    assert find_publication_date("Date: 12/03/2023").date == date(2023, 3, 12)
    assert find_publication_date("Date: 12.03.2023").date == date(2023, 3, 12)
    assert find_publication_date("Date: 03/25/2023").date == date(2023, 3, 25)
    assert find_publication_date("Date: 2023/03/12").date == date(2023, 3, 12)
    assert find_publication_date("Date: 13/13/2023") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Explainer: how a ceasefire committee works.\n\nNo date here at all.",
        "كيف يُحسب سعر صفيحة البنزين؟ يعتمد الجدول على ثلاثة عناصر.",
        # numbers that are not dates
        "Call +961 1 234 567 between 9:00 and 17:30; 2,000 soldiers in 3 countries.",
        "The 3 countries sent 2,000 soldiers; call 0800 123 4567 at 10:30.",
        "للاستفسار الاتصال على 01-234-5678 بين الساعة 8:30 و14:00، أو 2023 مرة.",
        "The app reached version 1.12.2023: score 12/13, room 12-03, 2023 people.",
        "وصل 12 مارس إلى الميناء عام 2023",  # no full date: no year right after the month
        # impossible dates
        "بيروت - 31 شباط 2023",
        "CAIRO, February 30, 2023 -",
        "بريدة - 5 رمضان 1600 هـ",
        "بريدة - 5 رمضان 1300 هـ",  # before the Umm al-Qura tables
        # a date inside a sentence is an event, not the publication date
        "The agreement signed on 1 March 2021 expired last week.",
        "Ceasefire of 9 March 2023 under strain\n\nMonitors said on Tuesday that it held.",
        "قال الوزير إن الاتفاق الموقع في 9 آذار 2023 ما زال سارياً.",
    ],
)
def test_no_date_is_never_guessed(text):
    assert find_publication_date(text) is None


def test_the_dateline_wins_over_a_date_in_the_title():
    text = "Observers deploy under the 9 March 2023 truce\n\nCAIRO, 8 April 2023 — Sixty"
    assert find_publication_date(text).date == date(2023, 4, 8)


def test_an_unlabelled_date_after_the_dateline_window_is_ignored():
    body = "The ministry published its list. " * 12
    assert find_publication_date(body + "\nCAIRO, 8 April 2023 — Sixty") is None
    labelled = find_publication_date(body + "\nPublished: 2023-04-08")
    assert (labelled.date, labelled.how) == (date(2023, 4, 8), "label")


def test_times_of_day_next_to_a_date_are_not_read_as_dates():
    found = find_dates("Updated 20 July 2023 09:45, then 10:30 and 12.30.")
    assert [m.date for m in found] == [date(2023, 7, 20)]


def test_find_dates_offsets_point_into_the_text():
    text = "القاهرة - ٩ مارس ٢٠٢٣ ثم 17 تموز 2023 وأخيراً 2023-07-20."
    found = find_dates(text)
    assert [m.date for m in found] == [date(2023, 3, 9), date(2023, 7, 17), date(2023, 7, 20)]
    assert all(text[m.start : m.end].strip() == m.text for m in found)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("2023-03-12T08:00:00+02:00", date(2023, 3, 12)),
        ("2023-03-12T23:30:00Z", date(2023, 3, 12)),
        ("2023-03-12", date(2023, 3, 12)),
        ("2023-03-12 08:00", date(2023, 3, 12)),
        ("  2023-03-12T08:00:00.123+02:00  ", date(2023, 3, 12)),
        ("Sun, 12 Mar 2023 08:00:00 +0200", date(2023, 3, 12)),
        ("2023-02-30", None),
        ("12 March 2023", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_parse_iso_date(value, want):
    assert parse_iso_date(value) == want


def test_corpus_publication_dates(capsys):
    """The dated corpus against dates.json: at least 95% right (currently all)."""
    right, total, wrong = measure(DATED)
    with capsys.disabled():
        print(f"\npublication date right for {right}/{total} ({right / total:.1%})")
    assert right / total >= 0.95, "\n".join(wrong)
    dated = [v for v in json.loads((DATED / "dates.json").read_text()).values() if v]
    assert len(dated) >= 30


def test_corpus_is_what_the_issue_asks():
    gold = json.loads((DATED / "dates.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in DATED.glob("*.txt"))
    assert files == sorted(gold)
    arabic = [f for f in files if f.startswith("ar_") and gold[f]]
    assert len(arabic) >= 18
    for name in files:
        assert 600 <= len((DATED / name).read_text(encoding="utf-8")) <= 1500, name


def test_measure_command_prints_the_accuracy(capsys):
    assert main([str(DATED)]) == 0
    out = capsys.readouterr().out
    assert "find_publication_date: date right for" in out
