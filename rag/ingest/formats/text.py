""".txt and .md articles: the encoding found and said, and an optional front-matter block."""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

from rag.ingest.formats.extracted import Extracted
from rag.ingest.formats.meta import ArticleMeta, clean, iso_date, language_code

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
    (b"\xff\xfe", "utf-16", "UTF-16"),
    (b"\xfe\xff", "utf-16", "UTF-16"),
)
# The legacy encodings an Arabic or English news text may come in; a short text fits
# many code pages, so the detector chooses only among these.
LEGACY_ENCODINGS = {
    "cp1256": "windows-1256",
    "iso8859_6": "ISO-8859-6",
    "cp1252": "windows-1252",
    "cp720": "DOS-720",
    "cp864": "IBM-864",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.DOTALL)
_FIELD = re.compile(r"([A-Za-z][\w-]*)[ \t]*:[ \t]*(.*)")
_FIELD_NAMES = {
    "title": "title",
    "date": "published",
    "published": "published",
    "source": "source",
    "outlet": "source",
    "url": "url",
    "link": "url",
    "author": "author",
    "language": "language",
    "lang": "language",
}


def _looks_utf16(raw: bytes) -> bool:
    """The zero bytes every other byte that UTF-16 gives ASCII text."""
    head = raw[:512]
    half = len(head) // 2
    return half >= 4 and (head[1::2].count(0) > 0.8 * half or head[0::2].count(0) > 0.8 * half)


def _decode_legacy(raw: bytes, name: str, bad: int) -> tuple[str, str]:
    """Text in one of LEGACY_ENCODINGS, with that encoding's name.

    ``bad`` is the offset of the first byte that is not UTF-8, for the message.
    """
    best = from_bytes(raw, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        raise ValueError(
            f"{name} is not UTF-8 text (byte 0x{raw[bad]:02x} at offset {bad}) nor in an "
            f"encoding recognised here ({', '.join(LEGACY_ENCODINGS.values())}); save it as UTF-8"
        )
    return str(best), LEGACY_ENCODINGS[best.encoding]


def decode_text(raw: bytes, name: str) -> tuple[str, str | None]:
    """Decode article bytes; return the text and the encoding if it was not UTF-8.

    UTF-8 (with or without a BOM) is read as is, UTF-16/32 when a BOM says so, and
    other bytes in the legacy encoding the detector finds. Raises ValueError, the
    message starting with ``name``, for binary data, UTF-16 without a BOM, bytes no
    encoding fits, and empty text.
    """
    encoding = None
    bom = next((b for b in _BOMS if raw.startswith(b[0])), None)
    if bom:
        try:
            text, encoding = raw.decode(bom[1]), f"{bom[2]} (byte-order mark)"
        except UnicodeDecodeError:
            message = f"{name} starts with a {bom[2]} byte-order mark but is not {bom[2]} text"
            raise ValueError(message) from None
    elif _looks_utf16(raw):
        raise ValueError(
            f"{name} is UTF-16 text without a byte-order mark, so its byte order is unknown: "
            "save it as UTF-8 (e.g. iconv -f UTF-16LE -t UTF-8)"
        )
    elif b"\x00" in raw[:8192]:
        raise ValueError(f"{name} looks like a binary file, not text")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text, encoding = _decode_legacy(raw, name, exc.start)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if len(_CONTROL.findall(text[:8192])) > 0.01 * len(text[:8192]):
        raise ValueError(f"{name} looks like a binary file, not text")
    if not text.strip():
        raise ValueError(f"{name} is empty")
    return text, encoding


def split_front_matter(text: str) -> tuple[str, ArticleMeta]:
    """Take a leading ``---`` block of ``key: value`` lines off ``text`` as metadata.

    Known keys: title, date (or published), source (or outlet), url (or link), author,
    language (or lang); others are ignored. A block with any line that is not
    ``key: value`` is not front matter and stays in the text.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, ArticleMeta()
    fields: dict[str, str | None] = {}
    for line in match.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        field = _FIELD.fullmatch(line.strip())
        if not field:
            return text, ArticleMeta()
        key = _FIELD_NAMES.get(field.group(1).lower())
        value = clean(field.group(2).strip().strip("\"'"))
        if key and value and key not in fields:
            fields[key] = {"published": iso_date, "language": language_code}.get(key, str)(value)
    return text[match.end() :].lstrip("\n"), ArticleMeta(**fields)


def read_text(raw: bytes, name: str) -> Extracted:
    """A .txt or .md article: decoded text without its front matter, which is metadata."""
    text, encoding = decode_text(raw, name)
    body, meta = split_front_matter(text)
    if not body.strip():
        raise ValueError(f"{name} has front matter but no text")
    notes = (f"read as {encoding}",) if encoding else ()
    return Extracted(body, meta, notes)
