"""``python -m rag bench``: how fast each stage runs, next to the ceiling of the library
underneath it (raw llama.cpp, plain fp32 sentence-transformers) on the same input."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.answer.prompts import fixed_messages
from rag.config import PROJECT_ROOT, Settings
from rag.errors import NabaaError
from rag.ingest.chunking import Passage
from rag.measure.evaluation import Question, load_seeds_qa, load_squad
from rag.measure.machine import describe_machine, machine_line
from rag.models.generation import LLM
from rag.pipeline import Pipeline

Progress = Callable[[str], None]


def stats(values: Sequence[float]) -> dict[str, float]:
    """Median and 95th percentile."""
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {
        "p50": round(float(np.percentile(values, 50)), 4),
        "p95": round(float(np.percentile(values, 95)), 4),
    }


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# Embedding -----------------------------------------------------------------


def bench_indexing(settings: Settings, corpus: Path, workdir: Path) -> tuple[Pipeline, dict]:
    """Build a fresh index of the seeds plus a SQuAD file's contexts; its throughput."""
    seeds = workdir / "seeds"
    load_squad(corpus, seeds)
    for path in settings.seeds_dir.glob("*"):
        if path.is_file():
            shutil.copy(path, seeds / path.name)
    pipeline = Pipeline(
        settings.model_copy(update={"seeds_dir": seeds, "index_dir": workdir / "index"})
    )
    embedder = pipeline.embedder
    embedder.embed_documents(["warm up"])
    report = pipeline.update_index()
    passages, _ = pipeline.index.dump()
    tokens = sum(
        len(ids)
        for ids in embedder.model.tokenizer(
            embedder.document_inputs([p.text for p in passages], [p.title for p in passages])
        )["input_ids"]
    )
    return pipeline, {
        "passages": report.n_passages,
        "tokens": tokens,
        "seconds": round(report.seconds, 2),
        "passages_per_s": round(report.n_passages / report.seconds, 2),
        "tokens_per_s": round(tokens / report.seconds, 1),
        "precision": embedder.precision,
    }


def bench_plain_embedder(pipeline: Pipeline, questions: list[Question]) -> dict:
    """The ceiling: plain fp32 sentence-transformers on the same inputs, and how its
    retrieval compares (recall@5 on the corpus's own questions)."""
    import torch
    from sentence_transformers import SentenceTransformer

    ours = pipeline.embedder
    plain = SentenceTransformer(
        str(ours.path), device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32}
    )
    passages, our_vectors = pipeline.index.dump()
    inputs = ours.document_inputs([p.text for p in passages], [p.title for p in passages])
    plain.encode_document(inputs[:4], prompt="")
    started = time.perf_counter()
    plain_vectors = plain.encode_document(inputs, prompt="", normalize_embeddings=True)
    seconds = time.perf_counter() - started
    plain_queries = plain.encode_query([q.question for q in questions], normalize_embeddings=True)
    our_queries = np.vstack([ours.embed_query(q.question) for q in questions])
    return {
        "passages_per_s": round(len(passages) / seconds, 2),
        "recall_at_5": _recall_at_5(plain_queries, plain_vectors, passages, questions),
        "our_recall_at_5": _recall_at_5(our_queries, our_vectors, passages, questions),
        "questions": len(questions),
    }


def _recall_at_5(
    queries: np.ndarray, vectors: np.ndarray, passages: list[Passage], questions: list[Question]
) -> float:
    top = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    found = [
        any(passages[i].doc_id == q.doc_id for i in row)
        for row, q in zip(top, questions, strict=True)
    ]
    return round(float(np.mean(found)), 4)


def bench_queries(pipeline: Pipeline, questions: list[Question], rounds: int = 3) -> dict:
    """Latency of embedding a question, of the vector search, and of the whole retrieval."""
    embed, search, retrieve = [], [], []
    index = pipeline.index
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            vector = pipeline.embedder.embed_query(q.question)
            embed.append(time.perf_counter() - started)
            search.append(_timed(lambda v=vector: index.search(v, pipeline.settings.top_k)))
            retrieve.append(_timed(lambda q=q: pipeline.retrieve(q.question)))
    return {
        "embed_query_s": stats(embed),
        "search_s": stats(search),
        "retrieve_s": stats(retrieve),
    }


# LLM -------------------------------------------------------------------------


def _perf(llm: LLM) -> tuple[float, int, float, int]:
    import llama_cpp

    data = llama_cpp.llama_perf_context(llm.llama.ctx)
    return data.t_p_eval_ms, data.n_p_eval, data.t_eval_ms, data.n_eval


def bench_raw_llama(llm: LLM, n_prompt: int, n_gen: int = 64) -> dict:
    """The ceiling: llama.cpp's own decode calls on the same model and threads, with
    greedy sampling in C; no chat template, no streaming, no Python per token."""
    import llama_cpp

    ctx = llm.llama.ctx
    text = (PROJECT_ROOT / "seeds").glob("*.txt")
    sample = " ".join(p.read_text(encoding="utf-8") for p in sorted(text)) * 4
    tokens = llm.llama.tokenize(sample.encode("utf-8"), add_bos=False)[:n_prompt]
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
    llm.llama.n_tokens = 0
    batch = (llama_cpp.llama_token * len(tokens))(*tokens)
    started = time.perf_counter()
    if llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(batch, len(tokens))):
        raise NabaaError("llama.cpp could not decode the benchmark prompt")
    prompt_s = time.perf_counter() - started
    sampler = llama_cpp.llama_sampler_init_greedy()
    try:
        started = time.perf_counter()
        for _ in range(n_gen):
            token = (llama_cpp.llama_token * 1)(llama_cpp.llama_sampler_sample(sampler, ctx, -1))
            llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(token, 1))
        gen_s = time.perf_counter() - started
    finally:
        llama_cpp.llama_sampler_free(sampler)
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
    return {
        "prompt_tokens": len(tokens),
        "prompt_tokens_per_s": round(len(tokens) / prompt_s, 2),
        "generated_tokens": n_gen,
        "generation_tokens_per_s": round(n_gen / gen_s, 2),
    }


def bench_answers(pipeline: Pipeline, questions: list[Question]) -> dict:
    """Time to first token, total time, and llama.cpp's prompt and generation speed, for
    each question the LLM answered, in a warm pipeline."""
    import llama_cpp

    llm = pipeline.llm
    first, total, prompt_tokens = [], [], []
    pp_ms = pp_n = tg_ms = tg_n = 0.0
    for q in questions:
        llama_cpp.llama_perf_context_reset(llm.llama.ctx)
        answer = pipeline.ask(q.question)
        p_ms, p_n, g_ms, g_n = _perf(llm)
        if not p_n:  # refused before the LLM was asked
            continue
        first.append(answer.timings["first_token_s"])
        total.append(answer.timings["total_s"])
        prompt_tokens.append(p_n)
        pp_ms, pp_n, tg_ms, tg_n = pp_ms + p_ms, pp_n + p_n, tg_ms + g_ms, tg_n + g_n
    return {
        "questions": len(first),
        "first_token_s": stats(first),
        "total_s": stats(total),
        "prompt_tokens": stats(prompt_tokens),
        "cached_prefix_tokens": llm.cached_prefix_tokens,
        "prompt_tokens_per_s": round(pp_n / pp_ms * 1000, 2) if pp_ms else 0.0,
        "generation_tokens_per_s": round(tg_n / tg_ms * 1000, 2) if tg_ms else 0.0,
    }


# The app ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mb(pid: int) -> dict[str, float]:
    """Peak resident memory, and how much of the current one is the process's own
    (anonymous) rather than pages of mapped files, which the system can drop and reread."""
    fields = {"VmHWM": "peak_rss_mb", "RssAnon": "anon_rss_mb", "RssFile": "file_rss_mb"}
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            found[fields[name]] = round(int(value.split()[0]) / 1024, 1)
    if len(found) < len(fields):
        raise NabaaError("no VmHWM in /proc: peak memory is measured on Linux only")
    return found


def bench_app_memory(questions: list[Question], timeout_s: float = 600) -> dict:
    """Peak resident memory of ``python app.py`` after it has answered the questions."""
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "NABAA_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "app.py")],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise NabaaError(f"app.py exited with status {proc.returncode}")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise NabaaError("app.py did not start in time") from None
                time.sleep(1)
        for q in questions:
            client.predict(q.question, api_name="/ask")
        return {**memory_mb(proc.pid), "questions": len(questions)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# All of it ---------------------------------------------------------------------


def run_bench(
    settings: Settings,
    questions_path: Path,
    corpus: Path,
    with_app: bool = True,
    limit: int | None = None,
    on_step: Progress = lambda _step: None,
) -> dict:
    """Every measurement, as a JSON-ready report (on the first ``limit`` questions)."""
    questions = load_seeds_qa(questions_path)[:limit]
    with tempfile.TemporaryDirectory(prefix="nabaa-bench-") as tmp:
        on_step("Indexing the benchmark corpus")
        corpus_pipeline, indexing = bench_indexing(settings, corpus, Path(tmp))
        corpus_questions = load_squad(corpus, Path(tmp) / "seeds")
        on_step("Plain fp32 sentence-transformers on the same passages")
        plain = bench_plain_embedder(corpus_pipeline, corpus_questions)
    pipeline = Pipeline(settings)
    pipeline.update_index()
    on_step("Retrieval latency")
    queries = bench_queries(pipeline, questions)
    on_step("Loading the LLM")
    pipeline.warm_up()
    on_step("Answering the seeds questions")
    answers = bench_answers(pipeline, questions)
    on_step("Raw llama.cpp")
    raw = bench_raw_llama(pipeline.llm, n_prompt=int(answers["prompt_tokens"]["p50"]) or 256)
    pipeline.llm.prime(fixed_messages())
    report = {
        "machine": {**describe_machine(), "threads": settings.n_threads},
        "models": pipeline.model_names,
        "indexing": indexing,
        "plain_embedder": plain,
        "queries": queries,
        "answers": answers,
        "raw_llama": raw,
        "ratios": {
            "indexing_vs_plain_fp32": round(
                indexing["passages_per_s"] / plain["passages_per_s"], 2
            ),
            "recall_at_5_change": round(plain["our_recall_at_5"] - plain["recall_at_5"], 4),
            "prompt_vs_raw": round(answers["prompt_tokens_per_s"] / raw["prompt_tokens_per_s"], 3),
            "generation_vs_raw": round(
                answers["generation_tokens_per_s"] / raw["generation_tokens_per_s"], 3
            ),
        },
    }
    if with_app:
        on_step("Peak memory of python app.py")
        report["app"] = bench_app_memory(questions)
    return report


def markdown(report: dict) -> str:
    """The report as one markdown table: measure, ours, ceiling, ratio."""
    ix, plain, q, a, raw, r = (
        report[k]
        for k in ("indexing", "plain_embedder", "queries", "answers", "raw_llama", "ratios")
    )

    def pq(s: dict) -> str:
        return f"{s['p50']:.2f} / {s['p95']:.2f} s"

    def ms(s: dict) -> str:
        return f"{s['p50'] * 1000:.1f} / {s['p95'] * 1000:.1f} ms"

    rows = [
        (
            f"index build, {ix['passages']} passages ({ix['precision']})",
            f"{ix['passages_per_s']:.1f} passages/s, {ix['tokens_per_s']:.0f} tokens/s",
            f"{plain['passages_per_s']:.1f} passages/s (fp32)",
            f"{r['indexing_vs_plain_fp32']:.2f}×",
        ),
        (
            f"recall@5, {plain['questions']} corpus questions",
            f"{plain['our_recall_at_5']:.3f}",
            f"{plain['recall_at_5']:.3f} (fp32)",
            f"{r['recall_at_5_change'] * 100:+.1f} pt",
        ),
        ("query embedding p50 / p95", ms(q["embed_query_s"]), "", ""),
        ("vector search p50 / p95", ms(q["search_s"]), "", ""),
        ("retrieval (embedding, search, BM25) p50 / p95", ms(q["retrieve_s"]), "", ""),
        (
            f"prompt processing (p50 {a['prompt_tokens']['p50']:.0f} new tokens)",
            f"{a['prompt_tokens_per_s']:.1f} tokens/s",
            f"{raw['prompt_tokens_per_s']:.1f} tokens/s",
            f"{r['prompt_vs_raw'] * 100:.0f} %",
        ),
        (
            "generation",
            f"{a['generation_tokens_per_s']:.1f} tokens/s",
            f"{raw['generation_tokens_per_s']:.1f} tokens/s",
            f"{r['generation_vs_raw'] * 100:.0f} %",
        ),
        (
            f"time to first token p50 / p95, {a['questions']} questions",
            pq(a["first_token_s"]),
            "",
            "",
        ),
        ("total answer time p50 / p95", pq(a["total_s"]), "", ""),
    ]
    if "app" in report:
        app = report["app"]
        rows.append(
            (
                "peak memory of python app.py (at the end: own / mapped files)",
                f"{app['peak_rss_mb']:.0f} MB ({app['anon_rss_mb']:.0f} / "
                f"{app['file_rss_mb']:.0f} MB)",
                "",
                "",
            )
        )
    lines = [machine_line(report["machine"]), "", "| measure | Nabaa | ceiling | ratio |"]
    lines += ["|---|---|---|---|", *(f"| {' | '.join(row)} |" for row in rows)]
    return "\n".join(lines)
