"""Time expressions in questions ("in March 2023", "الأسبوع الماضي") as a range of
publication dates, both ends included.

Relative expressions count from ``reference`` (the day the question is asked on; for a
fixed corpus, its newest article's date):

- today / اليوم: the reference day; yesterday / أمس / البارحة: the day before it;
  the day before yesterday / أول أمس: two days before.
- last week, the past week, الأسبوع الماضي: the 7 days before the reference and the
  reference itself, [ref - 7, ref]. A rolling window, not the previous calendar week:
  weeks start on Monday in English usage and on Saturday or Sunday in Arab countries, and a
  calendar week would drop what happened two days ago when asked on a Monday.
- this week / هذا الأسبوع: [ref - 6, ref].
- last month / الشهر الماضي, last year / العام الماضي: the previous calendar month or year
  (asked in April, "last month" is March); this month / this year: from its first day to
  the reference; the past month / the past year: rolling, [ref - 1 month, ref].
- the past N days (hours, weeks, months, years) / خلال الأيام الثلاثة الماضية / آخر 3 أيام /
  منذ 3 أيام: [ref - N units, ref]; hours count as whole days. Without a number ("the past
  few days", "في الأيام الأخيرة"): 7 days, 24 hours, or 3 weeks, months or years.
- N days ago / قبل 3 أيام: that day; N weeks ago: the 7 days from ref - 7N; a few days
  ago: as "the past few days".

Absolute: a date; a month with a year; a year after a preposition or "عام"/"سنة"/"year"; a
Hijri month ("رمضان 1444", "في رمضان"). A month or a day without a year ("in March", "في
آذار") is the most recent one not after the reference. "before X": up to the day before X
starts; "after X": from the day after it ends; "since X": from its start; "until X"/"by X":
to its end; "between X and Y", "from X to Y": X's start to Y's end, X taking Y's year when
it has none. A bare month or year counts only after such a word, so "the 2022 election",
"the 3 countries" and "2,000 soldiers" are no time. Several expressions narrow each other.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from hijridate import Gregorian, Hijri

from rag.ingest.dates import find_dates
from rag.text.calendar_words import (
    FULL_MONTH_NAMES,
    HIJRI_MONTH_NAMES,
    Folded,
    fold,
    fold_words,
    hijri_month_number,
    month_number,
)
from rag.text.relative_time import DAY, relative_windows

Span = tuple[dt.date, dt.date]
Resolver = Callable[[dt.date, int | None], Span | None]


@dataclass(frozen=True)
class TimeRange:
    """Publication dates a question asks about, both ends included (None: open).

    ``text`` is the expression found. ``question`` is the question without it, for
    retrieval: the range already selects the articles, and the words would otherwise pull
    in passages that say "last week" themselves, or that mention March 2023 but were
    published later. Where nothing would be left, it is the whole question."""

    since: dt.date | None
    until: dt.date | None
    text: str
    question: str


@dataclass
class _Point:
    """A time in the question, at original offsets. A ``weak`` one (a bare month or year,
    a day without a year) counts only after a preposition or as half of a pair."""

    start: int
    end: int
    resolve: Resolver
    weak: bool = False
    year: int | None = None
    month: int | None = None
    bare_year: bool = False
    op: str = "in"
    op_word: str = ""
    op_start: int | None = None


_B = r"(?<![^\W\u0648])"  # a word start; an attached Arabic "و" (and) is allowed
_MONTH = rf"(?:{FULL_MONTH_NAMES})(?!\w)"
_MONTH_PHRASE = fold_words(
    rf"(?:شهر\s+)?(?P<month>{_MONTH}(?:\s*/\s*{_MONTH}|\s*\(\s*{_MONTH}\s*\))?)"
)
_YEAR_WORDS = fold_words(r"(?:من\s+)?(?:ال)?(?:عام|سنة)")
_YEAR_GAP = rf"(?:\s*[,،]?\s*{_YEAR_WORDS}\s+|\s*[,،]?\s*)"
_YEAR = r"(?P<year>(?:19|20)[0-9]{2})(?![0-9]|[,.][0-9]|s\b|'s)"
_DAY = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
_NO_YEAR_NEXT = rf"(?![\s,،]*(?:{_YEAR_WORDS}\s+)?[0-9])"
_HIJRI_MONTH = fold_words(r"(?:شهر\s+)?") + rf"(?P<month>{HIJRI_MONTH_NAMES})(?!\w)"
_HIJRI_YEAR = fold_words(r"(?P<year>1[34][0-9]{2})(?![0-9])(?:\s*(?:هـ|هجري|هجرية)(?!\w))?")

_OPS = {
    "in": "in on during throughout over within "
    "في خلال طوال طيلة مطلع أوائل أواخر منتصف بداية نهاية",
    "since": "since from منذ من اعتبارا_من ابتداء_من بدءا_من as_of starting",
    "after": "after following بعد",
    "before": "before prior_to قبل",
    "until": "until till through by up_to حتى لغاية إلى",
    "between": "between بين",
}
_OP_OF = {fold_words(w.replace("_", " ")): op for op, ws in _OPS.items() for w in ws.split()}
_OP_WORDS = "|".join(sorted(_OP_OF, key=len, reverse=True)).replace(" ", r"\s+")
_OP = re.compile(
    rf"{_B}(?P<op>{_OP_WORDS})\s*"
    r"(?:(?:early|late|mid-?|the\s+(?:end|start|beginning|middle)\s+of)\s*)?$"
)
# A bare year after "from", "by", "over", "من", "حتى"... is more often a count ("more than
# 2000 soldiers", "أكثر من 2000"): only these make it a year (and "from 2021 to 2023").
_BARE_YEAR_WORDS = "in during throughout since after before until till between " + (
    "في خلال طوال طيلة منذ بعد قبل لغاية بين"
)
_BARE_YEAR_OPS = {fold_words(w) for w in _BARE_YEAR_WORDS.split()}
_NO_UNIT_NEXT = fold_words(r"(?!\s+(?:عام|سنة|يوم|years?|days?)(?!\w))")
_CONNECTOR = re.compile(fold_words(r"^\s*(?:and|to|until|till|through|[-–—]|و|إلى|حتى|ولغاية)\s*$"))


def _const(span: Span) -> Resolver:
    return lambda _ref, _year: span


def _month_of(phrase: str) -> int | None:
    numbers = {month_number(n) for n in re.split(r"\s*[/()]\s*", phrase) if n.strip()}
    return numbers.pop() if len(numbers) == 1 and None not in numbers else None


def _month_span(year: int, month: int) -> Span:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _recent_year(ref: dt.date, month: int, day: int = 1) -> int:
    """The year of the most recent ``month`` (``day``) not after ``ref``."""
    return ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1


def _day_month(month: int, day: int) -> Resolver:
    def resolve(ref: dt.date, year: int | None) -> Span | None:
        try:
            when = dt.date(year or _recent_year(ref, month, day), month, day)
        except ValueError:
            return None
        return when, when

    return resolve


def _hijri_month(month: int, year: int | None) -> Resolver:
    def resolve(ref: dt.date, _hint: int | None) -> Span | None:
        hijri_year = year
        if hijri_year is None:
            now = Gregorian(ref.year, ref.month, ref.day).to_hijri()
            hijri_year = now.year if month <= now.month else now.year - 1
        try:
            first = Hijri(hijri_year, month, 1)
            last = Hijri(hijri_year, month, first.month_length()).to_gregorian()
            first = first.to_gregorian()
        except (ValueError, OverflowError):
            return None
        return dt.date(first.year, first.month, first.day), dt.date(last.year, last.month, last.day)

    return resolve


def _absolute_points(question: str, folded: Folded) -> list[_Point]:
    text = folded.text
    points = [
        _Point(m.start, m.end, _const((m.date, m.date)), year=m.date.year, month=m.date.month)
        for m in find_dates(question)
        if m.calendar == "gregorian"
    ]

    def add(match: re.Match[str], resolve: Resolver, weak: bool, **kw) -> None:
        points.append(_Point(*folded.original_span(*match.span()), resolve, weak, **kw))

    for m in re.finditer(rf"{_B}{_MONTH_PHRASE}{_YEAR_GAP}{_YEAR}", text):
        month, year = _month_of(m["month"]), int(m["year"])
        if month:
            add(m, _const(_month_span(year, month)), False, year=year, month=month)
    day_month = (
        rf"(?<![0-9.,:/]){_DAY}\s*(?:of\s+|{fold_words('من')}\s+)?{_MONTH_PHRASE}{_NO_YEAR_NEXT}",
        rf"{_B}(?P<month>{_MONTH})\s+{_DAY}(?![0-9]){_NO_YEAR_NEXT}",
    )
    for pattern in day_month:
        for m in re.finditer(pattern, text):
            month = _month_of(m["month"])
            if month:
                add(m, _day_month(month, int(m["day"])), True, month=month)
    for m in re.finditer(rf"{_B}{_MONTH_PHRASE}(?!{_YEAR_GAP}[0-9])", text):
        month = _month_of(m["month"])
        if month:
            add(m, lambda r, y, n=month: _month_span(y or _recent_year(r, n), n), True, month=month)
    year_patterns = (
        (rf"(?<!\w)[وفلب]?{_YEAR_WORDS}\s+{_YEAR}", False),
        (rf"(?<!\w)(?:the\s+)?year\s+{_YEAR}", False),
        (rf"(?<![\w.,/:-]){_YEAR}{_NO_UNIT_NEXT}", True),
    )
    for pattern, bare in year_patterns:
        for m in re.finditer(fold_words(pattern), text):
            year = int(m["year"])
            whole_year = (dt.date(year, 1, 1), dt.date(year, 12, 31))
            add(m, _const(whole_year), bare, year=year, bare_year=bare)
    for m in re.finditer(rf"{_B}{_HIJRI_MONTH}(?:{_YEAR_GAP}{_HIJRI_YEAR})?", text):
        month, year = hijri_month_number(m["month"]), m["year"] and int(m["year"])
        if month and (year or month != 2):  # "صفر" alone is "zero"
            add(m, _hijri_month(month, year), not year)
    return points


def _points(question: str) -> list[_Point]:
    """The time points in ``question``, overlaps resolved (longest first), with their
    operators; weak ones without an operator are kept for pairing."""
    folded = fold(question)
    found = _absolute_points(question, folded)
    for start, end, window in relative_windows(folded.text):
        found.append(_Point(*folded.original_span(start, end), lambda r, y, w=window: w(r)))
    found.sort(key=lambda p: (p.start, -p.end))
    kept: list[_Point] = []
    for point in found:
        if not kept or point.start >= kept[-1].end:
            kept.append(point)
    for point in kept:
        before = fold(question[: point.start])
        match = _OP.search(before.text)
        if match:
            point.op_word = re.sub(r"\s+", " ", match["op"])
            point.op = _OP_OF[point.op_word]
            point.op_start = before.starts[match.start()]
    return kept


def _apply(op: str, span: Span) -> tuple[dt.date | None, dt.date | None]:
    first, last = span
    return {
        "in": (first, last),
        "between": (first, last),
        "since": (first, None),
        "after": (last + DAY, None),
        "before": (None, first - DAY),
        "until": (None, last),
    }[op]


def _pair_years(a: _Point, b: _Point) -> tuple[int | None, int | None]:
    """Years for a pair's halves that lack one, from the other half."""
    year_a = year_b = None
    if a.year is None and b.year is not None:
        year_a = b.year - (1 if a.month and b.month and a.month > b.month else 0)
    if b.year is None and a.year is not None:
        year_b = a.year + (1 if a.month and b.month and b.month < a.month else 0)
    return year_a, year_b


def _expressions(question: str, reference: dt.date):
    """(start, end, since, until) of each time expression, in order."""
    points = _points(question)
    i = 0
    while i < len(points):
        point = points[i]
        start = point.start if point.op_start is None else point.op_start
        pair = i + 1 < len(points) and point.op in ("between", "since")
        if pair:
            other = points[i + 1]
            pair = bool(_CONNECTOR.match(fold(question[point.end : other.start]).text))
        if pair:
            year_a, year_b = _pair_years(point, other)
            first, second = point.resolve(reference, year_a), other.resolve(reference, year_b)
            if first and second:
                yield start, other.end, first[0], second[1]
            i += 2
            continue
        if point.bare_year and point.op_word not in _BARE_YEAR_OPS:
            point.op_start = None
        if point.op_start is not None or not point.weak:
            span = point.resolve(reference, None)
            if span and point.op != "between":
                yield (start, point.end, *_apply(point.op, span))
        i += 1


def _without(question: str, spans: list[tuple[int, int]]) -> str:
    parts, last = [], 0
    for start, end in spans:
        parts.append(question[last:start])
        last = end
    parts.append(question[last:])
    text = re.sub(r"\s+", " ", " ".join(p.strip() for p in parts if p.strip()))
    text = re.sub(r"\s+([?؟.,،!:;])", r"\1", text).strip(" ,،-–—:;")
    return text if re.search(r"[^\W\d]", text) else question


def time_range(question: str, reference: dt.date) -> TimeRange | None:
    """The publication dates ``question`` asks about, relative words counted from
    ``reference``; None where it names no time. See the module docstring."""
    found = list(_expressions(question, reference))
    if not found:
        return None
    since, until = found[0][2], found[0][3]
    used = [found[0]]
    for expression in found[1:]:
        new_since = max(d for d in (since, expression[2]) if d) if since or expression[2] else None
        new_until = min(d for d in (until, expression[3]) if d) if until or expression[3] else None
        if new_since and new_until and new_since > new_until:
            continue
        since, until = new_since, new_until
        used.append(expression)
    spans = [(s, e) for s, e, _, _ in used]
    text = " … ".join(question[s:e].strip() for s, e in spans)
    return TimeRange(since, until, text, _without(question, spans))
