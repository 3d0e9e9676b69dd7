"""All settings in one place, each overridable by a ``NABAA_*`` environment variable."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _physical_cores() -> int:
    """Number of physical CPU cores (llama.cpp runs best with one thread per core)."""
    try:
        cores = set()
        physical = core = None
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "physical id":
                physical = value.strip()
            elif key == "core id":
                core = value.strip()
                cores.add((physical, core))
        if cores:
            return len(cores)
    except OSError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


class Settings(BaseSettings):
    """Runtime configuration. Paths may be relative to the project root."""

    model_config = SettingsConfigDict(env_prefix="NABAA_", extra="ignore")

    # Where things live.
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    models_dir: Path = PROJECT_ROOT / "models"
    cache_dir: Path = Field(
        default_factory=lambda: (
            Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "nabaa"
        ),
        description="The assembled default models and built llama.cpp wheels, shared by clones.",
    )

    # Models. Empty means: the default model, assembled under models_dir on first use.
    llm_path: Path | None = None
    embedder_path: Path | None = None
    # Precision of the embedding model: "auto" is bfloat16 on CPUs that compute it natively
    # (AMX / AVX-512 BF16), else float32. "float32" is the plain path.
    embedder_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # "auto": EmbeddingGemma's transformer runs on OpenVINO (exported once under
    # models_dir/openvino; 4x plain fp32 torch here), other models on torch in
    # embedder_dtype. "torch" is the plain path.
    embedder_backend: Literal["auto", "torch", "openvino"] = "auto"

    # Chunking: sentences packed into passages of at most this many characters,
    # the last `chunk_overlap_sentences` sentences repeated at the start of the next passage.
    chunk_max_chars: int = 250
    chunk_overlap_sentences: int = 1

    # Retrieval.
    top_k: int = 3
    # Ranking: cosine similarity + keyword_weight * (BM25 / best BM25) for questions in
    # hybrid_languages (0 = dense only). With 0.2, ARCD recall@1 goes 0.782 -> 0.806 and the
    # Arabic seeds questions' recall@1 0.727 -> 0.818; English questions find little by
    # Arabic keywords, so they stay dense. See the README for the measurements.
    keyword_weight: float = 0.2
    hybrid_languages: tuple[str, ...] = ("ar",)
    # Cosine similarity below which a passage is not relevant; a question whose best
    # passage scores below it is refused without calling the LLM. From
    # `python -m rag calibrate` (ARCD + seeds questions): 1.1% false refusals,
    # 1.8% missed refusals.
    min_score: float = 0.232
    # A passage whose cosine is more than this below the best-ranked one's is left out of
    # the prompt: each passage costs ~80 new prompt tokens, the first token's main cost.
    # See the README ("Speed"); 1 keeps all top_k.
    passage_margin: float = 0.1

    # Time words in a question ("in March 2023", "الأسبوع الماضي") limit the search to the
    # articles published then, when there are any ("off": never). Relative ones count from
    # the newest article's date ("newest") or from today ("today").
    time_filter: Literal["auto", "off"] = "auto"
    time_reference: Literal["newest", "today"] = "newest"

    # Answers. "extractive": an answer in the passages' language is copied from them
    # (decoding can only copy); one in another language is written from a copied quote
    # and its names are checked against it. "generative": the model writes freely (for a
    # larger GGUF); its answer is checked for support afterwards.
    answer_mode: Literal["extractive", "generative"] = "extractive"
    # An extractive answer is refused when log P(refusal) among the tokens it may start
    # with is above this: the model would rather say the passages do not answer.
    refusal_logprob: float = -3.0

    # "avx2": run as an AVX2-only CPU would (llama.cpp's AVX2 build from
    # `scripts/setup.sh --isa avx2`, OpenVINO/oneDNN/torch capped); read when the package is
    # imported (rag/models/cpu_profile.py), so set it in the environment.
    cpu_isa: Literal["native", "avx2"] = "native"

    # An OpenAI-compatible server that generates instead of the in-process model, e.g.
    # llama.cpp's llama-server (`make serve-llm`) or vLLM: its base URL, e.g.
    # http://127.0.0.1:8080. It cannot constrain decoding to copies of the passages, so
    # answers are written freely and checked for support ("generative"); see the README.
    llm_url: str | None = None
    llm_api_key: SecretStr | None = None
    # How many answers the server generates at once (its parallel slots); a request waits
    # for a free one. The in-process model answers one at a time.
    llm_slots: int = Field(default=4, ge=1)
    # Seconds without a word from the server before an answer fails.
    llm_timeout_s: float = 120.0

    # `python -m rag index --engine ray`: the Ray cluster to join ("auto", "ray://head:10001";
    # unset: a Ray instance started on this machine), the embedding actors (each loads the
    # model once) and the GPUs each actor takes (0: it embeds on the CPU).
    ray_address: str | None = None
    ray_embed_actors: int = Field(default=1, ge=1)
    ray_num_gpus: float = Field(default=0, ge=0)
    # Retrieval from the index's shards served by Ray Serve (`python -m rag shard`, then
    # `python -m rag serve-shards`) on this cluster ("auto", "ray://head:10001") instead of
    # the local index, which stays what updates write (shard and serve again after one).
    cluster: str | None = None
    # `python -m rag serve-app`: the port of Ray Serve's HTTP proxy (on ``host``), in front
    # of the app's replicas (the API and MCP).
    serve_port: int = 8000

    # Requests waiting for a turn beyond this many are refused at once (HTTP 429); one that
    # waits queue_wait_s seconds without a turn gives up (HTTP 503).
    queue_limit: int = Field(default=32, ge=0)
    queue_wait_s: float = 300.0

    # Generation.
    n_ctx: int = 4096
    # Memory-map the GGUF. Off: llama.cpp repacks the weights for this CPU anyway, and with
    # the map on, the file's pages stay resident beside the repacked copy (+590 MB here,
    # same speed).
    llm_mmap: bool = False
    n_threads: int = Field(default_factory=_physical_cores)
    # Tokens llama.cpp evaluates per step of a prompt. 256 instead of llama.cpp's 512 halves
    # its compute buffer (app peak memory -46 MB), at the same prompt speed here: the part
    # of a prompt that is not cached is ~300 tokens.
    n_ubatch: int = 256
    n_gpu_layers: int | None = Field(
        default=None,
        description="None: all layers if llama.cpp was built with GPU offload, else 0.",
    )
    temperature: float = 0.0
    # 1.0 = off. A penalty makes answers that quote a passage avoid its repeated words
    # ("جبل لبنان وجبل الدروز" came out as "والجبل الدروز"); loops are cut instead
    # (generation.loop_start).
    repeat_penalty: float = 1.0
    max_answer_tokens: int = 384
    history_turns: int = 3
    seed: int = 0

    # Input limits.
    max_question_chars: int = 1000

    # Web UI.
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str | None = None
    auth_password: str | None = None
    # Wrong passwords in a row that lock the login, and for how long (each also waits 1 s).
    login_max_failures: int = 5
    login_lockout_s: float = 300.0
    max_upload_bytes: int = 2_000_000

    # OpenAI-compatible API at /v1 (rag/apps/api.py): the bearer token clients must send.
    # Unset, the API is served without one only on a loopback host with no login, and is
    # off otherwise.
    api_token: SecretStr | None = None

    @property
    def answer_slots(self) -> int:
        """How many answers are generated at once: the LLM server's slots, or the
        in-process model's one."""
        return self.llm_slots if self.llm_url else 1

    @cached_property
    def resolved_gpu_layers(self) -> int:
        """GPU layers to offload: the setting, or all of them when the build supports it."""
        if self.n_gpu_layers is not None:
            return self.n_gpu_layers
        import llama_cpp

        return -1 if llama_cpp.llama_supports_gpu_offload() else 0


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. CLI flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
