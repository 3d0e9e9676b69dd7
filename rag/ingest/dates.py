"""An article's publication date from its text: the dateline near the start.

Measured on dateparser 1.5.0: ``parse`` reads English dates, the Egyptian/Gulf month names
(يناير ... ديسمبر, with or without hamza) and Arabic-Indic or Persian digits, but none of the
Levantine names (كانون الثاني ... كانون الأول), nor "آذار/مارس", nor Hijri months; and
``search_dates`` over an Arabic dateline returned "اليوم" as today and missed the date. So
candidates are found here, with a month lexicon (rag.text.calendar_words), rewritten into a
form dateparser reads (Levantine -> Egyptian/Gulf name, digits ASCII) and parsed by
``dateparser.parse``; Hijri dates are converted with hijridate (Umm al-Qura).

Numeric dates (12/03/2023) are read day first, as in Arabic and British news; month first
only where day first is impossible (03/25/2023).

Run ``python -m rag.ingest.dates [--baseline] FOLDER`` to measure on a folder with a
dates.json (--baseline: dateparser's search_dates alone, for comparison).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import dateparser
from hijridate import Hijri

from rag.text.calendar_words import (
    GULF_MONTH,
    HIJRI_MONTH_NAMES,
    MONTH_NAMES,
    fold,
    fold_words,
    hijri_month_number,
    month_number,
)

DATELINE_CHARS = 300
"""A publication date is looked for in the first this many characters (the dateline)."""
_PAIR_GAP = 40  # at most this many characters between a Hijri date and its Gregorian one
_SETTINGS = {
    "PREFER_DAY_OF_MONTH": "first",
    "DATE_ORDER": "DMY",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "REQUIRE_PARTS": ["day", "month", "year"],
}
_LANGUAGES = ["ar", "en"]
_YEARS = range(1900, 2101)


@dataclass(frozen=True)
class FoundDate:
    """A publication date: ``source_text`` is the words it was read from, ``how`` one of
    "dateline", "label" (after "Published:", "نشر في"...), "hijri+gregorian", "hijri"."""

    date: dt.date
    source_text: str
    how: str


@dataclass(frozen=True)
class DateMention:
    """A full date (day, month, year) in a text, at original offsets ``[start, end)``."""

    date: dt.date
    start: int
    end: int
    text: str
    calendar: str  # "gregorian" or "hijri"


_DAY = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
_MONTH = rf"(?:{MONTH_NAMES})\.?(?!\w)"
_YEAR_GAP = fold_words(r"(?:\s*[,،]?\s*(?:من\s+)?(?:ال)?(?:عام|سنة)\s+|\s*[,،]?\s*)")
_NOT_AFTER_NUMBER = r"(?<![0-9.,:/])"
_PATTERNS: dict[str, re.Pattern[str]] = {
    # 12 March 2023, ١٤ مارس ٢٠٢٣, 12 آذار/مارس 2023, 19 تموز (يوليو) 2023, 5 أيار من عام 2023
    "dmy": re.compile(
        rf"{_NOT_AFTER_NUMBER}{_DAY}\s*(?:of\s+|{fold_words('من')}\s+)?"
        rf"(?P<month>{_MONTH}(?:\s*/\s*{_MONTH}|\s*\(\s*{_MONTH}\s*\))?)"
        rf"{_YEAR_GAP}(?P<year>[0-9]{{4}})(?![0-9])"
    ),
    # March 12, 2023; Feb. 2, 2023
    "mdy": re.compile(
        rf"(?<!\w)(?P<month>{_MONTH})\s*{_DAY}\s*[,،]?\s*(?P<year>[0-9]{{4}})(?![0-9])"
    ),
    # 2023-03-12, 2023/03/12
    "iso": re.compile(
        r"(?<![0-9.,:/-])(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)"
        r"(?P<day>[0-9]{1,2})(?![0-9])"
    ),
    # 12/03/2023, 12.03.2023, 12-03-2023
    "numeric": re.compile(
        r"(?<![0-9.,:/-])(?P<day>[0-9]{1,2})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)"
        r"(?P<year>[0-9]{4})(?![0-9]|[-/.][0-9])"
    ),
    # 5 رمضان 1444 هـ
    "hijri": re.compile(
        rf"{_NOT_AFTER_NUMBER}{_DAY}\s*(?P<month>{HIJRI_MONTH_NAMES})(?!\w){_YEAR_GAP}"
        rf"(?P<year>1[34][0-9]{{2}})(?![0-9])"
        + fold_words(r"(?:\s*(?:هـ|هجري|هجرية|a\.?h\.?)(?!\w))?")
    ),
}
_WEEKDAYS = fold_words(
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu|thurs?"
    r"|fri|sat|sun|(?:يوم\s+)?(?:الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت))\.?"
)
# A label right before the date: "Published:", "Updated", "نشر في", "تاريخ النشر:", "بتاريخ".
_LABEL = re.compile(
    fold_words(
        r"(?<!\w)(?:published|posted|updated|dated?|نشر|(?:ال|ب)?تاريخ|(?:آخر )?تحديث)"
        r"(?:\w{0,2})(?:\s+(?:on|at|في|النشر|التحديث))?\s*[:：]?\s*$"
    )
)
# What may stand before a dateline's date on its line, once a weekday and "في"/"on" are
# taken off the end: nothing, a place and a separator, or one word (the place). The
# separators include the middle dot and bullet of bylines ("By Daniel Okafor · The
# Harbour Times · 18 June 2025", "بقلم ليلى حداد · صحيفة الأفق · 12 آذار 2025").
_DATELINE_PREFIX = re.compile(r"^(?:|.{0,40}[-–—,،:|/·•]|[^\W\d]+)$")
# What may follow a dateline's date on its line: nothing, a separator before the story, a
# time of day, or the agency in brackets first ("(Reuters) -"). A date that a sentence goes
# on from ("في 12 أغسطس 2012، أصدر…", "born on 17 January 1942 in…") is not a dateline.
_DATELINE_END = re.compile(
    r"^\s*[)\]]?\s*(?:\([^()\n]{1,40}\)\s*)?(?:$|[-–—:|·•]|[0-9]{1,2}[:.][0-9]{2}(?![0-9]))"
)
_PREFIX_TAIL = re.compile(rf"(?:(?<!\w){_WEEKDAYS}\s*[,،]?)?\s*(?:(?:on|{fold_words('في')})\s*)?$")


def _dateparse(text: str, order: str = "DMY") -> dt.date | None:
    parsed = dateparser.parse(
        text, languages=_LANGUAGES, settings={**_SETTINGS, "DATE_ORDER": order}
    )
    return parsed.date() if parsed and parsed.year in _YEARS else None


def _month_word(phrase: str) -> str | None:
    """The one month a month phrase names ("آذار/مارس" -> "مارس"), in words dateparser
    reads, or None where its names disagree."""
    names = [n for n in re.split(r"\s*[/()]\s*", phrase) if n.strip()]
    numbers = {month_number(n) for n in names}
    if len(numbers) != 1 or None in numbers:
        return None
    name = names[0].rstrip(".")
    return name if name.isascii() else GULF_MONTH[numbers.pop()]


def _parse(kind: str, match: re.Match[str]) -> tuple[dt.date, str] | None:
    """A candidate's date and calendar, or None where it is not a real date."""
    day, year = int(match["day"]), int(match["year"])
    if kind == "hijri":
        month = hijri_month_number(match["month"])
        try:
            gregorian = Hijri(year, month, day).to_gregorian()
        except (ValueError, OverflowError, TypeError):
            return None
        return dt.date(gregorian.year, gregorian.month, gregorian.day), "hijri"
    if kind in ("iso", "numeric"):
        text = (
            f"{year}-{match['month']}-{day}" if kind == "iso" else f"{day}/{match['month']}/{year}"
        )
        found = _dateparse(text) or (_dateparse(text, "MDY") if kind == "numeric" else None)
    else:
        word = _month_word(match["month"])
        found = _dateparse(f"{day} {word} {year}") if word else None
    return (found, "gregorian") if found else None


def find_dates(text: str) -> list[DateMention]:
    """Every full date (day, month and year) in ``text``, in order; no partial dates
    ("March 2023"), times of day or other numbers."""
    folded = fold(text)
    found: list[DateMention] = []
    for kind, pattern in _PATTERNS.items():
        for match in pattern.finditer(folded.text):
            parsed = _parse(kind, match)
            if parsed is None:
                continue
            value, calendar = parsed
            start, end = folded.original_span(*match.span())
            found.append(DateMention(value, start, end, text[start:end].strip(), calendar))
    found.sort(key=lambda m: (m.start, -m.end))
    kept: list[DateMention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _line_prefix(text: str, start: int) -> str:
    return fold(text[text.rfind("\n", 0, start) + 1 : start]).text.strip()


def _is_labelled(text: str, mention: DateMention) -> bool:
    """A label ("Published:", "تاريخ النشر:") right before the date, itself at the start
    of its line or after a place ("الرياض، تاريخ النشر: 2022-11-30"); not "بتاريخ" in a
    sentence."""
    prefix = _line_prefix(text, mention.start)
    label = _LABEL.search(prefix)
    return bool(label) and bool(_DATELINE_PREFIX.match(prefix[: label.start()].strip()))


def _is_dateline(text: str, mention: DateMention) -> bool:
    prefix = _PREFIX_TAIL.sub("", _line_prefix(text, mention.start)).strip()
    return bool(_DATELINE_PREFIX.match(prefix))


def _ends_like_dateline(text: str, end: int) -> bool:
    line_end = text.find("\n", end)
    return bool(_DATELINE_END.match(text[end : line_end if line_end >= 0 else len(text)]))


def _partner(mention: DateMention, mentions: list[DateMention], text: str) -> DateMention | None:
    """The date of the other calendar written right next to ``mention``, if any."""
    for other in mentions:
        if other.calendar == mention.calendar:
            continue
        gap = other.start - mention.end if other.start >= mention.end else mention.start - other.end
        between = text[min(mention.end, other.end) : max(mention.start, other.start)]
        if 0 <= gap <= _PAIR_GAP and "\n" not in between:
            return other
    return None


def find_publication_date(text: str) -> FoundDate | None:
    """The publication date of an article from its text, or None (never a guess).

    Taken from a dateline in the first DATELINE_CHARS characters (a date at the start of a
    line, after a place and a separator, a weekday or a label such as "Published:"), or from
    a labelled date anywhere. A date inside a sentence ("signed on 1 March 2021") is not a
    publication date. A Hijri date with a Gregorian one beside it gives the Gregorian."""
    mentions = find_dates(text)
    chosen: DateMention | None = None
    labelled = False
    for mention in mentions:
        partner = _partner(mention, mentions, text)
        end = max(mention.end, partner.end) if partner else mention.end
        if not _ends_like_dateline(text, end):
            continue
        is_label = _is_labelled(text, mention)
        in_window = mention.start < DATELINE_CHARS and (is_label or _is_dateline(text, mention))
        if is_label and (in_window or chosen is None):
            chosen, labelled = mention, True
            break
        if in_window and chosen is None:
            chosen = mention
    if chosen is None:
        return None
    partner = _partner(chosen, mentions, text)
    if partner is not None:
        first, last = sorted((chosen, partner), key=lambda m: m.start)
        gregorian = chosen if chosen.calendar == "gregorian" else partner
        return FoundDate(gregorian.date, text[first.start : last.end], "hijri+gregorian")
    how = "hijri" if chosen.calendar == "hijri" else "label" if labelled else "dateline"
    return FoundDate(chosen.date, chosen.text, how)


def publication_date(text: str) -> dt.date | None:
    """The date ``find_publication_date`` finds, alone: what the index asks of the text
    of an article whose file gives no date."""
    found = find_publication_date(text)
    return found.date if found else None


def parse_iso_date(value: str) -> dt.date | None:
    """The date of a metadata string: ISO 8601 ("2023-03-12", "2023-03-12T08:00:00+02:00",
    the date as written, not moved to UTC) or RFC 2822 as in feeds; None otherwise."""
    value = (value or "").strip()
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})(?!\d)", value)
    if match:
        try:
            return dt.date(*map(int, match.groups()))
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def _search_dates_baseline(text: str) -> FoundDate | None:
    """dateparser's own search_dates over the dateline window, first result: what this
    module improves on (it takes "اليوم" or "two days a week" for dates)."""
    from dateparser.search import search_dates

    found = search_dates(text[:DATELINE_CHARS], languages=_LANGUAGES, settings=_SETTINGS)
    return FoundDate(found[0][1].date(), found[0][0], "search_dates") if found else None


def measure(folder: Path, find=find_publication_date) -> tuple[int, int, list[str]]:
    """(right, total, lines about the wrong ones) of ``find`` on ``folder``'s articles
    against its dates.json ({file: ISO date, or null for an article without one})."""
    gold = json.loads((folder / "dates.json").read_text(encoding="utf-8"))
    right, wrong = 0, []
    for name, want in sorted(gold.items()):
        found = find((folder / name).read_text(encoding="utf-8"))
        got = found.date.isoformat() if found else None
        if got == want:
            right += 1
        else:
            wrong.append(f"  {name}: want {want}, got {got} ({found})")
    return right, len(gold), wrong


def main(argv: list[str]) -> int:
    """Print the accuracy on the folders given (default tests/data/dated); with
    --baseline, also that of dateparser's search_dates alone."""
    baseline = "--baseline" in argv
    folders = [Path(a) for a in argv if a != "--baseline"] or [Path("tests/data/dated")]
    finders = [("find_publication_date", find_publication_date)]
    if baseline:
        finders.append(("dateparser search_dates alone", _search_dates_baseline))
    for folder in folders:
        for name, find in finders:
            right, total, wrong = measure(folder, find)
            print(f"{folder}: {name}: date right for {right}/{total} ({right / total:.1%})")
            for line in wrong:
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
