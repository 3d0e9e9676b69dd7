"""What a file says about its article: title, publication date, outlet, address, author."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import date

_ISO_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?!\d)")


@dataclass(frozen=True)
class ArticleMeta:
    """Metadata of one article; every field is None when the file does not say it.

    ``published`` is an ISO date (YYYY-MM-DD), the day as the outlet wrote it.
    """

    title: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    language: str | None = None

    def filled_from(self, other: ArticleMeta) -> ArticleMeta:
        """This metadata with its missing fields taken from ``other``."""
        return replace(self, **{k: v for k, v in asdict(other).items() if getattr(self, k) is None})

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def iso_date(value: str | None) -> str | None:
    """The date of an ISO 8601 string ("2025-03-12", "2025-03-12T09:30:00+03:00"), or None.

    The day is kept as written, in the writer's time zone: that is the day the outlet
    gives as the publication date.
    """
    match = _ISO_DATE.match(value or "")
    if not match:
        return None
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def clean(value: object) -> str | None:
    """A metadata value as one trimmed line, or None if empty or not text."""
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def language_code(code: str | None) -> str | None:
    """The language of a tag: "ar" from "ar", "ar-JO" or "ar_AR"."""
    return clean(code.replace("_", "-").split("-")[0].lower()) if code else None
