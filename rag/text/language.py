"""Which language a question is in: Arabic, English, or another one we answer in English."""

from __future__ import annotations

import re

from langdetect import DetectorFactory, LangDetectException, detect_langs

DetectorFactory.seed = 0

SUPPORTED = ("ar", "en")
FALLBACK = "en"
_ARABIC_LETTER = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LETTER = re.compile(r"[^\W\d_]")
_SHORT = 20  # letters; below this langdetect guesses, so the script decides


def detect_language(text: str, fallback: str = FALLBACK) -> str:
    """ISO 639-1 code of ``text``'s language.

    Arabic script means Arabic (the assistant serves Arabic and English; Persian or
    Urdu questions are answered in Arabic). Text with no letters (digits only) gets
    ``fallback``. Short Latin-script text is English; longer text goes to langdetect,
    which can return a third language.
    """
    letters = _LETTER.findall(text)
    if not letters:
        return fallback
    arabic = sum(1 for ch in letters if _ARABIC_LETTER.match(ch))
    if arabic * 2 >= len(letters):
        return "ar"
    if len(letters) - arabic < _SHORT:
        return "en"
    latin_only = _ARABIC_LETTER.sub(" ", text)
    try:
        best = detect_langs(latin_only)[0]
    except LangDetectException:
        return fallback
    return best.lang if best.prob >= 0.8 else fallback


def answer_language(language: str) -> str:
    """The language the answer is written in: the question's, if we support it."""
    return language if language in SUPPORTED else FALLBACK
