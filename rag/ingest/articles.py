"""Reading articles from the seeds folder: text and metadata, a title, a stable id, a content hash.

Every format goes through ``rag.ingest.formats`` (``read_file``, kept in an
``ExtractionCache`` by the index, then ``complete``); this module keeps the
folder safe to read (no links followed, hidden files skipped) and checks uploads.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from rag.errors import NabaaError
from rag.ingest.extraction_cache import ExtractionCache
from rag.ingest.formats import (
    SUPPORTED_SUFFIXES,
    ArticleMeta,
    DateFinder,
    check_suffix,
    complete,
    decode_text,
    read_article,
    read_file,
)

ARTICLE_SUFFIXES = SUPPORTED_SUFFIXES
log = logging.getLogger("nabaa.articles")
TITLE_MAX_CHARS = 80


@dataclass(frozen=True)
class Article:
    """One article: ``text`` is its main text (LF line ends), ``meta`` what the file says."""

    doc_id: str
    title: str
    text: str
    path: Path
    meta: ArticleMeta = field(default_factory=ArticleMeta)

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


# A text this large is far more than a news article: it is indexed, with a warning.
LARGE_ARTICLE_BYTES = 1_000_000


def decode_article(raw: bytes, name: str) -> str:
    """Decode .txt/.md bytes (UTF-8, UTF-16/32 with a BOM, or a legacy Arabic or Western
    encoding), or raise ValueError saying why they are not text."""
    return decode_text(raw, name)[0]


def default_id(name: str) -> str:
    """Stable article id: the path under the seeds folder (``name``), without its suffix
    (with it, when another article has the same path but another suffix: ``unique_ids``)."""
    return PurePosixPath(name).with_suffix("").as_posix()


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


def load_article(
    path: Path,
    name: str,
    find_date: DateFinder | None = None,
    cache: ExtractionCache | None = None,
    doc_id: str | None = None,
) -> tuple[Article | None, list[str]]:
    """The article in the file ``path`` (``name``: its path under the folder, which names
    it in messages and gives its id unless ``doc_id`` does) and the problems to report:
    why it was skipped (then no article), or notes and warnings about how it was read.

    ``find_date`` looks for a publication date in the text when the file gives none;
    with a ``cache``, a file read before is not read again.
    """
    try:
        check_suffix(name)
        raw = read_regular_file(path)
        key = cache.key(name, raw) if cache else ""
        extracted = cache.get(key) if cache else None
        if extracted is None:
            extracted = read_file(name, raw)
            if cache:
                cache.put(key, extracted)
        extracted = complete(extracted, find_date)
    except ValueError as exc:
        message = str(exc)
        message = message if message.startswith(name) else f"{name}: {message}"
        return None, [f"{message}: skipped"]
    except OSError as exc:
        return None, [f"{name}: {exc.strerror or exc}: skipped"]
    problems = [f"{name}: {note}" for note in extracted.notes]
    size = len(extracted.text.encode("utf-8"))
    if size > LARGE_ARTICLE_BYTES:
        warning = (
            f"{name} is {size / 1e6:,.1f} MB of text, far more than a news article: "
            "indexing it takes a while"
        )
        log.warning(warning)
        problems.append(warning)
    text, meta = extracted.text, extracted.meta
    title = short_title(meta.title) if meta.title else short_title(text)
    return Article(doc_id or default_id(name), title, text, path, meta), problems


def load_articles(
    seeds_dir: Path, find_date: DateFinder | None = None, cache: ExtractionCache | None = None
) -> LoadResult:
    """Read every article under ``seeds_dir``; unreadable files are reported and skipped.

    ``find_date`` looks for a publication date in the text of articles whose file
    does not give one. With a ``cache``, a file read before is not read again.
    """
    result = LoadResult()
    if not seeds_dir.is_dir():
        result.problems.append(f"{seeds_dir} is not a folder")
        return result
    read: dict[str, Article] = {}
    for path in list_files(seeds_dir, result.problems):
        name = path.relative_to(seeds_dir).as_posix()
        article, problems = load_article(path, name, find_date, cache)
        result.problems += problems
        if article:
            read[name] = article
    ids = unique_ids(read)
    result.articles = [replace(a, doc_id=ids[name]) for name, a in read.items()]
    return result


def unique_ids(names: Iterable[str]) -> dict[str, str]:
    """The id of each article file named (its path under the folder): ``default_id``, or
    the path itself when another of them has the same id (one story saved as .html and
    .pdf: "story.html", "story.pdf")."""
    names = list(names)
    counts = Counter(default_id(n) for n in names)
    return {n: default_id(n) if counts[default_id(n)] == 1 else n for n in names}


def _safe_file_name(name: str) -> str:
    base = re.sub(r"[^\w.\- ]", "_", Path(name.replace("\\", "/")).name).strip(" .")
    return base or "article.txt"


def save_article(seeds_dir: Path, name: str, data: bytes, max_bytes: int) -> str:
    """Check an article (a supported format that reads as one, at most ``max_bytes``) and
    save it as it came.

    Returns the name it was saved under: never overwrites a different article (nor a
    link or anything else already there), and raises NabaaError with the reason when
    the file is rejected.
    """
    file_name = _safe_file_name(name)
    suffix = Path(file_name).suffix.lower()
    try:
        check_suffix(file_name)
        if len(data) > max_bytes:
            size = f"{len(data):,} bytes is over the {max_bytes:,}-byte limit"
            raise ValueError(f"{file_name}: {size}")
        read_article(file_name, data)
    except ValueError as exc:
        message = str(exc)
        message = message if message.startswith(file_name) else f"{file_name}: {message}"
        raise NabaaError(f"{message}.") from None
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
