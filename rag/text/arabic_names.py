"""Which words of an Arabic question are names, and whether a text mentions a word.

Arabic script has no capitals, and a plain "a word the passages lack is a name" rule refused
29 of 75 answerable ARCD questions (typos, paraphrases). A name is instead recognized by what
introduces it or by what it is:
- a title or a kind of place: the words after it, up to the next small word, less the
  adjectives of origin between ("المستشار الألماني أولاف شولتس", "مدينة أنقرة");
- a kind of organisation: the words after it, which a text must hold in that order
  ("مجلس الأمن الدولي", "وكالة الفضاء الأوروبية");
- a kinship word of a classical name ("عمر بن الخطاب", "أبو سفيان");
- a country's name, from CLDR's Arabic list ("فنلندا", "الولايات المتحدة").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import takewhile

import snowballstemmer
from babel import Locale
from rapidfuzz import fuzz, process

from rag.text.arabic import normalize

_PERSON_CUE_TEXT = """
الرئيس الرئيسة رئيس رئيسة المستشار المستشارة الوزير الوزيرة وزير وزيرة الملك الملكة الأمير
الأميرة الشيخ الشيخة السيد السيدة الأمين المتحدث المتحدثة البابا الإمبراطور الإمبراطورة القيصر
السلطان الخليفة الإمام الشاعر الشاعرة الكاتب الكاتبة الروائي الروائية المؤرخ الفيلسوف الطبيب
الطبيبة المدرب اللاعب اللاعبة لاعب لاعبة المغني المغنية الممثل الممثلة المخرج المخرجة الجنرال
المشير القائد الزعيم الزعيمة النائب النائبة السفير السفيرة المبعوث المبعوثة الصحفي الصحفية
الدكتور الدكتورة البروفيسور الحاكم المرشح المرشحة المغامر الرسام الملحن المطرب المطربة
مدينة المدينة بلدة قرية محافظة ولاية مقاطعة إقليم العاصمة عاصمة جزيرة نهر جبل بحيرة ميناء مطار
نادي فريق
"""
_ORGANISATION_CUE_TEXT = """
منظمة المنظمة وكالة الوكالة مجلس المجلس الاتحاد اتحاد حلف حزب الحزب شركة الشركة جامعة الجامعة
صحيفة مجلة قناة بنك جمعية مؤسسة حركة جماعة هيئة الهيئة محكمة المحكمة
"""
_KIN_TEXT = "بن ابن بنت"  # between two names
_KUNYA_TEXT = "أبو أبي أبا"  # before one
# Words that end a name: question words, prepositions and the like.
_STOP_TEXT = """
في من على الى إلى عن ان أن إن هو هي هم ما ماذا متى اين أين كيف كم هل التي الذي الذين و او أو
مع لا لم لن قد كان كانت هذا هذه ذلك تلك ثم بين عند كل بعد قبل حتى بشأن خلال حول لدى منذ ضد عبر
تجاه قال قالت يقول صرح وصف أعلن ذكر أكد له لها لهم فيه فيها به بها منه منها عليه عليها إذا اذا أي
لأول مرة وقت نفس آخر الوحيد
"""
# Words that follow a title without being a name ("الأمين العام", "الرئيس السابق").
_NOT_NAME_TEXT = """
العام العامة السابق السابقة الحالي الحالية الأسبق الجديد الجديدة الأول الأولى الثاني الثانية
الأعلى التنفيذي التنفيذية الخارجية الداخلية الدفاع الوزراء الدولة المتحدة المتحدث باسم
"""


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize(w) for w in text.split())


_PERSON_CUES = _words(_PERSON_CUE_TEXT)
_ORGANISATION_CUES = _words(_ORGANISATION_CUE_TEXT)
_KIN = _words(_KIN_TEXT)
_KUNYA = _words(_KUNYA_TEXT)
_STOPS = _words(_STOP_TEXT) | _KIN | _KUNYA
_CUES = _PERSON_CUES | _ORGANISATION_CUES | _KIN | _KUNYA
_NOT_NAMES = _words(_NOT_NAME_TEXT) | _PERSON_CUES | _ORGANISATION_CUES
_WORD = re.compile(r"\w+")
_NAME_LENGTH = 5  # words after a cue
_ORGANISATION_LENGTH = 2  # words after its cue that a text must hold in order
_CLITICS = re.compile(r"^(?:و|ف)?(?:ب|ل|ك)?(?:ال)?")
_CUE_CLITICS = re.compile(r"^(?:و|ف)?(?:ب|ك)?(?=ال)|^(?:و|ف)?ل(?=ل)")
_STEMMER = snowballstemmer.stemmer("arabic")
_SAME_WORD = 80  # rapidfuzz ratio at which two spellings count as one word
_ROOT_LENGTH = 3  # letters a name needs to be found as the start of a longer word


@dataclass(frozen=True)
class Name:
    """A name in a question: as written, its normalized words, and whether a text must
    hold those words in order (an organisation) or each of them (a person, a place)."""

    text: str
    words: tuple[str, ...]
    in_order: bool = False


def _is_origin(word: str) -> bool:
    """An adjective of origin or affiliation ("الألماني", "الأوروبية")."""
    return word.startswith("ال") and (word.endswith("ي") or word.endswith("يه"))


def _is_common(word: str) -> bool:
    """A word with a possessive ending ("أهدافها") or "لل" ("للأمم"): not a name."""
    return word.startswith("لل") or word.endswith(("ها", "هم", "هما", "كم"))


def _cue(word: str) -> str:
    """The word without the clitics a title may carry ("بالشاعر", "للرئيس", "والرئيس")."""
    if word in _CUES:  # "وكالة" is not "و" + "كالة"
        return word
    clitics = _CUE_CLITICS.match(word)
    if not clitics or not clitics.end():
        return word
    rest = word[clitics.end() :]
    return "ا" + rest if rest.startswith("ل") and not rest.startswith("ال") else rest


def _countries() -> dict[str, list[tuple[str, ...]]]:
    """The countries' Arabic names (CLDR, through Babel), by their first word."""
    names: dict[str, list[tuple[str, ...]]] = {}
    for code, name in Locale("ar").territories.items():
        if code.isalpha():
            words = tuple(normalize(w) for w in _WORD.findall(name))
            names.setdefault(words[0], []).append(words)
    return names


_COUNTRIES = _countries()


def _country_at(words: list[str], i: int) -> int:
    """How many words from ``i`` on name a country ("لفنلندا", "الولايات المتحدة"), or 0."""
    for first in _bare(words[i]):
        for name in _COUNTRIES.get(first, ()):
            if tuple(words[i + 1 : i + len(name)]) == name[1:]:
                return len(name)
    return 0


def _after(words: list[str], i: int) -> list[int]:
    """The places of the words after a cue at ``i`` that may belong to a name."""
    places = []
    for j in range(i + 1, min(i + 1 + _NAME_LENGTH, len(words))):
        # "وموقفه": a word joined by "and" starts what is said of the name.
        if words[j] in _STOPS or (j > i + 1 and words[j].startswith("و")):
            break
        places.append(j)
    return places


def _name_at(written: list[str], words: list[str], i: int) -> Name | None:
    """The name that the word at ``i`` marks (a cue, a kinship word, a country), if any."""
    word = _cue(words[i])
    if word in _ORGANISATION_CUES:
        places = list(takewhile(lambda j: not _is_common(words[j]), _after(words, i)))
        places, shown, in_order = places[:_ORGANISATION_LENGTH], [i], True  # "مجلس الأمن الدولي"
    elif word in _PERSON_CUES:
        places = [
            j
            for j in _after(words, i)
            if not (_is_origin(words[j]) or words[j] in _NOT_NAMES or _is_common(words[j]))
        ]
        shown, in_order = [], False
    elif word in _KIN or word in _KUNYA:
        near = (i - 1, i + 1) if word in _KIN else (i + 1,)
        places = [j for j in near if 0 <= j < len(words) and words[j] not in _STOPS]
        shown, in_order = [i], False  # "عمر بن الخطاب"
    else:
        places, shown, in_order = list(range(i, i + _country_at(words, i))), [], False
    if not places:
        return None
    text = " ".join(written[j] for j in sorted({*shown, *places}))
    return Name(text, tuple(words[j] for j in places), in_order)


def arabic_names(question: str) -> list[Name]:
    """The names an Arabic ``question`` mentions, as far as their cues tell."""
    written = _WORD.findall(question)
    words = [normalize(w) for w in written]
    return [name for i in range(len(words)) if (name := _name_at(written, words, i))]


def _bare(word: str) -> set[str]:
    """The word with and without its clitics (و، ف، ب، ل، ك، ال)."""
    forms = {word}
    clitics = _CLITICS.match(word)
    if clitics and len(word) - clitics.end() >= 3:
        forms.add(word[clitics.end() :])
    if word.startswith("لل") and len(word) > 4:
        forms.add(word[2:])
    return forms


class Vocabulary:
    """The words of some texts, for asking whether they mention a name in any form."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = [[normalize(w) for w in _WORD.findall(text)] for text in texts]
        words = {w for text in self._texts for w in text}
        self._forms = {form for w in words for form in _bare(w)}
        self._stems = set(_STEMMER.stemWords(list(words)))
        self._choices = list(self._forms)

    def _holds(self, word: str) -> bool:
        """Whether the texts hold ``word``: as written, without its clitics, by its stem,
        as the start of a longer word ("المغرب" in "المغربية"), or spelled nearly the same."""
        forms = _bare(word)
        if forms & self._forms or _STEMMER.stemWord(word) in self._stems:
            return True
        roots = tuple(r for f in forms if len(r := f.rstrip("اهي")) >= _ROOT_LENGTH)
        if roots and any(form.startswith(roots) for form in self._forms):
            return True
        # As written, or without "ال": without a one-letter clitic ("فنلندا" less "ف") a
        # short word is nearly any other.
        spellings = {word, word.removeprefix("ال")}
        return any(
            process.extractOne(w, self._choices, scorer=fuzz.ratio, score_cutoff=_SAME_WORD)
            for w in spellings
        )

    def _in_order(self, words: tuple[str, ...]) -> bool:
        """Whether one text holds ``words`` one after the other, each in any form."""
        wanted = [_bare(w) for w in words]
        return any(
            all(_bare(text[i + k]) & wanted[k] for k in range(len(words)))
            for text in self._texts
            for i in range(len(text) - len(words) + 1)
        )

    def mentions(self, name: Name, spelled: Callable[[str], bool] = lambda _: False) -> bool:
        """Whether the texts mention ``name``: an organisation's words in order, else each
        word held, or ``spelled`` otherwise (a Latin spelling in English texts)."""
        if name.in_order:
            return self._in_order(name.words)
        return all(self._holds(word) or spelled(word) for word in name.words)
