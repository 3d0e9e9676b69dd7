""".html/.htm saved pages: the article's main text (trafilatura) and the page's metadata.

trafilatura drops navigation, ads, related links, comments and footers; the metadata
is read here from the tags news sites publish for sharing and search engines:
Open Graph (og:, article:), <meta name="author">, <link rel="canonical"> and a
schema.org NewsArticle in JSON-LD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import trafilatura
from lxml.html import HtmlElement

from rag.ingest.formats.extracted import Extracted
from rag.ingest.formats.meta import ArticleMeta, clean, iso_date, language_code

# Other meta tags some sites put the publication date in, best first.
_DATE_TAGS = (
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "date",
)


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """<meta> contents by property, name or itemprop (lower-cased); the first one wins."""
    tags: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = clean(meta.get("content"))
        if key and content:
            tags.setdefault(key.strip().lower(), content)
    return tags


def _walk_json_ld(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _walk_json_ld(item)
    elif isinstance(node, dict):
        yield node
        yield from _walk_json_ld(node.get("@graph", []))


def _is_article(node: dict[str, Any]) -> bool:
    kinds = node.get("@type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return any(isinstance(k, str) and k.endswith(("Article", "BlogPosting")) for k in kinds)


def _json_ld_article(tree: HtmlElement) -> dict[str, Any]:
    """The first schema.org article object in the page's JSON-LD, or {}."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        article = next((n for n in _walk_json_ld(data) if _is_article(n)), None)
        if article:
            return article
    return {}


def _name(value: Any) -> str | None:
    """A person's or organisation's name from JSON-LD (text, object, or list of them)."""
    if isinstance(value, list):
        names = [n for n in map(_name, value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return clean(value.get("name"))
    return clean(value)


def _link(value: Any) -> str | None:
    if isinstance(value, dict):
        return clean(value.get("@id") or value.get("url"))
    return clean(value)


def _first_date(*values: str | None) -> str | None:
    return next((d for d in map(iso_date, values) if d), None)


def html_meta(tree: HtmlElement) -> ArticleMeta:
    """Title, date, outlet, address, author and language a news page declares."""
    tags, ld = _meta_tags(tree), _json_ld_article(tree)
    canonical = next(
        (link.get("href") for link in tree.iter("link") if link.get("rel") == "canonical"), None
    )
    author = tags.get("author") or _name(ld.get("author"))
    if not author and not (tags.get("article:author") or "").startswith("http"):
        author = tags.get("article:author")
    page_title = tree.findtext(".//title")
    return ArticleMeta(
        title=clean(ld.get("headline")) or tags.get("og:title") or clean(page_title),
        published=_first_date(
            tags.get("article:published_time"),
            clean(ld.get("datePublished")),
            *(tags.get(t) for t in _DATE_TAGS),
        ),
        source=tags.get("og:site_name") or _name(ld.get("publisher")),
        url=clean(canonical) or tags.get("og:url") or _link(ld.get("mainEntityOfPage")),
        author=author,
        language=language_code(tree.get("lang") or clean(ld.get("inLanguage")))
        or language_code(tags.get("og:locale")),
    )


def read_html(raw: bytes, name: str) -> Extracted:
    """A saved news page: headline and main text, without the site's boilerplate."""
    tree = trafilatura.load_html(raw)
    if tree is None:
        raise ValueError(f"{name} could not be read as an HTML page")
    meta = html_meta(tree)
    body = trafilatura.extract(tree, include_comments=False, include_tables=True)
    if not body or not body.strip():
        raise ValueError(f"{name} has no article text that could be told from the page around it")
    title = meta.title
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}"
    return Extracted(text, meta)
