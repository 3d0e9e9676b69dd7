"""``bench --load``: concurrent users asking the seeds questions through the
OpenAI-compatible API of a Nabaa server started here on loopback, once with the
in-process LLM and once with llama.cpp's server, in one run.

Each user asks its questions one after another, streamed, as a chat client would; the
users ask at the same time. Counted per answer: time to the first piece of text and to
the end; per run: answers, errors, lost answers (a stream that ended without Nabaa's
final chunk) and throughput.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from rag.config import PROJECT_ROOT, Settings
from rag.errors import NabaaError
from rag.models.llm_server import LlamaServer

TOKEN = "nabaa-load-test"
# Asked once before the measured runs (models loaded, caches warm); not one of the
# questions measured, so that no server starts them with its prompt cache full.
WARM_UP = "What do the articles say about the weather?"
# One answer may take this long before it counts as an error.
ANSWER_TIMEOUT_S = 600.0


@dataclass
class Asked:
    """One answer as a user saw it."""

    first_token_s: float | None = None
    total_s: float | None = None
    error: str | None = None


async def _ask(client: httpx.AsyncClient, question: str) -> Asked:
    body = {"model": "nabaa", "stream": True, "messages": [{"role": "user", "content": question}]}
    asked, started, finished = Asked(), time.perf_counter(), False
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                asked.error = f"HTTP {response.status_code}: {response.text[:200]}"
                return asked
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                event = json.loads(line[5:])
                if "error" in event:
                    asked.error = str(event["error"].get("message"))
                    return asked
                delta = event["choices"][0]["delta"].get("content")
                if delta and asked.first_token_s is None:
                    asked.first_token_s = time.perf_counter() - started
                finished = finished or "nabaa" in event
    except httpx.HTTPError as exc:
        asked.error = f"{type(exc).__name__}: {exc}"
        return asked
    asked.total_s = time.perf_counter() - started
    if not finished:
        asked.error = "lost: the stream ended without the answer's final chunk"
    return asked


def ask_concurrently(
    url: str, token: str, questions: Sequence[str], users: int, per_user: int
) -> tuple[list[Asked], float]:
    """``users`` users asking ``per_user`` questions each at once; the answers and the
    wall time. User ``u`` asks questions ``u * per_user`` onwards, round the list."""

    async def user(client: httpx.AsyncClient, u: int) -> list[Asked]:
        return [
            await _ask(client, questions[(u * per_user + i) % len(questions)])
            for i in range(per_user)
        ]

    async def everyone() -> list[Asked]:
        limits = httpx.Limits(max_connections=users + 1)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=url, headers=headers, limits=limits, timeout=ANSWER_TIMEOUT_S
        ) as client:
            done = await asyncio.gather(*(user(client, u) for u in range(users)))
        return [a for answers in done for a in answers]

    started = time.perf_counter()
    answers = asyncio.run(everyone())
    return answers, time.perf_counter() - started


def summarize(answers: list[Asked], wall_s: float) -> dict:
    """Answers, errors, throughput and p50/p95 of the first token and of the total."""
    good = [a for a in answers if a.error is None]

    def pct(values: list[float]) -> list[float | None]:
        if not values:
            return [None, None]
        return [round(float(np.percentile(values, p)), 2) for p in (50, 95)]

    return {
        "answers": len(good),
        "asked": len(answers),
        "errors": len(answers) - len(good),
        "error_examples": sorted({a.error for a in answers if a.error})[:3],
        "wall_s": round(wall_s, 1),
        "answers_per_min": round(60 * len(good) / wall_s, 2),
        "first_token_s": pct([a.first_token_s for a in good if a.first_token_s is not None]),
        "total_s": pct([a.total_s for a in good if a.total_s is not None]),
    }


@dataclass
class Setup:
    """How the Nabaa server under load generates."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    llm_server_slots: int = 0  # > 0: start llama-server with this many slots


def setups(slots: int) -> list[Setup]:
    """The in-process LLM (default answers, then written ones as the server's are) and
    llama-server with ``slots`` slots."""
    return [
        Setup("in-process, extractive (default)"),
        Setup("in-process, generative", {"NABAA_ANSWER_MODE": "generative"}),
        Setup(f"llama-server, {slots} slots", {"NABAA_LLM_SLOTS": str(slots)}, slots),
    ]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_nabaa(env: dict[str, str], work: Path, log_name: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    environment = {
        **os.environ,
        "NABAA_HOST": "127.0.0.1",
        "NABAA_PORT": str(port),
        "NABAA_API_TOKEN": TOKEN,
        "NABAA_INDEX_DIR": str(work / "index"),
        **env,
    }
    log = (work / log_name).open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NabaaError(f"The Nabaa server exited; see {work / log_name}.")
        try:
            health = httpx.get(f"{url}/healthz", timeout=2).json()
            if health.get("ready"):
                return process, url
            if not health.get("ok", True):
                raise NabaaError(f"The Nabaa server failed to start: {health.get('status')}")
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    process.kill()
    raise NabaaError("The Nabaa server was not ready within 15 minutes.")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def run_load(
    settings: Settings,
    questions: Sequence[str],
    user_counts: Sequence[int],
    per_user: int,
    slots: int,
    work: Path,
    on_step: Callable[[str], None] = lambda _step: None,
) -> dict:
    """Every setup under every user count, one setup's servers at a time."""
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for setup in setups(slots):
        llm_server = None
        env = dict(setup.env)
        if setup.llm_server_slots:
            on_step(f"{setup.name}: starting llama-server")
            port = _free_port()
            llm_server = LlamaServer(
                settings, port=port, slots=setup.llm_server_slots, log=work / "llama-server.log"
            )
            env["NABAA_LLM_URL"] = llm_server.wait_ready()
        try:
            on_step(f"{setup.name}: starting Nabaa")
            nabaa, url = _start_nabaa(env, work, "nabaa.log")
            try:
                ask_concurrently(url, TOKEN, [WARM_UP], 1, 1)
                for users in user_counts:
                    on_step(f"{setup.name}: {users} users × {per_user} questions")
                    answers, wall_s = ask_concurrently(url, TOKEN, questions, users, per_user)
                    runs.append({"setup": setup.name, "users": users, **summarize(answers, wall_s)})
            finally:
                _stop(nabaa)
        finally:
            if llm_server:
                llm_server.stop()
    return {
        "questions_per_user": per_user,
        "question_pool": len(questions),
        "runs": runs,
    }


def markdown(data: dict) -> str:
    """The README table of a load run."""

    def pair(values: list[float | None]) -> str:
        return " / ".join("–" if v is None else f"{v:.1f}" for v in values)

    lines = [
        "| setup | users | answers (errors) | answers/min | first token p50 / p95 (s) "
        "| total p50 / p95 (s) |",
        "|---|---|---|---|---|---|",
    ]
    for run in data["runs"]:
        lines.append(
            f"| {run['setup']} | {run['users']} | {run['answers']}/{run['asked']} "
            f"({run['errors']}) | {run['answers_per_min']:.1f} | {pair(run['first_token_s'])} "
            f"| {pair(run['total_s'])} |"
        )
    return "\n".join(lines)
