""".docx articles (python-docx): paragraphs and tables in order, and the core properties."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.table import Table

from rag.ingest.formats.extracted import Extracted
from rag.ingest.formats.meta import ArticleMeta, clean, language_code

# A Word file unpacks to its parts; more than this is no article but a zip bomb.
MAX_UNPACKED_BYTES = 100_000_000


def _table_text(table: Table) -> str:
    rows = (" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
    return "\n".join(row for row in rows if row.strip(" |"))


def read_docx(raw: bytes, name: str) -> Extracted:
    """A Word article: its body text (headers, footers and comments left out) and metadata."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise ValueError(f"{name} unpacks to {unpacked:,} bytes, too much for an article")
        document = docx.Document(io.BytesIO(raw))
    except ValueError:
        raise
    except Exception as exc:  # a damaged zip or XML, or another kind of file renamed
        kind = type(exc).__name__
        raise ValueError(f"{name} could not be read as a Word file ({kind})") from None
    blocks = (
        _table_text(block) if isinstance(block, Table) else block.text.strip()
        for block in document.iter_inner_content()
    )
    text = "\n\n".join(block for block in blocks if block)
    if not text.strip():
        raise ValueError(f"{name} has no text")
    props = document.core_properties
    meta = ArticleMeta(
        title=clean(props.title),
        author=clean(props.author),
        language=language_code(props.language),
        # core_properties.created is when the file was first made (often a template's
        # date), not when the article was published: the text-date finder decides.
    )
    return Extracted(text, meta)
