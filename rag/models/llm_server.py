"""llama.cpp's own server, llama-server, with the model Nabaa would load itself: what
``make serve-llm`` runs, and what the tests and ``bench --load`` start on loopback.

``scripts/setup.sh --server`` builds it from the same llama.cpp source and CPU flags as
the in-process model (never ``-march=native``) into ``.venv/bin/llama-server``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from rag.config import PROJECT_ROOT, Settings
from rag.errors import ModelError
from rag.models.model_store import ensure_llm

BUILT = PROJECT_ROOT / ".venv" / "bin" / "llama-server"
DEFAULT_PORT = 8080


def server_binary() -> Path:
    """The llama-server that setup built, else one on PATH; ModelError if neither."""
    if BUILT.exists():
        return BUILT
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise ModelError(
        "llama-server is not built. Run scripts/setup.sh --server (make serve-llm does)."
    )


def server_command(settings: Settings, model: Path, host: str, port: int, slots: int) -> list[str]:
    """The command line: ``slots`` parallel slots with continuous batching, each holding
    ``n_ctx`` tokens as the in-process model does, and the same threads and batch."""
    gpu_layers = settings.resolved_gpu_layers
    return [
        str(server_binary()),
        "--model", str(model),
        "--host", host,
        "--port", str(port),
        "--parallel", str(slots),
        "--ctx-size", str(settings.n_ctx * slots),
        "--threads", str(settings.n_threads),
        "--threads-batch", str(settings.n_threads),
        "--ubatch-size", str(settings.n_ubatch),
        "--seed", str(settings.seed),
        "--load-mode", "mmap" if settings.llm_mmap else "none",
        "--no-webui",
        *(["--n-gpu-layers", str(gpu_layers)] if gpu_layers else []),
    ]  # fmt: skip


class LlamaServer:
    """llama-server running as a child process until ``stop`` (or the ``with`` ends)."""

    def __init__(
        self,
        settings: Settings,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        slots: int = 4,
        log: Path | None = None,
    ) -> None:
        model = ensure_llm(settings)
        self.url = f"http://{host}:{port}"
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            server_command(settings, model, host, port, slots),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 300.0) -> str:
        """Wait until the model is loaded; the server's URL. ModelError if it exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ModelError(
                    f"llama-server exited with status {self.process.returncode} before it "
                    "was ready."
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise ModelError(f"llama-server was not ready within {timeout_s:g} s.")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self) -> LlamaServer:
        self.wait_ready()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
