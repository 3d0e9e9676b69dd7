"""The local LLM, through llama-cpp-python: streamed chat completions, one at a time."""

from __future__ import annotations

import codecs
import ctypes
import re
import threading
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np

from rag.answer.extractive import CONNECTORS, LEADS, MAX_TOKEN_BYTES, SpanConstraint, Vocabulary
from rag.answer.prompts import REFUSAL_MARKER
from rag.errors import ModelError
from rag.models import cpu_profile
from rag.models.chat_template import PromptEncoder

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

    # It can constrain decoding to copies of the passages (``stream_extract``).
    copies = True

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
        remedy: str = "",
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelError(
                f"llama-cpp-python is not installed ({exc}). Run scripts/setup.sh (or make run)."
            ) from exc
        if problem := cpu_profile.llama_build_problem():
            raise ModelError(problem)
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
                f"file. {remedy}".strip()
            ) from exc
        self.name = path.name
        self.repeat_penalty = repeat_penalty
        self.n_ctx = n_ctx
        self.prompts = PromptEncoder(self.llama)
        self._lock = threading.Lock()
        self.cached_prefix_tokens = 0

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes in a message to this model."""
        return len(self.prompts.text_tokens(text))

    def prime(self, fixed: list[dict[str, str]]) -> None:
        """Evaluate the fixed messages every prompt starts with and keep them cached.

        Two prompts that differ only after ``fixed`` show how many tokens the chat
        template makes of it; those are what later prompts reuse.
        """
        first, second = (
            self.prompts.encode([*fixed, {"role": "user", "content": probe}])
            for probe in ("a", "b")
        )
        shared = 0
        for a, b in zip(first, second, strict=False):
            if a != b:
                break
            shared += 1
        self.cached_prefix_tokens = shared
        for _ in self._stream(first, 1, 0.0):
            break

    def stream_chat(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """Yield the reply to ``messages`` piece by piece."""
        return self._stream(self.prompts.encode(messages), max_tokens, temperature)

    def stream_follow_up(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """Like ``stream_chat``, for messages that continue the ones just answered: all
        of the cache they share is reused, not only the fixed prefix."""
        return self._stream(self.prompts.encode(messages), max_tokens, temperature, True)

    def _stream(
        self, prompt: list[int], max_tokens: int, temperature: float, follow_up: bool = False
    ) -> Iterator[str]:
        """Only the first ``cached_prefix_tokens`` tokens of llama.cpp's cache are reused:
        reusing whatever the last prompt shared would change how the rest is batched,
        and so, slightly, the numbers, making the same question answer differently
        depending on the one before it. A follow-up always comes after the same prompt,
        so it may reuse all of it.
        """
        with self._lock:
            if not follow_up:
                self.llama.n_tokens = min(self.llama.n_tokens, self.cached_prefix_tokens)
            stream = self.llama.create_completion(
                prompt=prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                repeat_penalty=self.repeat_penalty,
                stop=[self.prompts.eos_text] if self.prompts.eos_text else [],
                stream=True,
            )
            for chunk in stream:
                piece = chunk["choices"][0]["text"]
                if piece:
                    yield piece

    # Extractive answers -------------------------------------------------------

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary as bytes, for decoding that copies (built once, ~1 s)."""
        import llama_cpp

        vocab = self.llama._model.vocab
        buffer = ctypes.create_string_buffer(64)
        token_of: dict[bytes, int] = {}
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab)):
            if token in self.prompts.special:
                continue
            size = llama_cpp.llama_token_to_piece(vocab, token, buffer, 64, 0, False)
            if 0 < size <= MAX_TOKEN_BYTES:
                token_of.setdefault(buffer.raw[:size], token)
        ends = {t for t in self.prompts.special if llama_cpp.llama_vocab_is_eog(vocab, t)}
        ends |= {token_of[p.encode()] for p in (".", " .", "۔") if p.encode() in token_of}
        opening = (b"[", "【".encode())
        markers = {t for b, t in token_of.items() if b.lstrip(b" ").startswith(opening)}
        connectors = {token_of[c.encode()] for c in CONNECTORS if c.encode() in token_of}
        return Vocabulary(
            token_of=token_of,
            end_ids=frozenset(ends),
            marker_ids=frozenset(markers),
            connector_ids=frozenset(connectors),
            refusal_id=self.prompts.text_tokens(REFUSAL_MARKER)[0],
            lead_ids=frozenset(token_of[w.encode()] for w in LEADS if w.encode() in token_of),
        )

    def _evaluate(self, prompt: list[int]) -> None:
        """Evaluate ``prompt``, reusing the cached fixed prefix it starts with."""
        keep = min(self.llama.n_tokens, self.cached_prefix_tokens, len(prompt) - 1)
        cached = self.llama.input_ids
        shared = next((i for i in range(keep) if cached[i] != prompt[i]), keep)
        self.llama.n_tokens = shared
        self.llama.eval(prompt[shared:])

    def _next_logits(self) -> np.ndarray:
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llama.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.llama.n_vocab(),))

    def stream_extract(
        self, messages: list[dict[str, str]], passages: list[str], max_tokens: int
    ) -> Iterator[str | SpanConstraint]:
        """Yield the answer to ``messages`` as it is copied from ``passages``, then the
        finished constraint, which holds the copied segments and their passages.

        Greedy: at each step the model's best token among those that keep the answer a
        copy. Each segment's citation marker is written by the constraint.
        """
        with self._lock:
            self._evaluate(self.prompts.encode(messages))
            constraint = SpanConstraint(passages, self.vocabulary)
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            for _ in range(max_tokens):
                moves = constraint.allowed()
                if not moves:
                    break
                ids = np.fromiter(moves, dtype=np.int64, count=len(moves))
                scores = self._next_logits()[ids]
                best = int(np.argmax(scores))
                token = int(ids[best])
                if constraint.refusal_logprob is None and constraint.vocab.refusal_id in moves:
                    refusal = int(np.flatnonzero(ids == constraint.vocab.refusal_id)[0])
                    top = scores.max()
                    total = top + np.log(np.exp(scores - top).sum())
                    constraint.refusal_logprob = float(scores[refusal] - total)
                step = constraint.advance(token, moves)
                if step in ("end", "refuse"):
                    break
                if step == "cite":
                    marker = f" [{constraint.segments[-1].passage + 1}]"
                    self.llama.eval(self.prompts.text_tokens(marker))
                    yield marker
                    continue
                self.llama.eval([token])
                piece = decoder.decode(self.vocabulary.bytes_of[token])
                if piece:
                    yield piece
            constraint.finish()
            yield constraint
