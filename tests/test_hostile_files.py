"""Files in the seeds folder that must not be read as articles, or not as they claim."""

from __future__ import annotations

import os

import pytest

from rag.errors import NabaaError
from rag.ingest.articles import LARGE_ARTICLE_BYTES, load_articles, save_article
from rag.store.index import load_index, update_index


def test_links_are_named_and_never_followed(tmp_path, seeds, counting_embedder):
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "inner.txt").write_text("سر من خارج المجلد.", encoding="utf-8")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "secret.txt").symlink_to(outside)
    (seeds / "inside-link.txt").symlink_to(seeds / "000_7cec5dfa3ac44c0f.txt")
    (seeds / "linked-folder").symlink_to(elsewhere, target_is_directory=True)

    report = update_index(seeds, tmp_path / "index", counting_embedder, 250, 1)
    texts = " ".join(counting_embedder.embedded)
    assert "root:" not in texts and "سر من خارج" not in texts
    ids = set(load_index(tmp_path / "index").articles())
    assert ids == {"000_7cec5dfa3ac44c0f", "004_82baf4bec990e674"}
    for name in ("passwd.txt", "secret.txt", "inside-link.txt", "linked-folder/"):
        assert any(p.startswith(name) and "symbolic link" in p for p in report.problems), name


def test_a_pipe_or_device_is_skipped_without_blocking(tmp_path, seeds):
    os.mkfifo(seeds / "pipe.txt")
    result = load_articles(seeds)
    assert any(p.startswith("pipe.txt") and "not a regular file" in p for p in result.problems)
    assert len(result.articles) == 2


def test_utf16_with_a_bom_is_read_and_without_one_named_with_the_fix(seeds):
    (seeds / "wide.txt").write_bytes("خبر عاجل\nنص الخبر.".encode("utf-16"))
    (seeds / "wide-nobom.txt").write_bytes("Breaking news from Amman".encode("utf-16-le"))
    result = load_articles(seeds)
    wide = next(a for a in result.articles if a.doc_id == "wide")
    assert wide.text == "خبر عاجل\nنص الخبر."
    assert "wide.txt: read as UTF-16 (byte-order mark)" in result.problems
    message = next(p for p in result.problems if p.startswith("wide-nobom.txt"))
    assert "UTF-16" in message and "save it as UTF-8" in message and "binary" not in message


def test_a_huge_article_is_indexed_with_a_warning(seeds, caplog):
    (seeds / "huge.txt").write_text("عنوان\n" + "جملة طويلة. " * 120_000, encoding="utf-8")
    assert (seeds / "huge.txt").stat().st_size > LARGE_ARTICLE_BYTES
    with caplog.at_level("WARNING", logger="nabaa"):
        result = load_articles(seeds)
    assert "huge" in {a.doc_id for a in result.articles}
    assert any("huge.txt is" in p and "MB" in p for p in result.problems)
    assert any("huge.txt" in r.getMessage() for r in caplog.records)


def test_markdown_articles_are_read_and_can_be_uploaded(tmp_path, seeds):
    (seeds / "note.md").write_text("# عنوان\n\nنص.", encoding="utf-8")
    assert "note" in {a.doc_id for a in load_articles(seeds).articles}
    assert save_article(tmp_path / "up", "brief.md", "# خبر\nنص.".encode(), 1000) == "brief.md"


def test_an_upload_never_reads_or_replaces_a_link(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "news.txt").symlink_to("/etc/passwd")
    data = "عنوان\nنص المقال.".encode()
    assert save_article(seeds, "news.txt", data, 1000) == "news-2.txt"
    assert (seeds / "news.txt").is_symlink()
    with pytest.raises(NabaaError, match="UTF-16"):
        save_article(seeds, "wide.txt", "Breaking news".encode("utf-16-le"), 1000)
