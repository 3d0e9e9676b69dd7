"""Arabic text normalization for matching answers (and, later, keyword search)."""

from __future__ import annotations

import re
import unicodedata

_DIACRITICS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED]")
_TATWEEL = "\u0640"
_TRANSLATE = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",  # alef forms
        "ؤ": "و",
        "ئ": "ي",  # hamza on a seat
        "ة": "ه",  # ta marbuta
        "ى": "ي",  # alef maqsura
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)
_TOKEN = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Lower-case, strip diacritics and tatweel, unify alef/hamza/ta marbuta/alef maqsura
    and digits, so spelling variants of the same word compare equal."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_TRANSLATE)


def tokens(text: str) -> list[str]:
    """Normalized word tokens."""
    return _TOKEN.findall(normalize(text))
