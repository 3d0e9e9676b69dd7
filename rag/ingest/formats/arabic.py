"""Arabic text as PDFs give it back: presentation forms and lines in visual order.

A PDF stores the glyphs it draws. For Arabic those are the contextual shapes
(U+FB50–U+FDFF, U+FE70–U+FEFF), and a text extractor that reads glyphs left to right
returns each line in visual order, the reverse of the order it is written in.
``repair_lines`` finds such lines and puts them back in logical order, then
``normalize_presentation_forms`` turns the shapes back into ordinary letters.

The order has to be repaired before the shapes are normalised: a lam-alef ligature
is one glyph, which NFKC expands to lam then alef, so reversing after NFKC would
write alef-lam.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache

_PRESENTATION = "\ufb50-\ufdff\ufe70-\ufeff"
# The Latin ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) that fonts draw for English text.
_LATIN_LIGATURES = "\ufb00-\ufb06"
_TO_NORMALIZE = re.compile(f"[{_PRESENTATION}{_LATIN_LIGATURES}]+")
_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff" + _PRESENTATION
_ARABIC_LETTER = re.compile(f"[{_ARABIC}]")
_ARABIC_WORD = re.compile(f"[{_ARABIC}]+")
_ARABIC_RUN = re.compile(f"[{_ARABIC}](?:[{_ARABIC} ]*[{_ARABIC}])?")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Runs kept left to right inside a right-to-left line: Latin words and numbers with
# the punctuation between their parts (12.5, 1,800, 2025/03, COVID-19, "New York").
_LTR = r"0-9A-Za-z\u00c0-\u024f\u0660-\u0669\u06f0-\u06f9"
_LTR_RUN = re.compile(rf"[{_LTR}](?:[{_LTR}.,:/%'\-+ ]*[{_LTR}])?%?")
_MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")

# Spelling cues for words whose shapes do not tell: the article prefix ال (on a word of
# four letters or more) and the endings ة and ى are common in written order and (almost)
# impossible reversed.
_SPELLING_CUE = re.compile(r"^[وفبك]?ال..|[ةى]$")


def normalize_presentation_forms(text: str) -> str:
    """NFKC on the Arabic presentation forms (and Latin ligatures) only."""
    return _TO_NORMALIZE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


@cache
def _form(ch: str) -> str:
    """'initial', 'medial', 'final', 'isolated' for a presentation form, else ''."""
    decomposition = unicodedata.decomposition(ch)
    if decomposition.startswith("<"):
        return decomposition[1 : decomposition.index(">")]
    return ""


# An initial or medial shape joins the next letter: a space after one is an artefact.
_JOINING = "".join(
    ch for ch in map(chr, range(0xFB50, 0xFF00)) if _form(ch) in ("initial", "medial")
)
_SPLIT_WORD = re.compile(f"(?<=[{_JOINING}]) +(?=[{_ARABIC}])")


def _shape_votes(word: str) -> tuple[int, int]:
    """(written order, reversed) votes from the shapes at the two ends of a word."""
    first, last = _form(word[0]), _form(word[-1])
    forward = (first == "initial") + (last == "final")
    backward = (first in ("final", "medial")) + (last in ("initial", "medial"))
    return forward, backward


def line_order_votes(line: str, vocabulary: frozenset[str] = frozenset()) -> tuple[int, int]:
    """How many cues say ``line`` is in written order, and how many say it is reversed.

    Shapes decide where the extractor kept them (an initial form ends a reversed word);
    where they do not, the article prefix ال and the endings ة/ى in one reading or the
    other do, and the words ``vocabulary`` (the document's other lines) has.
    """
    forward = backward = 0
    for word in _ARABIC_WORD.findall(line):
        f, b = _shape_votes(word)
        if not (f or b):
            written = normalize_presentation_forms(word)
            turned = normalize_presentation_forms(visual_to_logical(word))
            f, b = bool(_SPELLING_CUE.search(written)), bool(_SPELLING_CUE.search(turned))
            if vocabulary and len(word) > 1:
                f += written in vocabulary
                b += turned in vocabulary
        forward += f
        backward += b
    return forward, backward


def is_reversed(line: str, vocabulary: frozenset[str] = frozenset()) -> bool:
    """Whether an Arabic ``line`` reads in visual order (its written order reversed)."""
    forward, backward = line_order_votes(line, vocabulary)
    return backward > forward


def _clusters(text: str) -> list[str]:
    """Characters with the combining marks (shadda, harakat) that follow them."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _reverse(text: str) -> str:
    return "".join(reversed(_clusters(text))).translate(_MIRRORED)


def visual_to_logical(line: str) -> str:
    """Put a line given in visual order back in written order.

    A right-to-left line (more Arabic letters than Latin) is reversed, then the Latin
    and number runs in it are turned back; brackets are swapped (a visual ")" is a
    written "(" in right-to-left text). In a left-to-right line only the Arabic runs
    are reversed.
    """
    if len(_LATIN_LETTER.findall(line)) > len(_ARABIC_LETTER.findall(line)):
        return _ARABIC_RUN.sub(lambda m: _reverse(m.group()), line)
    return _LTR_RUN.sub(lambda m: m.group()[::-1].translate(_MIRRORED), _reverse(line))


@dataclass(frozen=True)
class Repair:
    """Lines of a text with reversed Arabic lines turned back, and how many were."""

    text: str
    arabic_lines: int
    reversed_lines: int


class _Bigrams:
    """Letter pairs (word starts and ends included) counted in a text's words."""

    def __init__(self, text: str) -> None:
        self.counts: Counter[str] = Counter()
        for word in _ARABIC_WORD.findall(normalize_presentation_forms(text)):
            self.counts.update(self._pairs(word))
        self.total = sum(self.counts.values())

    @staticmethod
    def _pairs(word: str) -> list[str]:
        padded = f"^{word}$"
        return [padded[i : i + 2] for i in range(len(padded) - 1)]

    def _score(self, line: str) -> float:
        pairs = [p for w in _ARABIC_WORD.findall(line) for p in self._pairs(w)]
        return sum(math.log((self.counts[p] + 0.1) / (self.total + 1)) for p in pairs)

    def reversed(self, line: str) -> bool:
        """Whether the reversed reading of ``line`` has the likelier letter pairs."""
        if not self.total:
            return False
        forward = self._score(normalize_presentation_forms(line))
        backward = self._score(normalize_presentation_forms(visual_to_logical(line)))
        return backward > forward


def repair_lines(text: str) -> Repair:
    """Turn reversed Arabic lines of ``text`` back and normalise the shapes of all lines.

    Lines the shapes and spelling cues leave undecided are decided by the words, then
    by the letter pairs, of the lines that were decided.
    """
    lines = text.split("\n")
    arabic = [i for i, line in enumerate(lines) if _ARABIC_LETTER.search(line)]
    votes = {i: line_order_votes(lines[i]) for i in arabic}
    flip = {i for i, (f, b) in votes.items() if b > f}
    decided = " ".join(
        visual_to_logical(lines[i]) if i in flip else lines[i]
        for i, (f, b) in votes.items()
        if f != b
    )
    vocabulary = frozenset(_ARABIC_WORD.findall(normalize_presentation_forms(decided)))
    bigrams = _Bigrams(decided)
    for i in (i for i, (f, b) in votes.items() if f == b):
        f, b = line_order_votes(lines[i], vocabulary)
        if b > f or (b == f and bigrams.reversed(lines[i])):
            flip.add(i)
    for i in arabic:
        line = visual_to_logical(lines[i]) if i in flip else lines[i]
        lines[i] = _SPLIT_WORD.sub("", line)
    text = normalize_presentation_forms("\n".join(lines))
    return Repair(text, len(arabic), len(flip))
