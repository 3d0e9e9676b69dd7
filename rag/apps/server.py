"""One process, one port, one Pipeline: the web UI at ``/``, the OpenAI-compatible API
at ``/v1`` and the MCP server at ``/mcp``. ``python app.py`` and ``python -m rag serve``
both start it."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn

from rag.apps import mcp_server
from rag.apps.api import api_access, api_off_reason, create_api
from rag.apps.service import Service
from rag.apps.webui import WebApp
from rag.config import Settings


class _Server(uvicorn.Server):
    """uvicorn's server; when it stops, Gradio's session streams end first, so open pages
    and clients do not hold the shutdown for its grace period."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.on_shutdown()
        await super().shutdown(sockets)


def endpoints(settings: Settings, url: str) -> list[str]:
    """Where the API and MCP are served at ``url``, or why they are off."""
    if reason := api_off_reason(settings):
        return [f"OpenAI API and MCP off: {reason}; set NABAA_API_TOKEN to serve them."]
    token = " (token required)" if api_access(settings) == "token" else ""
    return [f"OpenAI API: {url}/v1{token}", f"MCP (streamable HTTP): {url}{mcp_server.PATH}{token}"]


def serve(settings: Settings) -> None:
    """Serve the web UI, the API and MCP on the configured host and port until stopped:
    the API's and MCP's routes first, then the Gradio app on every other path, sharing
    one Service."""
    url = f"http://{settings.host}:{settings.port}"
    print(f"Nabaa: open {url} (models load in the background)")
    print("\n".join(endpoints(settings, url)))
    service = Service(settings)
    web = WebApp(settings, service)
    app = web.mount(mcp_server.mount(create_api(service), service))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    _Server(config, web.end_streams).run()
