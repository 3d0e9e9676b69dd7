"""The MCP server: the SDK's own client against ``/mcp`` of ``python app.py`` (the
session's ``app_server``, token ``API_TOKEN``), and ``python -m rag mcp`` over stdio with
models that cannot load (so nothing is loaded twice)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from typing import Any

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from rag.apps.mcp_server import create_server
from rag.config import PROJECT_ROOT
from rag.pipeline import Answer, Citation
from rag.store.catalog import META_COLUMNS
from tests.conftest import SEEDS, mcp_call, mcp_session

TOOLS = {"search_articles", "ask", "list_articles"}
PASSAGE_KEYS = {
    *("rank", "doc_id", "title", "passage_id", "text", "start", "end", "score"),
    *("published", "source", "url"),
}
MARKER = re.compile(r"\[\d+\]")
SEED_IDS = {path.stem for path in SEEDS.glob("*.txt")}


def _check_tools(tools: list[Any]) -> None:
    """The three tools, described, with the input schemas an agent reads."""
    by_name = {t.name: t for t in tools}
    assert set(by_name) == TOOLS
    for tool in tools:
        assert len(tool.description) > 80 and tool.annotations.read_only_hint
    search = by_name["search_articles"].input_schema
    assert search["required"] == ["query"]
    assert set(search["properties"]) == {"query", "k", "since", "until"}
    assert (
        search["properties"]["k"] | {"default": 5, "minimum": 1, "maximum": 50}
        == (search["properties"]["k"])
    )
    assert "YYYY-MM-DD" in search["properties"]["since"]["description"]
    assert by_name["ask"].input_schema["required"] == ["question"]
    assert by_name["list_articles"].input_schema["properties"] == {}


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content)


# The server object (no models) ------------------------------------------------------


def test_the_server_has_three_described_tools():
    _check_tools(asyncio.run(create_server(lambda: None).list_tools()))


def test_the_stdio_command_has_help():
    result = subprocess.run(
        [sys.executable, "-m", "rag", "mcp", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "MCP" in result.stdout and "--seeds" in result.stdout


def test_stdio_keeps_stdout_for_the_protocol_and_says_why_it_cannot_answer(tmp_path):
    """The real stdio transport, with models that cannot load: the protocol works while
    the failed warm-up writes to stderr, and the tools say what is wrong."""
    env = {
        **os.environ,
        "NABAA_LLM_PATH": str(tmp_path / "none.gguf"),
        "NABAA_EMBEDDER_PATH": str(tmp_path),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rag", "mcp", "--seeds", str(SEEDS), "--index", str(tmp_path / "index")],
        env=env,
        cwd=PROJECT_ROOT,
    )

    async def main() -> tuple[list[Any], Any, Any]:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                tools = (await session.list_tools()).tools
                dated = await session.call_tool("search_articles", {"query": "x", "since": "2024"})
                articles = await session.call_tool("list_articles", {})
                return tools, dated, articles

    tools, dated, articles = asyncio.run(asyncio.wait_for(main(), 300))
    _check_tools(tools)
    assert dated.is_error and "YYYY-MM-DD" in _text(dated)
    assert articles.is_error and "model" in _text(articles).lower()
    assert "Nabaa MCP server on stdio" in (tmp_path / "stderr.log").read_text()


# Against the real app ---------------------------------------------------------------


@pytest.mark.models
def test_the_app_serves_the_three_tools(app_server):
    url, _ = app_server

    async def tools(session: ClientSession) -> list[Any]:
        return (await session.list_tools()).tools

    _check_tools(mcp_session(url, tools))


@pytest.mark.models
def test_list_articles_gives_the_seed_articles(app_server):
    url, _ = app_server
    result = mcp_call(url, "list_articles", {})
    assert not result.is_error, _text(result)
    articles = result.structured_content["articles"]
    # The suite's one app server may hold articles earlier tests uploaded; the seeds are there.
    assert {a["doc_id"] for a in articles} >= SEED_IDS
    for a in articles:
        assert set(a) == {"doc_id", "title", "passages", "indexed_at", *META_COLUMNS}
        assert a["title"] and a["passages"] > 0
    seeds = [a for a in articles if a["doc_id"] in SEED_IDS]
    assert all(a["published"] is None and a["date_from"] is None for a in seeds)  # no dateline
    assert json.loads(_text(result)) == result.structured_content


@pytest.mark.models
def test_search_articles_finds_the_gold_passage(app_server, seeds_qa):
    url, _ = app_server
    q = next(q for q in seeds_qa if q["id"] == "d02")
    result = mcp_call(url, "search_articles", {"query": q["question"], "k": 3})
    assert not result.is_error, _text(result)
    found = result.structured_content
    assert found["language"] == "ar" and found["notices"] == [] and found["filters"] is None
    assert len(found["passages"]) == 3
    assert all(set(p) == PASSAGE_KEYS for p in found["passages"])
    assert [p["rank"] for p in found["passages"]] == [1, 2, 3]
    assert any(
        f"{p['doc_id']}.txt" == q["doc"] and any(e in p["text"] for e in q["evidence"])
        for p in found["passages"]
    ), found["passages"]


@pytest.mark.models
def test_ask_answers_with_markers_and_citations(app_server, seeds_qa):
    url, _ = app_server
    q = next(q for q in seeds_qa if q["id"] == "d01")
    result = mcp_call(url, "ask", {"question": q["question"]})
    assert not result.is_error, _text(result)
    answer = result.structured_content
    assert set(answer) == {f.name for f in fields(Answer)}
    assert not answer["refused"] and answer["language"] == "en"
    assert MARKER.search(answer["answer"]) and answer["citations"]
    for c in answer["citations"]:
        assert set(c) == {f.name for f in fields(Citation)}
        assert f"[{c['n']}]" in answer["answer"]
    assert any(f"{c['doc_id']}.txt" == q["doc"] for c in answer["citations"])


@pytest.mark.models
def test_dates_filter_the_articles_and_bad_arguments_are_refused(app_server):
    url, _ = app_server

    async def calls(session: ClientSession) -> list[Any]:
        return [
            await session.call_tool("search_articles", arguments)
            for arguments in (
                {"query": "Kazakhstan", "since": "2024-01-01"},
                {"query": "Kazakhstan", "until": "2025-12-31"},
                {"query": "Kazakhstan", "since": "last week"},
                {"query": "Kazakhstan", "k": 0},
                {"query": " \u200b "},
                {"k": 3},
            )
        ]

    since, until, not_a_date, k, empty, no_query = mcp_session(url, calls)
    assert all(r.is_error for r in (not_a_date, k, empty, no_query))
    # The seeds give no publication date, so they are in no window of dates; the suite's
    # app server may hold dated articles an earlier test uploaded (the browser's).
    for windowed, key, inside in (
        (since, "since", lambda day: day >= "2024-01-01"),
        (until, "until", lambda day: day <= "2025-12-31"),
    ):
        found = windowed.structured_content
        assert not windowed.is_error and found["filters"][key] in ("2024-01-01", "2025-12-31")
        assert all(p["published"] and inside(p["published"]) for p in found["passages"])
        if not found["passages"]:
            assert any(key in notice for notice in found["notices"]), found["notices"]
    assert "YYYY-MM-DD" in _text(not_a_date)
    assert "greater than or equal to 1" in _text(k)
    assert "empty" in _text(empty)
    assert "query" in _text(no_query)


@pytest.mark.models
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_missing_or_wrong_token_is_refused(app_server, token):
    url, _ = app_server
    with pytest.raises(Exception):  # noqa: B017 - the SDK raises a group of its errors
        mcp_session(url, lambda session: session.list_tools(), token=token)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    response = httpx2.post(f"{url}/mcp", json=body, headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "invalid_api_key"
