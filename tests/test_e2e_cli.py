"""The terminal interface end to end: real models, real index, real subprocesses."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT
from tests.conftest import SEEDS

pytestmark = pytest.mark.models


def rag(
    *args: str, stdin: str | None = None, timeout: int = 1800, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A copy of seeds/ and an index folder that starts missing."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(SEEDS, root / "seeds")
    return ["--seeds", str(root / "seeds"), "--index", str(root / "index")]


def test_missing_index_is_built_with_a_notice_then_ask_json(folders):
    result = rag("ask", "Who is the president of Kazakhstan?", "--json", *folders)
    assert result.returncode == 0, result.stderr
    assert "No index" in result.stderr and "building it now" in result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {
        "question",
        "language",
        "answer",
        "refused",
        "citations",
        "timings",
        "model",
    }
    assert data["language"] == "en" and not data["refused"]
    assert "Tokayev" in data["answer"] or "توكاييف" in data["answer"]
    citation = data["citations"][0]
    assert set(citation) >= {"n", "doc_id", "title", "passage_id", "text", "start", "end", "score"}
    assert citation["doc_id"] == "000_7cec5dfa3ac44c0f"
    assert f"[{citation['n']}]" in data["answer"]
    assert set(data["timings"]) == {"retrieve_s", "first_token_s", "total_s"}
    assert set(data["model"]) == {"llm", "embedder"}


def test_arabic_question_gets_an_arabic_cited_answer(folders):
    result = rag("ask", "ما هو موقف لوكاشينكو من استخدام الأسلحة النووية؟", "--json", *folders)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["language"] == "ar" and not data["refused"]
    from rag.text.language import detect_language

    assert detect_language(data["answer"]) == "ar"
    assert data["citations"] and data["citations"][0]["doc_id"] == "004_82baf4bec990e674"


def test_retrieve_json(folders):
    result = rag(
        "retrieve", "How many countries are at war with Russia?", "--k", "4", "--json", *folders
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["language"] == "en" and len(data["passages"]) == 4
    top = data["passages"][0]
    assert top["rank"] == 1 and "50 دولة" in top["text"]
    seeds_text = (SEEDS / f"{top['doc_id']}.txt").read_text(encoding="utf-8")
    assert seeds_text[top["start"] : top["end"]] == top["text"]


def test_chat_holds_a_three_turn_conversation(folders):
    turns = (
        "\n".join(
            [
                "Who is the president of Kazakhstan?",
                "What did he say about nuclear weapons?",
                "/sources",
                "كم دولة في حالة حرب مع روسيا حسب لوكاشينكو؟",
            ]
        )
        + "\n"
    )
    result = rag("chat", *folders, stdin=turns)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("Nabaa:") == 3
    assert "Tokayev" in out or "توكاييف" in out
    assert "000_7cec5dfa3ac44c0f#" in out  # /sources lists the passages of the last answer
    assert "50" in out.split("Nabaa:")[-1]
    assert "Bye." in result.stderr


def test_index_reports_what_changed(folders):
    seeds = folders[1]
    assert rag("index", *folders).stdout.strip().startswith("Index up to date")
    extra = f"{seeds}/extra.txt"
    with open(extra, "w", encoding="utf-8") as fh:
        fh.write("خبر قصير\nافتتح متحف جديد في القاهرة.")
    with open(f"{seeds}/broken.txt", "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    result = rag("index", *folders)
    assert result.returncode == 0, result.stderr
    assert "Added: extra" in result.stdout
    assert "broken.txt looks like a binary file" in result.stdout
    # Progress lines (stderr is not a terminal) with the rate and the time left.
    assert re.search(r"Embedding passages: 1/1 [\d.,]+/s, 0:00 left", result.stderr)
    os.remove(extra)
    result = rag("index", "--compact", *folders)
    assert result.returncode == 0, result.stderr
    assert "Deleted: extra" in result.stdout and "Nothing to merge." in result.stdout


def test_empty_seeds_folder_is_a_clear_error(tmp_path):
    (tmp_path / "seeds").mkdir()
    result = rag("index", "--seeds", str(tmp_path / "seeds"), "--index", str(tmp_path / "i"))
    assert result.returncode == 1
    assert "No readable articles" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_question_is_a_clear_error(folders):
    result = rag("retrieve", "  ", *folders)
    assert result.returncode == 1
    assert "The question is empty" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("question", ["🙂🙂", "\u200b\u200c"])
def test_a_wordless_question_is_refused_before_any_model_loads(folders, question, tmp_path):
    # Models that cannot load: had they been loaded first, their error would show.
    env = {"NABAA_LLM_PATH": str(tmp_path / "none.gguf"), "NABAA_EMBEDDER_PATH": str(tmp_path)}
    for command in ("ask", "retrieve"):
        result = rag(command, question, *folders, env=env)
        assert result.returncode == 1
        assert "no letters or digits" in result.stderr or "empty" in result.stderr
        assert "model" not in result.stderr.lower() and "Traceback" not in result.stderr


@pytest.mark.parametrize("k", ["0", "-1", "51"])
def test_k_out_of_range_says_what_is_allowed(folders, k):
    result = rag("retrieve", "Who is the president of Kazakhstan?", "--k", k, *folders)
    assert result.returncode == 1
    assert f"k must be between 1 and 50 passages, not {k}" in result.stderr


def test_a_symlink_in_seeds_is_named_and_not_indexed(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    index = ["--seeds", str(seeds), "--index", str(tmp_path / "index")]
    result = rag("index", *index)
    assert result.returncode == 0, result.stderr
    assert "passwd.txt: a symbolic link" in result.stdout
    listed = rag("articles", *index).stdout
    assert "passwd" not in listed and "root:" not in listed
    # Not a terminal: progress comes as lines, not a redrawn bar.
    assert "Embedding passages:" in result.stderr


def test_saved_pages_pdfs_word_files_and_legacy_text_are_indexed_with_dates_and_sources(
    tmp_path,
):
    """The fixtures (made by Chromium, python-docx and Python's codecs) dropped into seeds/."""
    formats = PROJECT_ROOT / "tests" / "data" / "formats"
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    names = [
        "ar-central-bank.pdf",
        "en-port-strike.html",
        "ar-desalination.docx",
        "ar-locusts.cp1256.txt",
        "en-flood-warning.pdf",
    ]
    for name in names:
        shutil.copy(formats / name, seeds / name)
    folders = ["--seeds", str(seeds), "--index", str(tmp_path / "index")]
    built = rag("index", *folders)
    assert built.returncode == 0, built.stderr
    assert "ar-locusts.cp1256.txt: read as windows-1256" in built.stdout + built.stderr
    listed = rag("articles", *folders)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert set(lines) == {name.rsplit(".", 1)[0] for name in names}
    expected = {
        "ar-central-bank": ("2025-11-06", "المرصد الاقتصادي"),
        "en-port-strike": ("2025-06-18", "The Harbour Times"),
        "ar-desalination": ("2025-03-12", None),
        "ar-locusts.cp1256": ("2025-02-03", None),
        "en-flood-warning": ("2025-01-27", "Northern Ledger"),
    }
    for doc_id, (published, source) in expected.items():
        assert published in lines[doc_id] and (source is None or source in lines[doc_id])
    newest_first = [line.split()[1] for line in listed.stdout.splitlines() if line.strip()]
    assert newest_first == sorted(newest_first, reverse=True)
