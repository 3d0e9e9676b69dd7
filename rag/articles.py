"""Reading articles from the seeds folder: UTF-8 text, a title, a stable id, a content hash."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import NabaaError

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


def _safe_file_name(name: str) -> str:
    base = re.sub(r"[^\w.\- ]", "_", Path(name.replace("\\", "/")).name).strip(" .")
    return base or "article.txt"


def save_article(seeds_dir: Path, name: str, data: bytes, max_bytes: int) -> str:
    """Check an article (UTF-8 text, a .txt name, at most ``max_bytes``) and save it.

    Returns the name it was saved under: never overwrites a different article, and
    raises NabaaError with the reason when the file is rejected.
    """
    file_name = _safe_file_name(name)
    if Path(file_name).suffix.lower() != ".txt":
        raise NabaaError(f"{name}: only .txt articles can be added.")
    if len(data) > max_bytes:
        raise NabaaError(f"{name}: {len(data):,} bytes is over the {max_bytes:,}-byte limit.")
    try:
        decode_article(data, file_name)
    except ValueError as exc:
        raise NabaaError(f"{exc}.") from None
    seeds_dir.mkdir(parents=True, exist_ok=True)
    target = seeds_dir / file_name
    counter = 2
    while target.exists():
        if target.read_bytes() == data:
            return target.name
        target = seeds_dir / f"{Path(file_name).stem}-{counter}.txt"
        counter += 1
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target.name
