"""Calendar words for finding dates in Arabic and English text: month names (Levantine,
Egyptian/Gulf, Maghrebi, English, Hijri), digits, and a fold that keeps character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LETTERS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"}
_DIGITS = {chr(base + d): str(d) for base in (0x0660, 0x06F0) for d in range(10)}
_DROPPED = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640\u200c-\u200f]")


@dataclass(frozen=True)
class Folded:
    """``text`` folded for matching; ``starts[i]`` is the offset in the original of its
    character ``i`` (one extra entry holds the original length)."""

    text: str
    starts: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of the folded slice ``[start, end)``."""
        if end <= start:
            return self.starts[start], self.starts[start]
        # Through the dropped characters (a tatweel, diacritics) that follow the slice.
        return self.starts[start], self.starts[end]


def fold_char(char: str) -> str:
    """One character folded: Arabic letter variants unified, Arabic-Indic and Persian
    digits made ASCII, lower case (kept as is where lowering would change the length)."""
    char = _LETTERS.get(char) or _DIGITS.get(char) or char
    lower = char.lower()
    return lower if len(lower) == 1 else char


def fold(text: str) -> Folded:
    """``text`` with diacritics, tatweel and direction marks dropped and every other
    character folded by :func:`fold_char`, with the offsets back to ``text``."""
    chars: list[str] = []
    starts: list[int] = []
    for i, char in enumerate(text):
        if _DROPPED.match(char):
            continue
        chars.append(fold_char(char))
        starts.append(i)
    starts.append(len(text))
    return Folded("".join(chars), tuple(starts))


def fold_words(text: str) -> str:
    """Fold a lexicon entry or a pattern's Arabic words (ASCII is left alone, so regex
    escapes such as ``\\s`` survive)."""
    return "".join(c if c.isascii() else fold_char(c) for c in text if not _DROPPED.match(c))


# Month number -> names. Levantine (Syria, Lebanon, Jordan, Iraq, Palestine), then
# Egyptian/Gulf, then Maghrebi. dateparser 1.5 knows the Egyptian/Gulf ones only.
ARABIC_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("كانون الثاني", "يناير", "جانفي"),
    2: ("شباط", "فبراير", "فيفري"),
    3: ("آذار", "مارس"),
    4: ("نيسان", "أبريل", "إبريل", "ابريل", "أفريل"),
    5: ("أيار", "مايو", "ماي"),
    6: ("حزيران", "يونيو", "يونيه", "جوان"),
    7: ("تموز", "يوليو", "يوليه", "جويلية"),
    8: ("آب", "أغسطس", "أوت"),
    9: ("أيلول", "سبتمبر"),
    10: ("تشرين الأول", "أكتوبر"),
    11: ("تشرين الثاني", "نوفمبر"),
    12: ("كانون الأول", "ديسمبر"),
}
ENGLISH_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_ENGLISH_ABBREVIATIONS = {"sept": 9, **{name[:3]: n for n, name in enumerate(ENGLISH_MONTHS, 1)}}

HIJRI_MONTHS: dict[int, tuple[str, ...]] = {
    1: ("محرم", "muharram"),
    2: ("صفر", "safar"),
    3: ("ربيع الأول", "ربيع أول", "rabi al-awwal", "rabi' al-awwal"),
    4: ("ربيع الآخر", "ربيع الثاني", "ربيع ثاني", "rabi al-thani", "rabi' al-thani"),
    5: ("جمادى الأولى", "جمادى الأول", "jumada al-awwal", "jumada al-ula"),
    6: ("جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "jumada al-thani", "jumada al-akhirah"),
    7: ("رجب", "rajab"),
    8: ("شعبان", "shaban", "sha'ban"),
    9: ("رمضان", "ramadan"),
    10: ("شوال", "shawwal"),
    11: ("ذو القعدة", "ذي القعدة", "dhu al-qadah", "dhul qadah", "dhu al-qi'dah"),
    12: ("ذو الحجة", "ذي الحجة", "dhu al-hijjah", "dhul hijjah"),
}

_MONTH_NUMBER: dict[str, int] = {
    **{fold_words(name): n for n, names in ARABIC_MONTHS.items() for name in names},
    **{name: n for n, name in enumerate(ENGLISH_MONTHS, 1)},
    **_ENGLISH_ABBREVIATIONS,
}
_HIJRI_NUMBER = {fold_words(name): n for n, names in HIJRI_MONTHS.items() for name in names}
# The folded Egyptian/Gulf names, which dateparser reads, by month number.
GULF_MONTH = {n: fold_words(names[1]) for n, names in ARABIC_MONTHS.items()}


def _alternation(names: list[str]) -> str:
    """A regex alternation of folded names, longest first, spaces matching any whitespace."""
    ordered = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in ordered)


def _key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().rstrip("."))


MONTH_NAMES = _alternation(list(_MONTH_NUMBER))
"""Regex alternation of every Gregorian month name (folded), with abbreviations."""
FULL_MONTH_NAMES = _alternation(
    [n for n in _MONTH_NUMBER if n not in _ENGLISH_ABBREVIATIONS or n in ENGLISH_MONTHS]
)
"""As MONTH_NAMES without the English abbreviations ("mar", "may" stays as a full name)."""
HIJRI_MONTH_NAMES = _alternation(list(_HIJRI_NUMBER))
"""Regex alternation of the Hijri month names (folded)."""


def month_number(name: str) -> int | None:
    """The number of a folded Gregorian month name or abbreviation, or None."""
    return _MONTH_NUMBER.get(_key(name))


def hijri_month_number(name: str) -> int | None:
    """The number of a folded Hijri month name, or None."""
    return _HIJRI_NUMBER.get(_key(name))
