"""What the web UI, the HTTP API and the MCP server share in one process: the Pipeline,
its warm-up, and the turns requests take to use it.

Every request that uses the models (an answer, an index update) takes a turn through
``Turns``: one at a time with the in-process LLM, as many as the LLM server has slots
with ``NABAA_LLM_URL``; the others wait in order of arrival, within a limit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rag.config import Settings
from rag.errors import NabaaError
from rag.pipeline import Pipeline

log = logging.getLogger("nabaa.service")


@dataclass
class _Failed:
    error: BaseException


_END = object()
# How often a waiting request checks whether its client is still there.
_POLL_S = 0.2


class Busy(NabaaError):
    """No turn could be given: the queue is full (429) or the wait ran out (503)."""

    def __init__(self, message: str, status: int, retry_after_s: int) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class ClientLeft(Exception):
    """The client left while its request waited for a turn (which it no longer wants)."""


class Turns:
    """Up to ``slots`` requests at a time; the others wait in order of arrival.

    First come, first served: a request is given a turn only when every earlier one has
    had its own, so none waits forever behind later ones. At most ``max_waiting`` wait;
    the next is refused at once (``Busy``, 429), and one that waits ``wait_s`` without a
    turn gives up (``Busy``, 503). ``exclusive`` turns (an index update) take every slot.

    A streamed request runs in a worker thread of its own, which holds its turn from the
    first event to the last, and gives it back as soon as its client goes away, even
    while it is still waiting.
    """

    def __init__(self, slots: int = 1, max_waiting: int = 32, wait_s: float = 120.0) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots, self.max_waiting, self.wait_s = slots, max_waiting, wait_s
        self._free = slots
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    def load(self) -> dict[str, int]:
        """Slots, the ones in use, and how many requests wait (for /healthz)."""
        with self._changed:
            busy, waiting = self.slots - self._free, len(self._queue)
        return {"slots": self.slots, "busy": busy, "waiting": waiting}

    def _acquire(self, need: int, left: threading.Event | None) -> None:
        with self._changed:
            if not self._queue and self._free >= need:
                self._free -= need
                return
            if len(self._queue) >= self.max_waiting:
                raise Busy(
                    f"Too many questions at once: {len(self._queue)} are already waiting for "
                    "an answer. Try again in a moment.",
                    429,
                    retry_after_s=max(1, round(self.wait_s / 10)),
                )
            me = object()
            self._queue.append(me)
            deadline = time.monotonic() + self.wait_s
            try:
                while not (self._queue[0] is me and self._free >= need):
                    if left is not None and left.is_set():
                        raise ClientLeft
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Busy(
                            f"No answer could start within {self.wait_s:g} s: every slot stayed "
                            "busy. Try again in a moment.",
                            503,
                            retry_after_s=max(1, round(self.wait_s / 4)),
                        )
                    self._changed.wait(min(remaining, _POLL_S))
                self._free -= need
            finally:
                self._queue.remove(me)
                self._changed.notify_all()

    def _release(self, count: int) -> None:
        with self._changed:
            self._free += count
            self._changed.notify_all()

    @contextmanager
    def turn(self, exclusive: bool = False, left: threading.Event | None = None) -> Iterator[None]:
        """Hold a turn (every slot if ``exclusive``) for a piece of blocking work."""
        need = self.slots if exclusive else 1
        self._acquire(need, left)
        try:
            yield
        finally:
            self._release(need)

    def _work(
        self,
        make: Callable[[], Iterator[Any]],
        put: Callable[[Any], None],
        stopped: threading.Event,
    ) -> None:
        try:
            with self.turn(left=stopped):
                if stopped.is_set():
                    return
                events = make()
                try:
                    for event in events:
                        if stopped.is_set():
                            break
                        put(event)
                finally:
                    close = getattr(events, "close", None)
                    if close:
                        close()
        except ClientLeft:
            pass
        except BaseException as exc:  # handed over to the consumer, which raises it
            put(_Failed(exc))
        finally:
            put(_END)

    def _start(
        self,
        make: Callable[[], Iterator[Any]],
        put: Callable[[Any], None],
        stopped: threading.Event,
    ) -> None:
        threading.Thread(
            target=self._work, args=(make, put, stopped), daemon=True, name="answer"
        ).start()

    def stream(self, make: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """The events of ``make()``, produced in its turn (for blocking callers)."""
        events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        stopped = threading.Event()
        self._start(make, events.put, stopped)
        try:
            while (event := events.get()) is not _END:
                if isinstance(event, _Failed):
                    raise event.error
                yield event
        finally:
            stopped.set()

    async def astream(
        self, make: Callable[[], Iterator[Any]], left: threading.Event | None = None
    ) -> AsyncGenerator[Any, None]:
        """The events of ``make()``, produced in its turn (for an event loop). Setting
        ``left`` (the client went away) stops them, or gives up the wait for a turn."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        stopped = left or threading.Event()

        def put(event: Any) -> None:
            try:
                loop.call_soon_threadsafe(events.put_nowait, event)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                stopped.set()

        self._start(make, put, stopped)
        try:
            while (event := await events.get()) is not _END:
                if isinstance(event, _Failed):
                    raise event.error
                yield event
        finally:
            stopped.set()


class Service:
    """The one Pipeline of a server process, warmed up in the background."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pipeline = Pipeline(settings)
        self.turns = Turns(settings.answer_slots, settings.queue_limit, settings.queue_wait_s)
        self.status = "Starting…"
        self.error: str | None = None
        self.ready = threading.Event()
        threading.Thread(target=self._warm_up, daemon=True, name="warm-up").start()

    def _warm_up(self) -> None:
        try:
            self.pipeline.warm_up(on_status=self._set_status)
        except NabaaError as exc:
            self.error = str(exc)
            self._set_status(f"Error: {exc}")
        except Exception as exc:
            log.exception("warm-up failed")
            self.error = f"{type(exc).__name__}: {exc}"
            self._set_status(f"Error: {self.error}")
        finally:
            self.ready.set()

    def _set_status(self, message: str) -> None:
        self.status = message

    @property
    def usable(self) -> bool:
        """Warmed up without an error: models and index are loaded."""
        return self.ready.is_set() and not self.error

    def wait_ready(self) -> None:
        """Wait for the warm-up; NabaaError if it failed."""
        self.ready.wait()
        if self.error:
            raise NabaaError(self.error)

    def model_names(self) -> dict[str, str]:
        """The models in use, once loaded (empty before)."""
        return self.pipeline.model_names if self.usable else {}
