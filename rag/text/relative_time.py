"""Relative time words in English and Arabic ("last week", "خلال الأيام الثلاثة الماضية")
as windows of days counted from a reference day. The definitions are in
rag.text.time_expressions."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator

from rag.text.calendar_words import fold_words

Window = Callable[[dt.date], tuple[dt.date, dt.date]]
DAY = dt.timedelta(days=1)

_ONE_TO_TEN = "one two three four five six seven eight nine ten"
_EN_NUMBERS = {
    **{w: n for n, w in enumerate(_ONE_TO_TEN.split(), 1)},
    **{"eleven": 11, "twelve": 12, "fourteen": 14, "twenty": 20, "thirty": 30},
    **{"a": 1, "an": 1, "couple of": 2, "a couple of": 2},
}
_AR_NUMBERS = {
    fold_words(word): n
    for n, words in {
        1: "واحد",
        2: "اثنين اثنان",
        3: "ثلاثة ثلاث",
        4: "أربعة أربع",
        5: "خمسة خمس",
        6: "ستة ست",
        7: "سبعة سبع",
        8: "ثمانية ثماني ثمان",
        9: "تسعة تسع",
        10: "عشرة عشر",
        14: "أربعة عشر",
        20: "عشرين",
        30: "ثلاثين",
    }.items()
    for word in words.split()
}
_EN_FEW = ("few", "a few", "several", "some")
_AR_FEW = ("بضعة", "بضع", "عدة")


def _alternation(words) -> str:
    return "|".join(sorted(map(fold_words, words), key=len, reverse=True)).replace(" ", r"\s+")


_EN_N = rf"(?P<n>[0-9]{{1,3}}|{_alternation([*_EN_NUMBERS, *_EN_FEW])})"
_AR_N = _alternation([*_AR_NUMBERS, *_AR_FEW])

# Arabic unit words (folded): (unit, count the word implies: None for a singular, which
# needs a number, 0 for a plural, "a few").
_AR_UNITS: dict[str, tuple[str, int | None]] = {}
for _unit, _singular, _dual, _plural in (
    ("day", "يوم يوما", "يومين يومان", "أيام"),
    ("week", "أسبوع أسبوعا", "أسبوعين أسبوعان", "أسابيع"),
    ("month", "شهر شهرا", "شهرين شهران", "أشهر شهور"),
    ("year", "عام عاما سنة", "عامين عامان سنتين سنتان", "أعوام سنوات سنين"),
    ("hour", "ساعة", "ساعتين ساعتان", "ساعات"),
):
    for _count, _words in ((None, _singular), (2, _dual), (0, _plural)):
        _AR_UNITS.update({fold_words(w): (_unit, _count) for w in _words.split()})
_AR_UNIT = _alternation(_AR_UNITS)
_AR_PAST = (
    r"(?:الماضي|الماضيه|الماضيين|الماضيان|الاخير|الاخيره|الاخيرين|الفائت|الفائته"
    r"|المنصرم|المنصرمه|السابق|السابقه)(?!\w)"
)
_AR_NAMED = {"الاسبوع": "week", "الشهر": "month", "العام": "year", "السنه": "year"}
_B = r"(?<![^\W\u0648])"  # a word start; an attached Arabic "و" (and) is allowed


def _few(unit: str) -> int:
    """What "a few" / a plural without a number means: 7 days, 24 hours, else 3."""
    return {"day": 7, "hour": 24}.get(unit, 3)


def minus_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved back ``months`` months (to the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _back(ref: dt.date, n: int, unit: str) -> dt.date:
    if unit == "hour":
        return ref - DAY * max(1, -(-n // 24))
    if unit in ("day", "week"):
        return ref - DAY * n * (7 if unit == "week" else 1)
    return minus_months(ref, n * (12 if unit == "year" else 1))


def _same(days: int) -> Window:
    return lambda r: (r - DAY * days, r - DAY * days)


def _past(n: int, unit: str) -> Window:
    return lambda r: (_back(r, n, unit), r)


def _ago(n: int, unit: str) -> Window:
    if unit == "week":
        return lambda r: (r - DAY * 7 * n, r - DAY * (7 * n - 6))
    return _same(n)


def _last(unit: str, rolling: bool = False) -> Window:
    """ "last week" (rolling), "last month/year" (the previous calendar one), or with
    ``rolling`` "the past month/year"."""
    if unit == "week" or rolling:
        return _past(1, unit)
    if unit == "month":
        return lambda r: (minus_months(r.replace(day=1), 1), r.replace(day=1) - DAY)
    return lambda r: (dt.date(r.year - 1, 1, 1), dt.date(r.year - 1, 12, 31))


def _this(unit: str) -> Window:
    if unit == "week":
        return lambda r: (r - DAY * 6, r)
    if unit == "month":
        return lambda r: (r.replace(day=1), r)
    return lambda r: (dt.date(r.year, 1, 1), r)


def _en_count(word: str | None, unit: str) -> int:
    """An English count; none or "few" with a plural unit is "a few"."""
    word = re.sub(r"\s+", " ", word or "few")
    return int(word) if word.isdigit() else _EN_NUMBERS.get(word) or _few(unit)


def _en_past(m: re.Match[str]) -> Window:
    unit = m["unit"].removesuffix("s")
    return _past(_en_count(m["n"], unit), unit)


def _en_ago(m: re.Match[str]) -> Window:
    """ "3 days ago": that day; "a few days ago": the few days up to the reference."""
    unit = m["unit"].removesuffix("s")
    if re.sub(r"\s+", " ", m["n"]) in _EN_FEW:
        return _past(_few(unit), unit)
    return _ago(_en_count(m["n"], unit), unit)


def _ar_count(m: re.Match[str]) -> tuple[str, int | None]:
    """(unit, count) of an Arabic match: its number, else what its unit word implies."""
    unit, implied = _AR_UNITS[m["unit"]]
    words = [m[g] for g in ("n", "n2") if g in m.re.groupindex and m[g]]
    if not words:
        return unit, implied
    word = re.sub(r"^ال\s*", "", words[0])
    return unit, int(word) if word.isdigit() else _AR_NUMBERS.get(word, 0)


def _ar_past_plural(m: re.Match[str]) -> Window | None:
    unit, n = _ar_count(m)
    return None if n is None else _past(n or _few(unit), unit)


def _ar_last_n(m: re.Match[str]) -> Window:
    unit, n = _ar_count(m)
    return _past(1 if n is None else n or _few(unit), unit)


def _ar_ago(m: re.Match[str]) -> Window | None:
    unit, n = _ar_count(m)
    return _ago(n or 1, unit) if unit in ("day", "week") else None


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Window | None]]] = [
    (re.compile(r"(?<!\w)(?:today|tonight|this\s+(?:morning|evening))(?!\w)"), lambda m: _same(0)),
    (re.compile(r"(?<!\w)the\s+day\s+before\s+yesterday(?!\w)"), lambda m: _same(2)),
    (re.compile(r"(?<!\w)yesterday(?!\w)"), lambda m: _same(1)),
    (
        re.compile(r"(?<!\w)(?:this|the\s+current)\s+(?P<unit>week|month|year)(?!\w)"),
        lambda m: _this(m["unit"]),
    ),
    (  # not "the last week of March"
        re.compile(
            r"(?<!\w)(?:the\s+)?(?P<which>last|past|previous)\s+(?P<unit>week|month|year)"
            r"(?!\w)(?!\s+of\b)"
        ),
        lambda m: _last(m["unit"], rolling=m["which"] == "past"),
    ),
    (
        re.compile(
            rf"(?<!\w)(?:the\s+)?(?:last|past|previous|recent)\s+(?:{_EN_N}\s+)?"
            r"(?P<unit>hours|days|weeks|months|years)(?!\w)"
        ),
        _en_past,
    ),
    (re.compile(rf"(?<!\w){_EN_N}\s+(?P<unit>days?|weeks?)\s+ago(?!\w)"), _en_ago),
    (re.compile(fold_words(rf"{_B}(?:يوم\s+)?أول\s+(?:من\s+)?أمس(?!\w)")), lambda m: _same(2)),
    (
        re.compile(fold_words(rf"{_B}(?:(?:يوم|مساء|صباح|ليلة)\s+)?(?:ال)?(?:أمس|البارحة)(?!\w)")),
        lambda m: _same(1),
    ),
    # today, not the "day" of "اليوم التالي" or "في اليوم الأول"
    (
        re.compile(fold_words(rf"{_B}(?<!في )(?:(?:صباح|مساء)\s+)?اليوم(?!\w)(?!\s+ال)(?!\s*\d)")),
        lambda m: _same(0),
    ),
    (
        re.compile(fold_words(r"(?<!\w)(?:هذا|هذه)\s+(?P<unit>الأسبوع|الشهر|العام|السنة)(?!\w)")),
        lambda m: _this(_AR_NAMED[m["unit"]]),
    ),
    (
        re.compile(
            fold_words(
                rf"{_B}(?P<unit>الأسبوع|الشهر|العام|السنة)\s+(?:الحالي|الحالية|الجاري|الجارية)(?!\w)"
            )
        ),
        lambda m: _this(_AR_NAMED[m["unit"]]),
    ),
    (
        re.compile(fold_words(rf"{_B}(?P<unit>الأسبوع|الشهر|العام|السنة)\s+{_AR_PAST}")),
        lambda m: _last(_AR_NAMED[m["unit"]]),
    ),
    # الأيام الثلاثة الماضية, الأيام الـ3 الأخيرة, الـ24 ساعة الماضية, اليومين الماضيين
    (
        re.compile(
            rf"{_B}(?:ال)?\s*(?:(?P<n>[0-9]{{1,3}}|{_AR_N})\s+)?(?:ال)?(?P<unit>{_AR_UNIT})"
            rf"(?:\s+(?P<n2>(?:ال)?\s*(?:[0-9]{{1,3}}|{_AR_N})))?(?:\s+القليله)?\s+{_AR_PAST}"
        ),
        _ar_past_plural,
    ),
    # آخر 3 أيام, آخر يومين, منذ ثلاثة أيام, منذ أسبوع (not "منذ عام 2021")
    (
        re.compile(
            fold_words(rf"{_B}(?:آخر|منذ)\s+(?:(?P<n>[0-9]{{1,3}}|{_AR_N})\s+)?")
            + rf"(?P<unit>{_AR_UNIT})(?!\w)(?!\s*[0-9])"
        ),
        _ar_last_n,
    ),
    # قبل 3 أيام, قبل أسبوعين: that day, that week
    (
        re.compile(
            fold_words(rf"{_B}قبل\s+(?:(?P<n>[0-9]{{1,3}}|{_AR_N})\s+)?")
            + rf"(?P<unit>{_AR_UNIT})(?!\w)(?!\s*[0-9])"
        ),
        _ar_ago,
    ),
]


def relative_windows(folded: str) -> Iterator[tuple[int, int, Window]]:
    """(start, end, window) of each relative time expression in folded text."""
    for pattern, make in _RULES:
        for match in pattern.finditer(folded):
            window = make(match)
            if window is not None:
                yield match.start(), match.end(), window
