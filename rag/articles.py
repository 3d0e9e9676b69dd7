"""Reading articles from the seeds folder: UTF-8 text, a title, a stable id, a content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md")
TITLE_MAX_CHARS = 80


@dataclass(frozen=True)
class Article:
    """One article: ``text`` is the decoded file with a BOM removed and CRLF made LF."""

    doc_id: str
    title: str
    text: str
    path: Path

    @property
    def content_hash(self) -> str:
        """sha256 of the text, used to re-embed only articles that changed."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class LoadResult:
    """Articles read from a folder and the files that could not be read, with the reason."""

    articles: list[Article] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def short_title(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """First non-empty line, cut at a word boundary to at most ``limit`` characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ،,.:;-–—") + "…"


def decode_article(raw: bytes, name: str) -> str:
    """Decode article bytes as UTF-8 text, or raise ValueError saying why they are not."""
    if b"\x00" in raw[:8192]:
        raise ValueError(f"{name} looks like a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(f"{name} is empty")
    return text


def doc_id_for(path: Path, root: Path) -> str:
    """Stable article id: the path under the seeds folder, without its suffix."""
    return path.relative_to(root).with_suffix("").as_posix()


def load_articles(seeds_dir: Path) -> LoadResult:
    """Read every article under ``seeds_dir``; unreadable files are reported and skipped."""
    result = LoadResult()
    if not seeds_dir.is_dir():
        result.problems.append(f"{seeds_dir} is not a folder")
        return result
    for path in sorted(seeds_dir.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(seeds_dir).as_posix()
        if path.suffix.lower() not in ARTICLE_SUFFIXES:
            result.problems.append(f"{name}: skipped, only {'/'.join(ARTICLE_SUFFIXES)} are read")
            continue
        try:
            text = decode_article(path.read_bytes(), name)
        except (OSError, ValueError) as exc:
            result.problems.append(f"{exc}: skipped")
            continue
        result.articles.append(
            Article(
                doc_id=doc_id_for(path, seeds_dir), title=short_title(text), text=text, path=path
            )
        )
    return result
