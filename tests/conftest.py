"""Shared fixtures. Tests marked ``models`` load the real default models."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import numpy as np
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from rag.config import PROJECT_ROOT

if TYPE_CHECKING:
    from rag.measure.evaluation import Question

DATA = Path(__file__).parent / "data"
SEEDS = PROJECT_ROOT / "seeds"


class CountingEmbedder:
    """Deterministic stand-in for unit tests of the index logic: counts what it embeds."""

    dim = 8
    model_id = "counting:8"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        digest = hashlib.sha256(text.encode()).digest()
        vec = np.frombuffer(digest[: self.dim * 4], dtype=np.uint32).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def embed_documents(self, texts, titles=None, batch_size=32, on_progress=None):
        self.embedded += list(texts)
        if on_progress:
            on_progress(len(texts))
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text):
        return self._vector(text)


def write_articles(folder: Path) -> list[Question]:
    """The seeds and the ARCD sample's 25 contexts, as one folder of 27 articles; returns
    the ARCD questions."""
    from rag.measure.evaluation import load_squad

    shutil.copytree(SEEDS, folder)
    return load_squad(DATA / "arcd-sample.json", folder)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def seeds(tmp_path):
    """A copy of the seed articles to change."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def seeds_qa() -> list[dict]:
    return json.loads((DATA / "seeds_qa.json").read_text(encoding="utf-8"))["questions"]


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """The real pipeline: default models, a real FAISS index built from seeds/, warmed up."""
    from rag.config import get_settings
    from rag.pipeline import Pipeline

    index_dir = tmp_path_factory.mktemp("index")
    pipe = Pipeline(get_settings(index_dir=index_dir))
    pipe.update_index()
    pipe.warm_up()
    return pipe


ARTIFACTS = PROJECT_ROOT / "artifacts"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(tmp_path: Path, **env: str):
    """Launch ``python app.py`` on a free port with its own seeds/ and index/ copies."""
    import os
    import shutil
    import subprocess
    import sys
    import time
    import urllib.request

    seeds = tmp_path / "seeds"
    if not seeds.exists():
        shutil.copytree(SEEDS, seeds)
    port = free_port()
    environment = {
        **os.environ,
        "NABAA_PORT": str(port),
        "NABAA_SEEDS_DIR": str(seeds),
        "NABAA_INDEX_DIR": str(tmp_path / "index"),
        **env,
    }
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/gradio_api/info", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # the server answers (e.g. 401 with a login)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "app.log").read_text()) from None
            time.sleep(0.5)
    return proc, url, seeds


# The bearer token of the OpenAI-compatible API of ``app_server``.
API_TOKEN = "nabaa-test-token"


def mcp_session(
    url: str, work: Callable[[ClientSession], Awaitable[Any]], token: str | None = API_TOKEN
) -> Any:
    """Run ``work`` in a session with the app's MCP endpoint."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def main() -> Any:
        timeout = httpx2.Timeout(30, read=600)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
            streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return asyncio.run(main())


def mcp_call(url: str, tool: str, arguments: dict[str, Any]) -> Any:
    """Call one tool of the app's MCP endpoint."""
    return mcp_session(url, lambda session: session.call_tool(tool, arguments))


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The real web app and its API (token ``API_TOKEN``), served by ``python app.py``;
    yields (url, seeds folder)."""
    tmp = tmp_path_factory.mktemp("app")
    proc, url, seeds = start_app(tmp, NABAA_API_TOKEN=API_TOKEN)
    yield url, seeds
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def llm_server(pipeline, tmp_path_factory):
    """llama.cpp's llama-server with the default model and two slots, on loopback; yields
    its URL (for NABAA_LLM_URL)."""
    from rag.models.llm_server import LlamaServer

    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = LlamaServer(pipeline.settings, port=free_port(), slots=2, log=log)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray instance for the test run (2 CPUs), its own even where a cluster
    already runs on this machine; its workers import ``rag`` and the tests' helpers from
    here."""
    import os

    import ray

    path = os.pathsep.join([str(PROJECT_ROOT), str(Path(__file__).parent)])
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": path}},
    )
    yield ray
    ray.shutdown()
