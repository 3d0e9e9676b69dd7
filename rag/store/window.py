"""Which articles a question may be answered from: a window of publication dates and a
source, set explicitly (``--since``, ``--until``, ``--source``, the web UI's filters) or
read from a time expression in the question ("in March 2023", "الأسبوع الماضي").

An explicit window is strict: articles outside it, and articles without a date when it
has dates, are never searched. A window read from the question applies only when some
article was published in it; otherwise the expression is taken to be about the events,
not the articles ("Who won the 1945 election?"), and every article is searched, with a
notice either way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from rag.errors import NabaaError
from rag.text.time_expressions import time_range

NOTICES = {
    "applied": {
        "en": 'Only articles published {span} were searched ("{words}").',
        "ar": "بُحث في المقالات المنشورة {span} فقط («{words}»).",
    },
    "empty": {
        "en": 'No article was published {span} ("{words}"), so every article was searched.',
        "ar": "لا مقال منشوراً {span} («{words}»)، فبُحث في المقالات كلها.",
    },
    "none": {
        "en": "No article matches the filters: published {span}.",
        "ar": "لا مقال يطابق المرشّحات: منشور {span}.",
    },
}
_SPANS = {
    "en": {
        "both": "from {since} to {until}",
        "since": "since {since}",
        "until": "until {until}",
        "source": "by {source}",
    },
    "ar": {
        "both": "من {since} إلى {until}",
        "since": "منذ {since}",
        "until": "حتى {until}",
        "source": "في {source}",
    },
}


def notice(kind: str, language: str, window: Window) -> str:
    """The notice of ``kind`` (applied, empty, none) about ``window``, in ``language``."""
    texts = NOTICES[kind]
    text = texts.get(language, texts["en"])
    return text.format(span=window.describe(language), words=window.words)


@dataclass(frozen=True)
class Window:
    """Publication dates (ISO, both ends included; None is open) and a source; ``words``
    is the time expression it was read from, empty when set explicitly."""

    since: str | None = None
    until: str | None = None
    source: str | None = None
    words: str = ""

    @property
    def key(self) -> tuple[str | None, str | None, str | None]:
        """What the store filters by."""
        return self.since, self.until, self.source

    def describe(self, language: str) -> str:
        """The window in words, e.g. "from 2023-03-01 to 2023-03-31 by Al-Ufuq"."""
        spans = _SPANS.get(language, _SPANS["en"])
        which = "both" if self.since and self.until else "since" if self.since else "until"
        parts = [spans[which]] if self.since or self.until else []
        parts += [spans["source"]] if self.source else []
        return " ".join(parts).format(since=self.since, until=self.until, source=self.source)

    def to_json(self) -> dict[str, str | None]:
        """The ``filters`` object of ``retrieve --json`` and ``ask --json``."""
        return {**asdict(self), "words": self.words or None}


def _iso(value: str | dt.date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise NabaaError(f"{name} must be a date written YYYY-MM-DD, not {value!r}.") from None


def explicit_window(
    since: str | dt.date | None, until: str | dt.date | None, source: str | None
) -> Window | None:
    """The window the user set, or None; NabaaError for a date that is not one."""
    window = Window(_iso(since, "since"), _iso(until, "until"), (source or "").strip() or None)
    if window.since and window.until and window.since > window.until:
        raise NabaaError(f"since ({window.since}) is after until ({window.until}).")
    return window if any(window.key) else None


def question_window(question: str, reference: dt.date) -> tuple[Window, str] | None:
    """The window a time expression in ``question`` gives, with the question to search
    with (the expression taken out), or None when it has none."""
    found = time_range(question, reference)
    if found is None or not (found.since or found.until):
        return None
    since = found.since.isoformat() if found.since else None
    until = found.until.isoformat() if found.until else None
    return Window(since, until, None, found.text), found.question
