"""What a question names that the passages shown for it never mention.

A question on the articles' topic about someone or something they do not mention ("What
did Macron say about the deal?") finds the passages about the deal, and a small model
then answers from them as if they were about Macron. Such a question is refused instead.
Checked here: numbers (years, counts) and capitalized names in Latin script (against
Arabic passages through their romanized consonants, see ``rag.answer.names``). Arabic script
has no capitals to tell a name from a word (an "unknown word" rule refused 29 of 75
answerable ARCD questions, most of them for a typo or a paraphrase), so Arabic names
are left to the model's own refusal, measured at the first step of an extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.names import NOT_NAMES, check_names
from rag.text.arabic import normalize

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
    """The numbers and Latin-script names of ``question`` that no text of ``passages``
    mentions, in either script."""
    text = "\n".join(passages)
    missing = sorted(_numbers(question) - _numbers(text), key=question.find)
    lowered = text.lower()
    for name in _latin_names(question):
        if name.lower() not in lowered and not check_names(name, text).ok:
            missing.append(name)
    return missing
