"""What the web UI and the HTTP API share in one process: the Pipeline, its warm-up, and
the rule that it answers one request at a time.

Every request that uses the models (an answer, an index update) takes its turn through
``OneAtATime``; the others wait. Limits on how many may wait, and fairness between
them, belong in ``OneAtATime`` too, so both shells get them at once.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
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


class OneAtATime:
    """Runs requests one at a time; the others wait for their turn.

    A streamed request runs in a worker thread of its own, which holds the turn from the
    first event to the last, so the turn is released even when its client goes away.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for a piece of blocking work."""
        with self._lock:
            yield

    def _work(
        self,
        make: Callable[[], Iterator[Any]],
        put: Callable[[Any], None],
        stopped: threading.Event,
    ) -> None:
        try:
            with self._lock:
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

    async def astream(self, make: Callable[[], Iterator[Any]]) -> AsyncGenerator[Any, None]:
        """The events of ``make()``, produced in its turn (for an event loop)."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        stopped = threading.Event()

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
        self.turns = OneAtATime()
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
