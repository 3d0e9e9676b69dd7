"""The local LLM, through llama-cpp-python: streamed chat completions, one at a time."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

from rag.errors import ModelError

# A stretch of 4 to 80 characters said three times in a row at the end of the text.
_LOOP = re.compile(r"(.{4,80}?)(?:\s*\1){2,}\s*$", re.DOTALL)
_LOOP_WINDOW = 400


def loop_start(text: str) -> int | None:
    """Where ``text`` starts repeating itself, if it ends in a loop, else None.

    Greedy decoding by a small model sometimes falls into saying the same words over and
    over; the answer is cut after their first occurrence.
    """
    offset = max(0, len(text) - _LOOP_WINDOW)
    match = _LOOP.search(text, offset)
    if not match:
        return None
    cut = match.end(1)
    while cut < len(text) and text[cut - 1].isalnum() and text[cut].isalnum():
        cut += 1  # to the end of the word
    return cut


class LLM:
    """A GGUF model loaded once; a lock makes sure it never runs two requests at once."""

    def __init__(
        self,
        path: Path,
        n_ctx: int,
        n_threads: int,
        n_gpu_layers: int,
        n_ubatch: int,
        seed: int,
        use_mmap: bool = False,
        repeat_penalty: float = 1.0,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(
                f"llama-cpp-python is not installed ({exc}). Run scripts/setup.sh (or make run)."
            ) from exc
        try:
            self.llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_ubatch=n_ubatch,
                n_gpu_layers=n_gpu_layers,
                seed=seed,
                use_mmap=use_mmap,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"llama.cpp could not load {path}: {exc}. Check that it is a complete GGUF "
                "file (delete it to have the default model rebuilt)."
            ) from exc
        self.name = path.name
        self.repeat_penalty = repeat_penalty
        self.n_ctx = n_ctx
        self._lock = threading.Lock()
        self.cached_prefix_tokens = 0

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes in this model."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prime(self, fixed: list[dict[str, str]]) -> None:
        """Evaluate the fixed messages every prompt starts with and keep them cached.

        Two prompts that differ only after ``fixed`` show how many tokens the chat
        template makes of it; those are what later prompts reuse.
        """
        seen = []
        self.cached_prefix_tokens = self.n_ctx  # while probing, reuse whatever matches
        for probe in ("a", "b"):
            for _ in self.stream_chat([*fixed, {"role": "user", "content": probe}], 1, 0.0):
                break
            seen.append(list(self.llama.input_ids[: self.llama.n_tokens]))
        shared = 0
        for first, second in zip(*seen, strict=False):
            if first != second:
                break
            shared += 1
        self.cached_prefix_tokens = shared

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """Yield the reply to ``messages`` piece by piece.

        Only the first ``cached_prefix_tokens`` tokens of llama.cpp's cache are reused:
        reusing whatever the last prompt shared would change how the rest is batched,
        and so, slightly, the numbers, making the same question answer differently
        depending on the one before it.
        """
        with self._lock:
            self.llama.n_tokens = min(self.llama.n_tokens, self.cached_prefix_tokens)
            stream = self.llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                stream=True,
            )
            for chunk in stream:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
