"""An MCP server over the one Pipeline, for agents: the tools ``search_articles``, ``ask``
and ``list_articles``.

A thin shell like the CLI, the web UI and the OpenAI API: ``search_articles`` gives what
``retrieve --json`` prints, ``ask`` what ``ask --json`` prints, ``list_articles`` what
``articles`` lists. Two transports:

- streamable HTTP at ``/mcp``, in the process and on the port of the web app and the
  OpenAI API (``mount``), sharing their Service, its turns and the API's access rule;
- stdio, ``python -m rag mcp`` (``run_stdio``), with a Service of its own. While it
  serves, the SDK points file descriptor 1 at stderr and keeps the protocol on a copy
  of it, so nothing else (logs, progress, llama.cpp) can reach the wire.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Request
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.answer.questions import MAX_TOP_K
from rag.apps.api import APIError, authorizer, error_response
from rag.apps.service import Service
from rag.config import Settings
from rag.errors import NabaaError
from rag.store.window import explicit_window

PATH = "/mcp"

INSTRUCTIONS = (
    "Nabaa answers questions about a fixed collection of news articles, most of them in "
    "Arabic, offline. Ask in English or Arabic. Use `ask` for a cited answer, "
    "`search_articles` for the passages themselves, `list_articles` for what is there. "
    "Answers rest only on the articles: a question they do not answer is refused."
)

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def create_server(service: Callable[[], Service], lifespan: Any = None) -> MCPServer:
    """The MCP server; ``service()`` gives the Service whose Pipeline answers."""
    server = MCPServer(
        "nabaa",
        title="Nabaa · نبأ",
        instructions=INSTRUCTIONS,
        log_level="WARNING",
        lifespan=lifespan,
    )

    def tool(title: str) -> Callable[[Callable[..., Any]], Any]:
        def register(fn: Callable[..., Any]) -> Any:
            description = inspect.cleandoc(fn.__doc__ or "")
            server.add_tool(fn, title=title, description=description, annotations=READ_ONLY)
            return fn

        return register

    def ready() -> Service:
        try:
            service().wait_ready()
        except NabaaError as exc:
            raise ToolError(str(exc)) from None
        return service()

    @tool("Search the articles")
    def search_articles(
        query: Annotated[
            str,
            Field(description="What to look for: a question or keywords, in English or Arabic."),
        ],
        k: Annotated[
            int, Field(ge=1, le=MAX_TOP_K, description="How many passages to return.")
        ] = 5,
        since: Annotated[
            str | None,
            Field(
                description="Only articles published on or after this date (YYYY-MM-DD); "
                "articles without a known date are then left out."
            ),
        ] = None,
        until: Annotated[
            str | None,
            Field(description="Only articles published on or before this date (YYYY-MM-DD)."),
        ] = None,
    ) -> dict[str, Any]:
        """The passages of the articles that best match a query, best first, without
        writing an answer (fast: no language model).

        Returns {question, language, filters, passages: [{rank, doc_id, title,
        passage_id, text, start, end, score, published, source, url}], notices}: `score`
        is the cosine similarity to the query (`ask` does not answer from passages below
        0.232, by default), `start`/`end` the passage's character offsets in its article,
        `published` its article's publication date (null when unknown), `filters` the
        dates and source searched (also read from time words in the query, such as "in
        March 2023"), `notices` anything said about the query. The passages are mostly
        Arabic."""
        try:
            explicit_window(since, until, None)  # a date that is not one is said at once
        except NabaaError as exc:
            raise ToolError(str(exc)) from None
        shared = ready()
        try:
            with shared.turns.turn():
                result = shared.pipeline.retrieve(query, k, since=since, until=until)
        except NabaaError as exc:
            raise ToolError(str(exc)) from None
        return {**result.to_json(), "notices": result.notices}

    @tool("Ask the articles")
    def ask(
        question: Annotated[
            str, Field(description="One self-contained question, in English or Arabic.")
        ],
    ) -> dict[str, Any]:
        """Answer a question from the articles, citing the passages it rests on. The
        answer is in the question's language; it takes a few seconds to a minute, one
        question at a time.

        Returns {question, language, answer, refused, citations, timings, model,
        notices, filters, checks}. `answer` carries [n] markers; each citation has n,
        doc_id, title, passage_id, the passage `text`, its offsets, its score, the
        supporting sentence (sentence_start/sentence_end), `quote` (the words the answer
        copied) and its article's `published` date, `source` and `url`. Time words in the
        question ("last week", "في آذار 2023") limit the articles to those published then.
        When the articles do not answer the question, `refused` is true, `answer` says
        so and there are no citations: the articles do not say, and an answer from
        elsewhere is not Nabaa's."""
        shared = ready()
        try:
            with shared.turns.turn():
                return shared.pipeline.ask(question).to_json()
        except NabaaError as exc:
            raise ToolError(str(exc)) from None

    @tool("List the articles")
    def list_articles() -> dict[str, Any]:
        """The articles Nabaa answers from, newest first. Returns {articles: [{doc_id,
        title, passages, indexed_at, published, source, url, author, language,
        date_from}]}: `passages` is how many passages the article was cut into,
        `indexed_at` when it was indexed, `published` when it was published (null when
        unknown; `date_from` says whether the file's metadata or a dateline gave it)."""
        return {"articles": ready().pipeline.articles()}

    return server


class _Guarded:
    """An ASGI app behind the OpenAI API's access rule (token, or off)."""

    def __init__(self, app: ASGIApp, authorize: Callable[[Request], None]) -> None:
        self.app, self.authorize = app, authorize

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            self.authorize(Request(scope))
        except APIError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mount(app: FastAPI, service: Service) -> FastAPI:
    """Serve MCP over streamable HTTP at ``/mcp`` of ``app``, before the web UI is mounted
    on every other path; its session manager runs in ``app``'s lifespan."""
    settings = service.settings
    server = create_server(lambda: service)
    # Stateless: each request stands alone, so there are no sessions to keep or expire.
    # ``host`` turns on the SDK's DNS-rebinding check (Host and Origin) on a loopback host.
    endpoint = server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, host=settings.host
    )
    app.router.routes.append(Route(PATH, _Guarded(endpoint, authorizer(settings))))
    before = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(outer: Any) -> AsyncIterator[Any]:
        async with before(outer) as state, server.session_manager.run():
            yield state

    app.router.lifespan_context = lifespan
    return app


def run_stdio(settings: Settings) -> None:
    """Serve MCP over stdin and stdout until stdin closes. The Service, and so the model
    loading, starts once the SDK has moved stray output off stdout."""
    services: list[Service] = []

    @asynccontextmanager
    async def start(_server: Any) -> AsyncIterator[None]:
        services.append(Service(settings))
        yield

    create_server(lambda: services[0], lifespan=start).run("stdio")
