"""Names in English text checked against the Arabic they came from.

A small model transliterates Arabic names loosely and sometimes puts a famous name in
place of the one it read ("Nicolas Sarkozy" for نيكول باشينيان). Both spellings are
reduced to a consonant skeleton: the Arabic one romanized by anyascii (a rule-based
table), both without vowels and with the consonants that the two scripts render
differently merged. A name passes when its skeleton is close to that of words in the
Arabic text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from anyascii import anyascii

# Skeletons of five consonants or more at least this similar are the same name (difflib
# ratio); shorter ones must be equal ("tkf" for Tokayev and توكاييف), as one consonant
# less or more turns "nkls" (Nicolas) into "nkl" (نيكول, Nikol).
MATCH_RATIO = 0.8

_DIGRAPHS = (("sh", "s"), ("ch", "s"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"))
_DIGRAPHS += (("ph", "f"), ("ck", "k"), ("ts", "s"))
_LETTERS = str.maketrans({"q": "k", "c": "k", "p": "b", "v": "f", "z": "s", "x": "ks", "j": "g"})
_SILENT = re.compile(r"[aeiouyw'`h\-\s]")
_ARABIC = re.compile(r"[\u0600-\u06FF]+")
# Prefixes glued to Arabic words: the article and the one-letter proclitics before it.
_ARABIC_PREFIX = re.compile(r"^(?:[وفبلك]?ال|[وف]?[بل]ل|[وفب])(?=\w{3})")
_ARABIC_SUFFIX = re.compile(r"(?:يون|يين|ية|ي|ة|ات|ان)$")
_ENGLISH_SUFFIX = re.compile(r"(?:ians|ian|ans|an|ese|ish|is|i|s)$")

# Capitalized words that are not names: sentence openers, titles, days and months.
NOT_NAMES = frozenset(
    """a an the in on at of for to by from with and or but as he she it they we you i his her
    its their this that these those there here what who when where which why how according
    after before during while if mr mrs ms dr president prime minister foreign defence
    defense general king queen prince princess sheikh emir sultan chancellor secretary
    spokesman spokeswoman ambassador governor mayor chairman head leader chief state
    republic union monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december""".split()  # noqa: SIM905
)
# Common English names of places whose Arabic names sound different.
EXONYMS = {
    "egypt": "مصر",
    "germany": "ألمانيا",
    "greece": "اليونان",
    "china": "الصين",
    "chinese": "الصين",
    "japan": "اليابان",
    "india": "الهند",
    "hungary": "المجر",
    "morocco": "المغرب",
    "jordan": "الأردن",
    "beijing": "بكين",
    "saudi": "السعودية",
    "emirates": "الإمارات",
    "america": "أمريكا",
    "american": "الأمريكية",
    "united": "المتحدة",
    "states": "الولايات",
    "kingdom": "المملكة",
    "west": "الغرب",
    "western": "الغربية",
    "europe": "أوروبا",
    "european": "الأوروبي",
    "eurasian": "الأوراسي",
    "economic": "الاقتصادي",
    "nuclear": "النووية",
}
_WORD = r"[A-Z][\w'’-]*(?:\.[A-Z][\w'’-]*)*"  # Tokayev, al-Khoury, U.S
_NAME = re.compile(rf"\b{_WORD}(?:\s+(?:al-|el-|bin |ibn |de |van |von )?{_WORD})*")
_PAIRED = re.compile(rf"((?:{_WORD}\s+)*{_WORD})\s*\(([\u0600-\u06FF\s]+)\)")
_POSSESSIVE = re.compile(r"['’]s?$")
_ACRONYM = re.compile(r"(?:[A-Z]\.?){2,6}")


def skeleton(latin: str) -> str:
    """The consonants of a romanized word, with the ones the scripts confuse merged."""
    text = latin.lower()
    for pair, single in _DIGRAPHS:
        text = text.replace(pair, single)
    text = _SILENT.sub("", text.translate(_LETTERS))
    return re.sub(r"(.)\1+", r"\1", text)


def _arabic_skeletons(word: str) -> set[str]:
    """The skeletons of an Arabic word as written, without its prefix, and without its
    ending: a name may itself start with ب or و, or end in يا."""
    bare = _ARABIC_PREFIX.sub("", word)
    forms = {word, bare, _ARABIC_SUFFIX.sub("", word), _ARABIC_SUFFIX.sub("", bare)}
    return {skeleton(anyascii(form)) for form in forms}


def _close(a: str, b: str) -> bool:
    if not (a and b):
        return False
    return a == b or (
        min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= MATCH_RATIO
    )


def _matches(name: str, arabic_words: list[str]) -> bool:
    """Whether ``name`` is spelled by one Arabic word or by a few that follow each other
    (as skeletons), or else each of its words is."""
    parts = [w for w in re.split(r"[\s-]+", name) if w.lower() not in ("al", "el", "bin", "ibn")]
    if not parts:
        return True
    wanted = {"".join(skeleton(w) for w in parts)}
    if len(parts) == 1:
        wanted.add(skeleton(_ENGLISH_SUFFIX.sub("", parts[0].lower())))
    found = [_arabic_skeletons(w) for w in arabic_words]
    if len(parts) == 1:
        return any(_close(a, b) for forms in found for a in wanted for b in forms)
    # Several words: spelled by as many Arabic words in a row, exactly.
    for i in range(len(found) - len(parts) + 1):
        windows = {""}
        for forms in found[i : i + len(parts)]:
            windows = {w + f for w in windows for f in forms}
        if wanted & windows:
            return True
    return len(parts) > 1 and all(_matches(part, arabic_words) for part in parts)


@dataclass(frozen=True)
class NameCheck:
    """The names of an English text that no Arabic word of the source spells."""

    unmatched: list[str]

    @property
    def ok(self) -> bool:
        """True when every name was found."""
        return not self.unmatched


def _name_words(run: str) -> list[str]:
    """The words of a capitalized run that may be a name: no titles, no possessive
    endings, no acronyms (an acronym's letters say nothing of its Arabic name)."""
    words = [_POSSESSIVE.sub("", w) for w in run.split()]
    return [w for w in words if w.lower() not in NOT_NAMES and not _ACRONYM.fullmatch(w)]


def english_names(text: str) -> list[str]:
    """Runs of capitalized words, less the words that are not names."""
    names = []
    for match in _NAME.finditer(text):
        if words := _name_words(match.group(0)):
            names.append(" ".join(words))
    return names


def check_names(english: str, arabic: str, allowed: str = "") -> NameCheck:
    """Check each name of ``english`` against the words of ``arabic``.

    Names written in ``allowed`` (the user's own question) pass, and so do the common
    English names of places in EXONYMS whose Arabic form ``arabic`` holds. A name with
    its Arabic spelling in parentheses after it must match that spelling in part (the
    spelling may give only the surname), which must itself be in ``arabic``.
    """
    words = _ARABIC.findall(arabic)
    given = {w.lower() for w in re.findall(r"\w+", allowed)}
    unmatched = []
    for latin, spelled in _PAIRED.findall(english):
        parts = _name_words(latin)
        spelled_words = spelled.split()
        right = (
            spelled.strip() in arabic
            and any(_matches(part, spelled_words) for part in parts)
            and all(_matches(part, spelled_words + words) for part in parts)
        )
        if parts and not right:
            unmatched.append(" ".join(parts))
    plain = _PAIRED.sub(" ", english)
    lowered = arabic.lower()
    for name in english_names(plain):
        remaining = [w for w in name.split() if w.lower() not in given]
        remaining = [w for w in remaining if w.lower() not in lowered]  # written as is
        remaining = [
            w for w in remaining if not (w.lower() in EXONYMS and EXONYMS[w.lower()][-4:] in arabic)
        ]
        if remaining and not _matches(" ".join(remaining), words):
            unmatched.append(name)
    return NameCheck(unmatched)


def romanized(arabic: str) -> str:
    """A Latin spelling of Arabic words, each capitalized: "Nykwl Bshynyn"."""
    return " ".join(
        anyascii(w).replace("'", "").replace("`", "").capitalize() for w in arabic.split()
    )


def respell(english: str, arabic: str, allowed: str = "") -> str | None:
    """``english`` with each name that does not match the Arabic spelling written after it
    mended: the words of the name that the spelling spells are kept ("Kassym-Jomart
    Tokayev (توكاييف)" becomes "Tokayev (توكاييف)" where the passage has no قاسم جومارت),
    and a name none of whose words it spells is replaced by the spelling romanized
    ("Nicolas Sarkozy (نيكول باشينيان)" becomes "Nykwl Bshynyn (نيكول باشينيان)").
    None if a wrong name has no such spelling."""

    def fix(match: re.Match[str]) -> str:
        latin, spelled = match.group(1), match.group(2).strip()
        if check_names(f"{latin} ({spelled})", arabic, allowed).ok:
            return match.group(0)
        titles = [w for w in latin.split() if w.lower() in NOT_NAMES]
        spelled_words = spelled.split()
        right = [w for w in _name_words(latin) if _matches(w, spelled_words)]
        name = " ".join(right) if right else romanized(spelled)
        return " ".join([*titles, f"{name} ({spelled})"])

    fixed = _PAIRED.sub(fix, english)
    return fixed if check_names(fixed, arabic, allowed).ok else None
