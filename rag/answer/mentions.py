"""What a question names that the passages shown for it never mention.

A question on the articles' topic about someone or something they do not mention ("What
did Macron say about the deal?") finds the passages about the deal, and a small model
then answers from them as if they were about Macron. Such a question is refused instead.
Checked here: numbers (years, counts), capitalized names in Latin script (against
Arabic passages through their romanized consonants, see ``rag.answer.names``), and the
Arabic names that a title, a kind of place, a kinship word or a country's name marks out
(``rag.text.arabic_names``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.names import NOT_NAMES, check_names, english_names, skeleton
from rag.text.arabic import normalize
from rag.text.arabic_names import Vocabulary, arabic_names

_NUMBER = re.compile(r"\d+")
_LATIN_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
_QUESTION_OPENERS = frozenset(
    """do does did is are was were can could will would should has have had name list tell give
    explain describe summarize please ignore write""".split()  # noqa: SIM905
)


def _numbers(text: str) -> set[str]:
    return set(_NUMBER.findall(normalize(text)))


def _latin_names(question: str) -> list[str]:
    """Capitalized runs that are names: not a sentence's opening word on its own."""
    names = []
    for match in _LATIN_NAME.finditer(question):
        words = match.group(0).split()
        opening = match.start() == 0 or question[: match.start()].rstrip()[-1:] in ".?!:"
        if opening and words[0].lower() in NOT_NAMES | _QUESTION_OPENERS:
            words = words[1:]
        elif opening and len(words) == 1:
            continue
        words = [w for w in words if w.lower().strip(".") not in NOT_NAMES]
        if words:
            names.append(" ".join(words))
    return names


def unmentioned(question: str, passages: Sequence[str]) -> list[str]:
    """The numbers and names of ``question`` that no text of ``passages`` mentions, in
    either script."""
    text = "\n".join(passages)
    missing = sorted(_numbers(question) - _numbers(text), key=question.find)
    lowered = text.lower()
    for name in _latin_names(question):
        if name.lower() not in lowered and not check_names(name, text).ok:
            missing.append(name)
    names = arabic_names(question)
    if names:
        vocabulary = Vocabulary(passages)
        words = {word for name in english_names(text) for word in name.split()}
        # Each a name itself, of three consonants or more ("Pies", "bs", is nearly anything).
        latin = [word for word in words if english_names(word) and len(skeleton(word)) >= 3]

        def spelled(word: str) -> bool:  # as a Latin name of the same consonants
            return any(check_names(e, word).ok for e in latin)

        missing += [name.text for name in names if not vocabulary.mentions(name, spelled)]
    return missing
