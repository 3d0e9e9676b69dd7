"""Reading articles from the seeds folder: UTF-8 text, a title, a stable id, a content hash."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import NabaaError

ARTICLE_SUFFIXES = (".txt", ".md")
log = logging.getLogger("nabaa.articles")
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


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A file this large is far more than a news article: it is indexed, with a warning.
LARGE_ARTICLE_BYTES = 1_000_000


def _looks_utf16(raw: bytes) -> bool:
    """A UTF-16 BOM, or the zero bytes every other byte that UTF-16 gives ASCII text."""
    if raw.startswith(_UTF16_BOMS):
        return True
    head = raw[:512]
    half = len(head) // 2
    return half >= 4 and (head[1::2].count(0) > 0.8 * half or head[0::2].count(0) > 0.8 * half)


def decode_article(raw: bytes, name: str) -> str:
    """Decode article bytes as UTF-8 text, or raise ValueError saying why they are not."""
    if _looks_utf16(raw):
        raise ValueError(
            f"{name} is UTF-16 text, and articles must be UTF-8: save it as UTF-8 "
            f"(e.g. iconv -f UTF-16 -t UTF-8)"
        )
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


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file itself, never what a link points to.

    Raises ValueError for a symbolic link, a folder, a device or a pipe: ``O_NOFOLLOW``
    refuses a link even if one replaced the file after it was listed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("a symbolic link (only files inside the folder are read)") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        return fh.read()


def list_files(seeds_dir: Path, problems: list[str]) -> list[Path]:
    """Regular files under ``seeds_dir``, hidden ones left out; links are named in ``problems``.

    Linked folders are not entered and linked files are not read: either could point
    anywhere on the machine.
    """
    files = []
    for folder, dirs, names in os.walk(seeds_dir):
        here = Path(folder)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                rel = (here / name).relative_to(seeds_dir).as_posix()
                problems.append(f"{rel}/: skipped, a symbolic link to a folder")
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        files += [here / n for n in sorted(names) if not n.startswith(".")]
    return files


def read_article(path: Path, doc_id: str, name: str) -> tuple[Article | None, str | None]:
    """The article in ``path`` and a problem to report (``name`` in its message): why the
    file was skipped (then no article), or a warning about an article that was read."""
    if path.suffix.lower() not in ARTICLE_SUFFIXES:
        return None, f"{name}: skipped, only {'/'.join(ARTICLE_SUFFIXES)} are read"
    try:
        raw = read_regular_file(path)
        text = decode_article(raw, name)
    except ValueError as exc:
        message = str(exc)
        message = message if message.startswith(name) else f"{name}: {message}"
        return None, f"{message}: skipped"
    except OSError as exc:
        return None, f"{name}: {exc.strerror or exc}: skipped"
    warning = None
    if len(raw) > LARGE_ARTICLE_BYTES:
        warning = (
            f"{name} is {len(raw) / 1e6:,.1f} MB, far more than a news article: "
            "indexing it takes a while"
        )
        log.warning(warning)
    return Article(doc_id=doc_id, title=short_title(text), text=text, path=path), warning


def load_articles(seeds_dir: Path) -> LoadResult:
    """Read every article under ``seeds_dir``; unreadable files are reported and skipped."""
    result = LoadResult()
    if not seeds_dir.is_dir():
        result.problems.append(f"{seeds_dir} is not a folder")
        return result
    for path in list_files(seeds_dir, result.problems):
        name = path.relative_to(seeds_dir).as_posix()
        article, problem = read_article(path, doc_id_for(path, seeds_dir), name)
        if problem:
            result.problems.append(problem)
        if article:
            result.articles.append(article)
    return result


def _safe_file_name(name: str) -> str:
    base = re.sub(r"[^\w.\- ]", "_", Path(name.replace("\\", "/")).name).strip(" .")
    return base or "article.txt"


def save_article(seeds_dir: Path, name: str, data: bytes, max_bytes: int) -> str:
    """Check an article (UTF-8 text, a .txt or .md name, at most ``max_bytes``) and save it.

    Returns the name it was saved under: never overwrites a different article (nor a
    link or anything else already there), and raises NabaaError with the reason when
    the file is rejected.
    """
    file_name = _safe_file_name(name)
    suffix = Path(file_name).suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise NabaaError(f"{name}: only {' and '.join(ARTICLE_SUFFIXES)} articles can be added.")
    if len(data) > max_bytes:
        raise NabaaError(f"{name}: {len(data):,} bytes is over the {max_bytes:,}-byte limit.")
    try:
        decode_article(data, file_name)
    except ValueError as exc:
        raise NabaaError(f"{exc}.") from None
    seeds_dir.mkdir(parents=True, exist_ok=True)
    target = seeds_dir / file_name
    counter = 2
    while os.path.lexists(target):
        try:
            if read_regular_file(target) == data:
                return target.name
        except (OSError, ValueError):
            pass  # a link or something else: never read through it, pick another name
        target = seeds_dir / f"{Path(file_name).stem}-{counter}{suffix}"
        counter += 1
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    return target.name
