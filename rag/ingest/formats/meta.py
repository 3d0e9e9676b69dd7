"""What a file says about its article: title, publication date, outlet, address, author."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rag.ingest.dates import parse_iso_date


@dataclass(frozen=True)
class ArticleMeta:
    """Metadata of one article; every field is None when the file does not say it.

    ``published`` is an ISO date (YYYY-MM-DD), the day as the outlet wrote it;
    ``date_from`` says where it was found: "file" (meta tags, document properties, front
    matter) or "text" (a dateline).
    """

    title: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    language: str | None = None
    date_from: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def iso_date(value: str | None) -> str | None:
    """The day of a date string in metadata ("2025-03-12T23:30:00-05:00" is the 12th, the
    outlet's own day), as an ISO date, or None."""
    found = parse_iso_date(value or "")
    return found.isoformat() if found else None


def clean(value: object) -> str | None:
    """A metadata value as one trimmed line, or None if empty or not text."""
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def language_code(code: str | None) -> str | None:
    """The language of a tag: "ar" from "ar", "ar-JO" or "ar_AR"."""
    return clean(code.replace("_", "-").split("-")[0].lower()) if code else None
