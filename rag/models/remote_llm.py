"""An LLM behind an OpenAI-compatible server (``NABAA_LLM_URL``): llama.cpp's llama-server,
vLLM and the like. Answers stream from ``/v1/chat/completions``; the server batches the
requests of all its slots.

What it cannot do: constrain decoding to copies of the passages, which needs the
model's logits at every step. Its answers are written freely and checked for support
(the "generative" mode); ``copies`` says so to the pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from rag.errors import ModelError

# Bytes per token when the server cannot count them (no /tokenize): Arabic takes about
# 2.5 bytes per token with Qwen's vocabulary, English about 4; the lower one overcounts.
_BYTES_PER_TOKEN = 2.5


class RemoteLLM:
    """Chat completions from a server at ``url`` (with or without a trailing ``/v1``)."""

    copies = False

    def __init__(self, url: str, n_ctx: int, timeout_s: float, api_key: str = "") -> None:
        self.url = url.rstrip("/").removesuffix("/v1")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
        )
        models = self._get("/v1/models").get("data") or [{}]
        self.model = str(models[0].get("id", ""))
        self.name = f"{self.model or 'model'} at {self.url}"
        slot_ctx = self._server_context()
        self.n_ctx = min(n_ctx, slot_ctx) if slot_ctx else n_ctx
        self._counts_tokens = True

    def _fail(self, what: str, exc: Exception) -> ModelError:
        return ModelError(
            f"The LLM server at {self.url} {what}: {exc}. Start it (make serve-llm) or "
            "unset NABAA_LLM_URL to use the in-process model."
        )

    def _get(self, path: str) -> dict[str, Any]:
        try:
            response = self._http.get(path)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError as exc:
            raise self._fail("cannot be reached", exc) from exc
        except ValueError as exc:
            raise self._fail("did not answer in JSON", exc) from exc

    def _server_context(self) -> int | None:
        """Tokens one slot holds, where the server says (llama-server's /props)."""
        try:
            props = self._http.get("/props").json()
            return int(props["default_generation_settings"]["n_ctx"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes, counted by the server (estimated if it cannot)."""
        if self._counts_tokens:
            try:
                response = self._http.post("/tokenize", json={"content": text})
                response.raise_for_status()
                return len(response.json()["tokens"])
            except (httpx.HTTPError, ValueError, KeyError):
                self._counts_tokens = False
        return int(len(text.encode()) / _BYTES_PER_TOKEN) + 1

    def prime(self, fixed: list[dict[str, str]]) -> None:
        """Nothing to do: the server keeps each slot's prompt cache itself."""

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """Yield the reply to ``messages`` piece by piece. Closing the iterator closes the
        connection, which frees the server's slot."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        try:
            with self._http.stream("POST", "/v1/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._fail(
                        f"refused the request (HTTP {response.status_code})",
                        ValueError(response.text[:300]),
                    )
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    event = json.loads(data)
                    if "error" in event:
                        raise self._fail("failed", ValueError(event["error"]))
                    for choice in event.get("choices", []):
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        except httpx.HTTPError as exc:
            raise self._fail("stopped answering", exc) from exc

    # A follow-up reuses the slot's cache on the server's side as any prompt does.
    stream_follow_up = stream_chat
