"""An OpenAI-compatible HTTP API over the one Pipeline: ``/v1/chat/completions``,
``/v1/models`` and ``/healthz``.

A thin shell like the CLI and the web UI: the last user message is the question, the
earlier user/assistant pairs are the conversation, and the answer is the pipeline's,
``[n]`` markers included. What ``ask --json`` prints (citations, refusal, language,
timings…) travels in the extra ``nabaa`` field of the completion, or of the last chunk
of a stream.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from itertools import pairwise
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from rag.answer.prompts import Turn
from rag.answer.questions import prepare_question
from rag.apps.service import Busy, Service
from rag.config import Settings
from rag.errors import NabaaError
from rag.pipeline import Answer

log = logging.getLogger("nabaa.api")

MODEL_ID = "nabaa"
# Any one message may be this many times the question limit; longer ones are refused.
# (A question between the two limits is cut, with a notice, as in the CLI and web UI.)
MESSAGE_LIMIT_FACTOR = 10
# How often a plain (not streamed) request checks that its client is still there.
_WATCH_S = 0.5


class APIError(Exception):
    """An error answered in OpenAI's shape: ``{"error": {message, type, param, code}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = (
            status,
            message,
            type_,
            code,
            param,
        )
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The error object, as sent in a response or a stream."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class ChatMessage(BaseModel):
    """One message; content is text or a list of parts (only text parts are read)."""

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of a chat completion request that Nabaa reads; others are ignored."""

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)


# Requests -------------------------------------------------------------------


def message_text(content: str | list[dict[str, Any]] | None) -> str:
    """The text of a message's content (text parts joined; images and such left out)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(
        str(part.get("text", "")) for part in content if part.get("type", "text") == "text"
    )


def question_and_history(messages: Sequence[ChatMessage], max_chars: int) -> tuple[str, list[Turn]]:
    """The question (the last message, from the user) and the earlier user/assistant
    pairs as the conversation.

    System, developer and tool messages are left out: Nabaa answers by its own rules. A
    user message that no assistant message follows is left out of the conversation.
    """
    talk = [(m.role, message_text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not talk or talk[-1][0] != "user":
        raise APIError(
            400,
            'The last message must be the question, with role "user".',
            code="no_question",
            param="messages",
        )
    for _, text in talk:
        if len(text) > max_chars:
            raise APIError(
                400,
                f"A message is {len(text):,} characters long; at most {max_chars:,} are accepted.",
                code="message_too_long",
                param="messages",
            )
    history = [
        Turn(question=text, answer=reply)
        for (role, text), (next_role, reply) in pairwise(talk)
        if role == "user" and next_role == "assistant"
    ]
    return talk[-1][1], history


def answer_options(request: ChatRequest, settings: Settings) -> dict[str, Any]:
    """The pipeline's options from the request: temperature, and the answer length (at
    most a quarter of the context window, which must also hold the passages)."""
    max_tokens = request.max_completion_tokens or request.max_tokens
    if max_tokens is not None:
        max_tokens = min(max_tokens, settings.n_ctx // 4)
    return {"temperature": request.temperature, "max_tokens": max_tokens}


def _validation_message(exc: ValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    param = ".".join(str(part) for part in first["loc"]) or None
    where = f"{param}: " if param else ""
    return f"Invalid request: {where}{first['msg']}.", param


# Responses ------------------------------------------------------------------


def completion(answer: Answer, completion_id: str, created: int) -> dict[str, Any]:
    """The ``chat.completion`` object of a finished answer."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.answer},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "nabaa": answer.to_json(),
    }


def chunk(
    completion_id: str,
    created: int,
    delta: dict[str, str],
    finish_reason: str | None = None,
    answer: Answer | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; the last carries the finished answer as ``nabaa``."""
    data: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
    if answer is not None:
        data["nabaa"] = answer.to_json()
    return data


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def closing_text(streamed: str, final: str) -> str:
    """What the stream must add so that it shows the answer as filed.

    The stream is what the model wrote; the filed answer can differ (an English answer
    written from the Arabic quote that was streamed, an answer the checks refused). The
    rest of the answer when it continues the stream, else the whole answer after a blank
    line, as the CLI prints it after the stream; nothing when they differ only in spaces.
    """
    if final.startswith(streamed):
        return final[len(streamed) :]
    if "".join(streamed.split()) == "".join(final.split()):
        return ""
    return f"\n\n{final}"


# Access ---------------------------------------------------------------------


def _token(settings: Settings) -> str:
    return settings.api_token.get_secret_value() if settings.api_token else ""


def is_loopback(host: str) -> bool:
    """Whether ``host`` can be reached from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_off_reason(settings: Settings) -> str | None:
    """Why the API is not served, or None when it is.

    Without NABAA_API_TOKEN it is served only where the web UI is open to this machine
    alone: on a loopback host, with no login set.
    """
    if _token(settings):
        return None
    if not is_loopback(settings.host):
        return f"NABAA_HOST={settings.host} is reachable from other machines"
    if settings.auth_user and settings.auth_password:
        return "the web app has a login"
    return None


def api_access(settings: Settings) -> str:
    """``token``, ``open`` (loopback, no token) or ``off``."""
    if _token(settings):
        return "token"
    return "off" if api_off_reason(settings) else "open"


def authorizer(settings: Settings) -> Callable[[Request], None]:
    """The access rule of the API (and of the MCP endpoint beside it): a function that
    raises APIError (403 while the API is off, 401 without the right bearer token)."""
    token = _token(settings).encode()
    off = api_off_reason(settings)

    def authorize(request: Request) -> None:
        if off:
            raise APIError(
                403,
                f"The API is off: {off}. Set NABAA_API_TOKEN to serve it.",
                "permission_error",
                "api_off",
            )
        if not token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
            raise APIError(
                401,
                "Missing or wrong API key: send the header 'Authorization: Bearer <token>' "
                "with the token of NABAA_API_TOKEN.",
                code="invalid_api_key",
            )

    return authorize


def error_response(exc: APIError) -> JSONResponse:
    """The response of an APIError; a 401 says which scheme to use."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else exc.headers
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


# The app ----------------------------------------------------------------------


def _answer(
    service: Service, question: str, history: list[Turn], options: dict[str, Any]
) -> Iterator[str | Answer]:
    service.wait_ready()
    yield from service.pipeline.ask_stream(question, history, **options)


def _server_error(exc: Exception) -> APIError:
    if isinstance(exc, Busy):
        code = "queue_full" if exc.status == 429 else "queue_timeout"
        headers = {"Retry-After": str(exc.retry_after_s)}
        return APIError(exc.status, str(exc), "server_error", code, headers=headers)
    if isinstance(exc, NabaaError):
        return APIError(503, str(exc), "server_error", "unavailable")
    log.error("answering failed", exc_info=exc)
    return APIError(500, f"Something went wrong: {type(exc).__name__}.", "server_error")


async def _read_request(request: Request, settings: Settings) -> ChatRequest:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise APIError(400, "The body must be JSON, sent as Content-Type: application/json.")
    try:
        data = json.loads(await request.body())
    except ValueError as exc:
        raise APIError(400, f"The body is not valid JSON: {exc}.") from None
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        message, param = _validation_message(exc)
        raise APIError(400, message, param=param) from None


def create_api(service: Service) -> FastAPI:
    """The API app; the web UI is mounted on it afterwards (see ``rag.apps.server``)."""
    settings = service.settings
    started = int(time.time())
    app = FastAPI(title="Nabaa", docs_url=None, redoc_url=None, openapi_url=None)
    authorize = authorizer(settings)

    @app.exception_handler(APIError)
    async def api_error(_request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Up (``ok``), whether models and index are loaded (``ready``), and the load
        (answer slots, how many are busy, how many requests wait); no token."""
        body = {
            "ok": service.error is None,
            "ready": service.usable,
            "status": service.status,
            "api": api_access(settings),
            "load": service.turns.load(),
        }
        return JSONResponse(body, status_code=200 if service.error is None else 503)

    @app.get("/v1/models", dependencies=[Depends(authorize)])
    async def models() -> dict[str, Any]:
        """The one model, and what it wraps once loaded."""
        wraps = {"ready": service.usable, **service.model_names()}
        model = {"id": MODEL_ID, "object": "model", "created": started, "owned_by": "nabaa"}
        return {"object": "list", "data": [{**model, "nabaa": wraps}]}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)])
    async def chat_completions(request: Request) -> Any:
        """An answer, whole or streamed as server-sent events ending in ``[DONE]``."""
        body = await _read_request(request, settings)
        question, history = question_and_history(
            body.messages, MESSAGE_LIMIT_FACTOR * settings.max_question_chars
        )
        try:
            prepare_question(question, settings.max_question_chars)
        except NabaaError as exc:
            raise APIError(400, str(exc), code="invalid_question", param="messages") from None
        options = answer_options(body, settings)
        left = threading.Event()
        watch = asyncio.create_task(_watch_client(request, left))
        events = service.turns.astream(lambda: _answer(service, question, history, options), left)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        try:
            first = await anext(events)  # so that a failure before the answer has a status
        except Exception as exc:
            watch.cancel()
            await events.aclose()
            raise _server_error(exc) from None
        if body.stream:
            # From here the stream's own end (or the server noticing the client left)
            # closes the events.
            watch.cancel()
            stream = _stream(events, first, completion_id, created)
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
        try:
            event = first
            while not isinstance(event, Answer):
                event = await anext(events)
            await _until_turn_ends(events)
        except Exception as exc:
            raise _server_error(exc) from None
        finally:
            watch.cancel()
            await events.aclose()
        return completion(event, completion_id, created)

    return app


async def _watch_client(request: Request, left: threading.Event) -> None:
    """Set ``left`` when the client disconnects, so that its turn (or its place in the
    queue) is given up; a plain request is not cancelled by the server when that happens."""
    while not left.is_set():
        if await request.is_disconnected():
            left.set()
            return
        await asyncio.sleep(_WATCH_S)


async def _until_turn_ends(events: AsyncGenerator[str | Answer, None]) -> None:
    """Wait, after the answer, for its turn to be given back, so that a client told the
    answer is done finds its slot free."""
    async for _ in events:
        pass


async def _stream(
    events: AsyncGenerator[str | Answer, None],
    first: str | Answer,
    completion_id: str,
    created: int,
) -> AsyncIterator[str]:
    """The chunks of a streamed answer: the role, each piece, then the finished answer."""
    yield sse(chunk(completion_id, created, {"role": "assistant", "content": ""}))
    streamed, event = "", first
    try:
        while not isinstance(event, Answer):
            streamed += event
            yield sse(chunk(completion_id, created, {"content": event}))
            event = await anext(events)
        await _until_turn_ends(events)
    except Exception as exc:
        yield sse(_server_error(exc).body())
        yield sse("[DONE]")
        return
    finally:
        await events.aclose()
    rest = closing_text(streamed, event.answer)
    delta = {"content": rest} if rest else {}
    yield sse(chunk(completion_id, created, delta, "stop", event))
    yield sse("[DONE]")
