"""Terminal interface: ``python -m rag index | ask | chat | retrieve | models | mcp``.

A thin shell over ``rag.pipeline.Pipeline``: it parses arguments, prints, and
turns ``NabaaError`` into a one-line message and exit status 1.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from rag.answer.prompts import Turn
from rag.answer.questions import MAX_TOP_K, check_top_k, prepare_question
from rag.config import PROJECT_ROOT, Settings, get_settings
from rag.errors import NabaaError
from rag.pipeline import Answer, Pipeline

app = typer.Typer(
    help="Nabaa: ask questions about Arabic news articles, offline, with cited answers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

SeedsOpt = Annotated[Path | None, typer.Option("--seeds", help="Articles folder.")]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
KOpt = Annotated[
    int | None, typer.Option("--k", "-k", help=f"Passages to retrieve (1-{MAX_TOP_K}).")
]
SinceOpt = Annotated[
    str | None, typer.Option(help="Only articles published on or after this day (YYYY-MM-DD).")
]
UntilOpt = Annotated[
    str | None, typer.Option(help="Only articles published on or before this day (YYYY-MM-DD).")
]
SourceOpt = Annotated[str | None, typer.Option(help="Only articles from this outlet.")]


def _settings(seeds: Path | None, index: Path | None) -> Settings:
    return get_settings(seeds_dir=seeds, index_dir=index)


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except NabaaError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None


class _Rate:
    """Items per second and time left, measured from the first report (which may count
    work resumed from an earlier run)."""

    def __init__(self) -> None:
        self.first: tuple[float, int] | None = None

    def __call__(self, done: int, total: int) -> str:
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)
        began, done_then = self.first
        if done <= done_then or now <= began:
            return ""
        rate = (done - done_then) / (now - began)
        left = int((total - done) / rate)
        return f"{rate:,.1f}/s, {left // 60}:{left % 60:02d} left"


class _ProgressLines:
    """Progress as a line every ``every`` seconds, for a log that is not a terminal."""

    def __init__(self, label: str, every: float = 10.0) -> None:
        self.label, self.every, self.last = label, every, 0.0
        self.rate = _Rate()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        speed = self.rate(done, total)
        if now - self.last >= self.every or done == total:
            self.last = now
            err.print(f"{self.label}: {done:,}/{total:,} {speed}".rstrip(), markup=False)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    if not err.is_terminal:
        yield _ProgressLines(label)
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[speed]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, speed="")
        rate = _Rate()
        yield lambda done, total: bar.update(
            task, completed=done, total=total, speed=rate(done, total)
        )


def _check_question(question: str) -> None:
    """Reject an empty or wordless question before loading any model."""
    prepare_question(question, get_settings().max_question_chars)


def _print_notices(pipeline: Pipeline, notices: list[str]) -> None:
    for notice in [*pipeline.notices, *notices]:
        err.print(f"[yellow]{escape(notice)}[/yellow]")
    pipeline.notices.clear()


def _ensure_index(pipeline: Pipeline) -> None:
    """Load the index, building it with a progress bar if it is missing or damaged (or
    join the served shards, with NABAA_CLUSTER)."""
    with _progress("Embedding passages"):
        _ = pipeline.store
    _print_notices(pipeline, [])


def _print_report(table: str, data: dict, path: Path | None) -> None:
    """Print a report's markdown table and, if asked, write its JSON to ``path``."""
    out.print(table, markup=False)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2))
        err.print(f"Report written to {escape(str(path))}")


def _warm_up(pipeline: Pipeline) -> None:
    """Load the index and models before the first question, so its timings are the warm ones."""
    _ensure_index(pipeline)
    with err.status("Loading the models…"):
        pipeline.warm_up()


def _print_sources(answer: Answer) -> None:
    if not answer.citations:
        out.print("[dim](no sources)[/dim]")
        return
    for c in answer.citations:
        sentence = c.text[c.sentence_start - c.start : c.sentence_end - c.start]
        quoted = f"\n    [dim]quoted:[/dim] {escape(c.quote)}" if c.quote else ""
        out.print(
            f"[bold]\\[{c.n}][/bold] {escape(c.title)} [dim]({escape(c.passage_id)}, "
            f"{_dated(c.published, c.source)}score {c.score:.2f})[/dim]\n"
            f"    {escape(sentence)}{quoted}"
        )


def _dated(published: str | None, source: str | None) -> str:
    """What is known of an article's date and source, as "2023-03-12, Al-Ufuq, "."""
    return "".join(f"{escape(v)}, " for v in (published, source) if v)


def _stream_answer(
    pipeline: Pipeline, question: str, history: list[Turn], **window: str | None
) -> Answer:
    """Print the answer as it is generated; return the finished Answer."""
    answer: Answer | None = None
    streamed = ""
    for event in pipeline.ask_stream(question, history, **window):
        if isinstance(event, Answer):
            answer = event
        else:
            streamed += event
            out.print(event, end="", markup=False)
    out.print()
    assert answer is not None
    if answer.answer != streamed.strip():
        # Citations were checked after the stream: show the answer as it was filed.
        out.print(f"[dim]Answer:[/dim] {escape(answer.answer)}")
    return answer


@app.command()
def index(
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
    compact: Annotated[
        bool, typer.Option("--compact", help="Then merge segments and drop deleted passages.")
    ] = False,
    engine: Annotated[
        Literal["local", "ray"],
        typer.Option("--engine", help="local: embed in this process; ray: on a Ray cluster."),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="With --engine ray: the cluster (auto, ray://host:10001); by default "
            "NABAA_RAY_ADDRESS, else a Ray instance started here.",
        ),
    ] = None,
    paths: Annotated[
        Path | None,
        typer.Option(
            "--paths",
            help="With --engine ray: a .jsonl or .parquet file listing the articles (column "
            "path, relative to the file; optional doc_id) instead of the folder.",
        ),
    ] = None,
) -> None:
    """Build or update the index from the articles folder (only changes are re-embedded).

    A killed build resumes where it stopped: embedded batches are kept."""
    with _user_errors():
        settings = get_settings(seeds_dir=seeds, index_dir=index, ray_address=address)
        pipeline = Pipeline(settings)
        if engine == "ray":
            from rag.store.ray_ingest import index_on_ray

            report = index_on_ray(settings, paths)  # progress: Ray Data's own
        elif address or paths:
            raise NabaaError("--address and --paths go with --engine ray.")
        else:
            with _progress("Embedding passages") as progress:
                report = pipeline.update_index(progress)
        out.print(report.summary())
        if compact:
            merged = pipeline.compact_index()
            out.print("Segments merged." if merged else "Nothing to merge.")


@app.command()
def shard(
    shards: Annotated[int, typer.Option("--shards", min=1, help="How many shards.")] = 2,
    shards_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write them in (replaced); default: <index>/shards."),
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Split the index by article into store folders, for serve-shards."""
    from rag.store.shards import shard_index

    with _user_errors():
        settings = _settings(None, index)
        folder = shards_dir or settings.index_dir / "shards"
        for path in shard_index(settings.index_dir, shards, folder):
            out.print(escape(str(path)))


AddressOpt = Annotated[
    str | None,
    typer.Option("--address", help="The Ray cluster to serve on (auto, ray://host:10001)."),
]
CpusOpt = Annotated[float, typer.Option("--cpus", min=0, help="CPUs each replica reserves.")]
MaxReplicasOpt = Annotated[
    int | None,
    typer.Option(
        "--max-replicas", min=1, help="Let Serve add replicas under load, up to this many."
    ),
]


@app.command("serve-shards")
def serve_shards(
    shards_dir: Annotated[
        Path | None,
        typer.Option("--shards", help="The folder `shard` wrote; default: <index>/shards."),
    ] = None,
    address: AddressOpt = None,
    cpus: CpusOpt = 1.0,
    replicas: Annotated[int, typer.Option("--replicas", min=1, help="Replicas a shard.")] = 1,
    max_replicas: MaxReplicasOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the shards with Ray Serve, for NABAA_CLUSTER and serve-app (every node must
    see their folder at the same path). Without --address, on a Ray instance started
    here, serving until Ctrl-C."""
    from rag.store.ray_ingest import connect
    from rag.store.served import deploy_shards, start_serve
    from rag.store.shards import shard_folders

    with _user_errors():
        settings = _settings(None, index)
        folder = shards_dir or settings.index_dir / "shards"
        folders = shard_folders(folder)
        if not folders:
            raise NabaaError(f"No shards in {folder}: run `python -m rag shard` first.")
        connect(address)
        start_serve(settings.host, settings.serve_port)
        names = deploy_shards(folders, cpus, replicas, max_replicas)
        err.print(f"Serving {', '.join(names)}; run Nabaa with NABAA_CLUSTER={address or 'auto'}")
        if address is None:
            err.print("Ctrl-C stops serving (the Ray instance ends with this process).")
            signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` as Ctrl-C
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()


@app.command("serve-app")
def serve_app(
    replicas: Annotated[int, typer.Option("--replicas", min=1, help="App replicas.")] = 2,
    address: AddressOpt = None,
    cpus: CpusOpt = 1.0,
    max_replicas: MaxReplicasOpt = None,
) -> None:
    """Serve the API and MCP in several replicas behind Ray Serve's HTTP proxy
    (NABAA_SERVE_PORT), on the cluster whose shards serve-shards serves (--address, else
    NABAA_CLUSTER, else auto); each generates through NABAA_LLM_URL when it is set."""
    from rag.apps.served_app import deploy_app
    from rag.apps.server import endpoints
    from rag.store.ray_ingest import connect
    from rag.store.served import start_serve

    with _user_errors():
        settings = get_settings()
        address = address or settings.cluster or "auto"
        connect(address)
        url = start_serve(settings.host, settings.serve_port)
        if url is None:
            raise NabaaError(
                "Serve runs on this cluster without an HTTP proxy: stop it (`serve shutdown`) "
                "and start serve-shards and serve-app again."
            )
        if url != f"http://{settings.host}:{settings.serve_port}":
            err.print(f"Serve already ran on this cluster, with its HTTP proxy at {url}.")
        err.print(f"Starting {replicas} replicas (each loads its models)…")
        deploy_app(settings, replicas, cpus, max_replicas)
        out.print("\n".join(escape(line) for line in endpoints(settings, url)))


@app.command()
def add(
    files: Annotated[
        list[Path], typer.Argument(help="Articles to add: .txt, .md, .html, .htm, .pdf, .docx.")
    ],
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Check articles (a readable format, size limit), copy them into seeds/, index them."""
    with _user_errors():
        pipeline = Pipeline(_settings(seeds, index))
        for path in files:
            try:
                if not path.is_file():
                    raise NabaaError(f"{path} is not a file.")
                saved = pipeline.add_article(path.name, path.read_bytes())
                out.print(f"Added {escape(str(path))} as {escape(saved)}")
            except (NabaaError, OSError) as exc:
                err.print(f"[red]Rejected:[/red] {escape(str(exc))}")
        with _progress("Embedding passages") as progress:
            report = pipeline.update_index(progress)
        out.print(report.summary())


@app.command()
def articles(seeds: SeedsOpt = None, index: IndexOpt = None) -> None:
    """List the indexed articles, newest first: id, publication date (or "no date"),
    source, passages, title."""
    with _user_errors():
        pipeline = Pipeline(_settings(seeds, index))
        _ensure_index(pipeline)
        for a in pipeline.articles():
            published = a["published"] or "no date   "
            source = f"  {escape(str(a['source']))}" if a["source"] else ""
            out.print(
                f"{escape(str(a['doc_id']))}  {published}{source}  {a['passages']:>3} passages"
                f"  {escape(str(a['title']))}"
            )


@app.command()
def retrieve(
    question: str,
    k: KOpt = None,
    json_: JsonOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Show the passages retrieved for a question, without the LLM. Time words in the
    question ("in March 2023", "الأسبوع الماضي") limit the articles unless --since,
    --until or --source do."""
    with _user_errors():
        _check_question(question)
        if k is not None:
            check_top_k(k)
        pipeline = Pipeline(_settings(seeds, index))
        _ensure_index(pipeline)
        result = pipeline.retrieve(question, k, since=since, until=until, source=source)
        _print_notices(pipeline, result.notices)
        if json_:
            print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
            return
        for hit in result.hits:
            p = hit.passage
            out.print(
                f"[bold]{hit.rank}.[/bold] {escape(p.title)} [dim]({escape(p.passage_id)}, "
                f"{_dated(hit.meta.published, hit.meta.source)}score {hit.score:.3f})[/dim]\n"
                f"{escape(p.text)}\n"
            )


@app.command()
def ask(
    question: str,
    json_: JsonOpt = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Answer one question, citing the passages it rests on (articles limited as in
    retrieve)."""
    with _user_errors():
        _check_question(question)
        pipeline = Pipeline(_settings(seeds, index))
        _warm_up(pipeline)
        window = {"since": since, "until": until, "source": source}
        if json_:
            answer = pipeline.ask(question, **window)
            _print_notices(pipeline, answer.notices)
            print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
            return
        answer = _stream_answer(pipeline, question, [], **window)
        _print_notices(pipeline, answer.notices)
        _print_sources(answer)


CHAT_HELP = "Commands: /sources (sources of the last answer), /new (new conversation), /quit"


@app.command()
def chat(seeds: SeedsOpt = None, index: IndexOpt = None) -> None:
    """Chat about the articles; follow-up questions use the conversation."""
    with _user_errors():
        pipeline = Pipeline(_settings(seeds, index))
        _warm_up(pipeline)
        n_articles = len(pipeline.index.articles())
        err.print(
            f"[bold]Nabaa[/bold] — {n_articles} articles. Ask in English or Arabic. "
            f"{CHAT_HELP}. Ctrl-D to leave."
        )
        history: list[Turn] = []
        last: Answer | None = None
        prompt = "\n[bold cyan]You:[/bold cyan] " if sys.stdin.isatty() else ""
        while True:
            try:
                line = out.input(prompt) if prompt else input()
            except (EOFError, KeyboardInterrupt):
                err.print("\nBye.")
                return
            command = line.strip().lower()
            if not command:
                continue
            if command in ("/quit", "/exit"):
                return
            if command == "/sources":
                _print_sources(last) if last else err.print("No answer yet.")
                continue
            if command == "/new":
                history, last = [], None
                err.print("New conversation.")
                continue
            if command.startswith("/"):
                err.print(CHAT_HELP)
                continue
            out.print("[bold green]Nabaa:[/bold green] ", end="")
            try:
                last = _stream_answer(pipeline, line, history)
            except KeyboardInterrupt:
                err.print("\n[yellow](answer interrupted)[/yellow]")
                continue
            except NabaaError as exc:
                err.print(f"[red]{escape(str(exc))}[/red]")
                continue
            _print_notices(pipeline, last.notices)
            if last.citations:
                out.print(
                    "[dim]Sources: "
                    + " ".join(f"\\[{c.n}] {escape(c.title)}" for c in last.citations)
                    + "[/dim]"
                )
            history.append(Turn(question=last.question, answer=last.answer))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (NABAA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (NABAA_PORT).")] = None,
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the web app, the OpenAI-compatible API (/v1) and MCP (/mcp) on one port, as
    app.py does."""
    from rag.apps.server import serve as serve_app

    with _user_errors():
        settings = get_settings(seeds_dir=seeds, index_dir=index, host=host, port=port)
        serve_app(settings)


@app.command("serve-llm")
def serve_llm(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8080,
    slots: Annotated[
        int | None, typer.Option(help="Answers generated at once (NABAA_LLM_SLOTS).")
    ] = None,
) -> None:
    """Run llama.cpp's server (llama-server) with the LLM Nabaa would load, for
    NABAA_LLM_URL=http://127.0.0.1:8080 (make serve-llm builds it first)."""
    from rag.apps.api import is_loopback
    from rag.models.llm_server import server_command
    from rag.models.model_store import ensure_llm

    with _user_errors():
        settings = get_settings()
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        if not is_loopback(host) and not key:
            raise NabaaError(
                f"--host {host} is reachable from other machines: set NABAA_LLM_API_KEY, "
                "which the server then requires (and Nabaa sends)."
            )
        command = server_command(
            settings, ensure_llm(settings), host, port, slots or settings.llm_slots
        )
        err.print(
            f"llama-server on http://{host}:{port}; run Nabaa with "
            f"NABAA_LLM_URL=http://{host}:{port}",
            markup=False,
        )
        os.execve(command[0], command, {**os.environ, **({"LLAMA_API_KEY": key} if key else {})})


@app.command("mcp")
def mcp_command(seeds: SeedsOpt = None, index: IndexOpt = None) -> None:
    """Serve the MCP tools (search_articles, ask, list_articles) over stdin/stdout, for an
    agent that starts Nabaa itself; stdout carries only the protocol, logs go to stderr.
    (python app.py serves the same tools over HTTP at /mcp.)"""
    from rag.apps.mcp_server import run_stdio

    # The SDK gives the root logger a stderr handler of its own: say each message once.
    logging.getLogger("nabaa").propagate = False
    with _user_errors():
        settings = _settings(seeds, index)
        err.print("Nabaa MCP server on stdio (models load in the background).")
        run_stdio(settings)


SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"


@app.command()
def calibrate(
    dataset: Annotated[Path, typer.Option(help="SQuAD-format JSON.")] = SHARED_EVAL
    / "arcd-test.json",
    seeds_qa: Annotated[Path, typer.Option(help="seeds_qa.json-format questions.")] = PROJECT_ROOT
    / "tests/data/seeds_qa.json",
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure best-passage scores with and without an answer; suggest NABAA_MIN_SCORE."""
    from rag.measure.evaluation import calibrate as run_calibration

    with _user_errors():
        settings = _settings(seeds, index)
        with err.status("Embedding the data set and scoring questions…"):
            result = run_calibration(settings, dataset, seeds_qa)
        threshold = result.best_threshold()
        out.print(result.summary(threshold))
        out.print(f"Suggested NABAA_MIN_SCORE={threshold} (now {settings.min_score}).")


@app.command("eval")
def evaluate_command(
    dataset: Annotated[Path, typer.Option(help="SQuAD JSON or seeds_qa.json-format file.")],
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Retrieval metrics only.")] = False,
    limit: Annotated[int | None, typer.Option(help="Evaluate a random sample of N.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    seeds: SeedsOpt = None,
    index: IndexOpt = None,
) -> None:
    """Measure retrieval (recall@k, MRR), answers (contains, F1, language, refusals,
    citations) and latency on a data set."""
    import random

    from rag.measure.evaluation import evaluate, evaluation_pipeline, markdown, summarize

    with _user_errors():
        settings = _settings(seeds, index)
        pipeline, questions = evaluation_pipeline(settings, dataset)
        if limit:
            questions = random.Random(seed).sample(questions, min(limit, len(questions)))
        if no_llm:
            _ensure_index(pipeline)
        else:
            _warm_up(pipeline)
        with _progress("Questions") as progress:
            results = evaluate(pipeline, questions, not no_llm, progress)
        used = {
            "dataset": str(dataset),
            "limit": limit,
            "seed": seed,
            "llm": not no_llm,
            **{
                k: getattr(settings, k)
                for k in (
                    "top_k",
                    "min_score",
                    "passage_margin",
                    "answer_mode",
                    "keyword_weight",
                    "embedder_dtype",
                    "embedder_backend",
                    "chunk_max_chars",
                    "chunk_overlap_sentences",
                    "temperature",
                    "max_answer_tokens",
                )
            },
            "model": pipeline.model_names,
        }
        if not no_llm:
            used["answer_mode"] = pipeline.answer_mode
        summary = summarize(results, used)
        _print_report(markdown(summary), summary, report)


@app.command("eval-time")
def evaluate_time_command(
    dataset: Annotated[Path, typer.Option(help="Questions about time.")] = (
        PROJECT_ROOT / "tests" / "data" / "time_qa.json"
    ),
    corpus: Annotated[Path, typer.Option(help="The dated articles they are about.")] = (
        PROJECT_ROOT / "tests" / "data" / "dated"
    ),
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
) -> None:
    """Measure retrieval of questions about time (recall@1 and @3) with the question's
    time words applied as a window of publication dates, and without."""
    from rag.measure.time_questions import evaluate_time, markdown, time_pipeline

    with _user_errors():
        pipeline = time_pipeline(get_settings(), corpus)
        with _progress("Questions") as progress:
            data = evaluate_time(pipeline, dataset, progress)
        _print_report(markdown(data), data, report)


@app.command()
def bench(
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    questions: Annotated[
        Path, typer.Option(help="Questions in the seeds_qa.json format.")
    ] = PROJECT_ROOT / "tests" / "data" / "seeds_qa.json",
    corpus: Annotated[
        Path, typer.Option(help="SQuAD file whose contexts, with the seeds, are indexed.")
    ] = PROJECT_ROOT / "tests" / "data" / "arcd-sample.json",
    app_memory: Annotated[
        bool, typer.Option("--app/--no-app", help="Measure the peak memory of python app.py.")
    ] = True,
    limit: Annotated[int | None, typer.Option(help="Use only the first N questions.")] = None,
    scale: Annotated[
        bool,
        typer.Option(
            "--scale", help="Measure the index on synthetic archives instead (see --sizes)."
        ),
    ] = False,
    sizes: Annotated[
        str, typer.Option(help="--scale: archive sizes in passages, comma-separated.")
    ] = "10000,100000,1000000",
    old_up_to: Annotated[
        int, typer.Option(help="--scale: measure the old design up to this size.")
    ] = 10_000,
    embedder: Annotated[
        bool, typer.Option("--embedder/--no-embedder", help="--scale: time the embedder too.")
    ] = True,
    plot: Annotated[Path | None, typer.Option(help="--scale: write the PNG plot here.")] = (
        PROJECT_ROOT / "artifacts" / "scale.png"
    ),
    load: Annotated[
        bool,
        typer.Option(
            "--load", help="Measure concurrent users through the API instead (see --users)."
        ),
    ] = False,
    users: Annotated[str, typer.Option(help="--load: user counts, comma-separated.")] = "1,4,16",
    per_user: Annotated[int, typer.Option(help="--load: questions each user asks.")] = 2,
    slots: Annotated[int, typer.Option(help="--load: llama-server's parallel slots.")] = 4,
    keyword_shards: Annotated[
        str | None,
        typer.Option(
            "--keyword-shards",
            help="Measure keyword (BM25) retrieval with shard-local statistics against one "
            "index instead, over --corpus's contexts only, for these shard counts "
            "(comma-separated, e.g. 2,4).",
        ),
    ] = None,
    served: Annotated[
        int | None,
        typer.Option(
            "--served",
            min=1,
            help="Measure retrieval through this many Ray Serve shards against in-process "
            "instead, over --corpus's index.",
        ),
    ] = None,
) -> None:
    """Measure indexing, retrieval, prompt processing, generation, time to first token and
    memory, next to raw llama.cpp and plain fp32 sentence-transformers. With --scale:
    the index at growing archive sizes, next to the design it replaced. With --load:
    concurrent users, with the in-process LLM and with llama.cpp's server. With
    --keyword-shards: BM25 over article-wise shards, merged by score, against one index.
    With --served: retrieval through Ray Serve shards against in-process."""
    with _user_errors():
        if served:
            from rag.measure.served_latency import markdown, measure

            data = measure(
                get_settings(), corpus, served, limit or 100, lambda s: err.print(s, markup=False)
            )
            path = report or PROJECT_ROOT / "artifacts" / "served.json"
            _print_report(markdown(data), data, path)
            return
        if keyword_shards:
            _bench_keyword_shards(report, corpus, keyword_shards, limit)
            return
        if scale:
            _bench_scale(report, sizes, old_up_to, embedder, plot)
            return
        if load:
            _bench_load(report, questions, users, per_user, slots, limit)
            return
        from rag.measure.bench import markdown, run_bench

        with err.status("Benchmarking…") as status:
            data = run_bench(
                get_settings(),
                questions,
                corpus,
                app_memory,
                limit,
                lambda step: status.update(f"Benchmarking: {step}…"),
            )
        profile = data["machine"]["profile"]
        default = "bench.json" if profile == "native" else f"bench-{profile}.json"
        _print_report(markdown(data), data, report or PROJECT_ROOT / "artifacts" / default)


def _bench_load(
    report: Path | None,
    questions: Path,
    users: str,
    per_user: int,
    slots: int,
    limit: int | None,
) -> None:
    import tempfile

    from rag.measure.load import markdown, run_load

    try:
        counts = [int(u) for u in users.split(",")]
    except ValueError:
        raise NabaaError(f"--users takes numbers separated by commas, not {users!r}.") from None
    if not counts or min(counts) < 1 or max(counts) > 64 or not 1 <= per_user <= 20:
        raise NabaaError("--users: 1 to 64 users; --per-user: 1 to 20 questions.")
    pool = [q["question"] for q in json.loads(questions.read_text(encoding="utf-8"))["questions"]]
    with tempfile.TemporaryDirectory(prefix="nabaa-load-") as work:
        data = run_load(
            get_settings(),
            pool[:limit],
            counts,
            per_user,
            slots,
            Path(work),
            lambda step: err.print(step, markup=False),
        )
    _print_report(markdown(data), data, report or PROJECT_ROOT / "artifacts" / "bench-load.json")


def _bench_keyword_shards(
    report: Path | None, corpus: Path, shards: str, limit: int | None
) -> None:
    import tempfile

    from rag.measure.keyword_shards import markdown, measure

    try:
        counts = [int(n) for n in shards.split(",")]
    except ValueError:
        raise NabaaError(
            f"--keyword-shards takes numbers separated by commas, not {shards!r}."
        ) from None
    if not counts or min(counts) < 1 or max(counts) > 64:
        raise NabaaError("--keyword-shards: 1 to 64 shards.")
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="nabaa-shards-") as work:
        data = measure(
            corpus,
            counts,
            Path(work),
            settings.chunk_max_chars,
            settings.chunk_overlap_sentences,
            limit,
            lambda step: err.print(step, markup=False),
        )
    path = report or PROJECT_ROOT / "artifacts" / "keyword-shards.json"
    _print_report(markdown(data), data, path)


def _bench_scale(
    report: Path | None, sizes: str, old_up_to: int, with_embedder: bool, plot: Path | None
) -> None:
    from rag.measure.scale import markdown, plot_report, run_scale

    try:
        counts = [int(s) for s in sizes.split(",")]
    except ValueError:
        raise NabaaError(f"--sizes takes numbers separated by commas, not {sizes!r}.") from None
    if not counts or min(counts) < 100:
        raise NabaaError("--sizes: each archive needs at least 100 passages.")
    embedder = Pipeline(get_settings()).embedder if with_embedder else None
    data = run_scale(counts, old_up_to, embedder, lambda step: err.print(step, markup=False))
    _print_report(markdown(data), data, report or PROJECT_ROOT / "artifacts" / "scale.json")
    if plot:
        plot_report(data, plot)
        err.print(f"Plot written to {escape(str(plot))}")


@app.command()
def models() -> None:
    """Fetch, assemble and verify the default models (or check the configured ones)."""
    from rag.models.model_store import ensure_embedder, ensure_llm

    with _user_errors():
        settings = get_settings()
        out.print(f"Embedder: {ensure_embedder(settings)}")
        out.print(f"LLM: {ensure_llm(settings)}")


def main() -> None:
    """Entry point for ``python -m rag``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger("nabaa").addHandler(handler)
    app()
