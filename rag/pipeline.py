"""The one API the CLI and the web UI share: seeds → index → retrieval → prompt → answer.

``Pipeline.ask_stream`` yields answer text as it is generated and finishes with an
``Answer`` carrying the cleaned text, its citations and timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import cached_property

from rag.articles import save_article
from rag.chunking import Passage
from rag.citations import claims_citing, clean_citations
from rag.config import Settings
from rag.embeddings import Embedder, resolve_dtype
from rag.errors import IndexCorruptError, NabaaError
from rag.generation import LLM, loop_start
from rag.index import (
    Index,
    UpdateReport,
    chunking_settings,
    load_index,
    stale_reason,
    update_index,
)
from rag.language import answer_language, detect_language
from rag.memory import limit_heap_growth, release_free_memory
from rag.model_store import DEFAULT_LLM, ensure_embedder, ensure_llm
from rag.prompts import REFUSAL_MARKER, REFUSALS, Turn, build_messages, fixed_messages
from rag.support import SentenceScorer, ground_citations

LANGUAGE_LABELS = {
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "ru": "Russian",
    "tr": "Turkish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}


@dataclass
class Hit:
    """A retrieved passage with its rank and cosine similarity to the question."""

    rank: int
    passage: Passage
    score: float

    def to_json(self) -> dict:
        """The ``retrieve --json`` form of a passage."""
        p = self.passage
        return {
            "rank": self.rank,
            "doc_id": p.doc_id,
            "title": p.title,
            "passage_id": p.passage_id,
            "text": p.text,
            "start": p.start,
            "end": p.end,
            "score": round(self.score, 4),
        }


@dataclass
class Citation:
    """A passage the answer cites as ``[n]``, with the sentence that supports it."""

    n: int
    doc_id: str
    title: str
    passage_id: str
    text: str
    start: int
    end: int
    score: float
    sentence_start: int
    sentence_end: int


@dataclass
class Retrieval:
    """The question as understood and the passages found for it."""

    question: str
    language: str
    hits: list[Hit]
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The ``retrieve --json`` object."""
        return {
            "question": self.question,
            "language": self.language,
            "passages": [h.to_json() for h in self.hits],
        }


@dataclass
class Answer:
    """A finished answer; ``to_json`` is the ``ask --json`` contract."""

    question: str
    language: str
    answer: str
    refused: bool
    citations: list[Citation]
    timings: dict[str, float]
    model: dict[str, str]
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The ``ask --json`` object."""
        data = asdict(self)
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        for c in data["citations"]:
            c["score"] = round(c["score"], 4)
        return data


def _is_refusal_prefix(text: str) -> bool:
    stripped = text.strip()
    return REFUSAL_MARKER.startswith(stripped) or stripped.startswith(REFUSAL_MARKER)


class Pipeline:
    """Loads models and the index lazily; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: Index | None = None
        self._index_lock = threading.Lock()
        self.notices: list[str] = []
        self._on_status: Callable[[str], None] = lambda _message: None
        limit_heap_growth()

    def _model_progress(self, name: str, done: int, total: int | None) -> None:
        of = f" of {total / 2**20:,.0f}" if total else ""
        self._on_status(f"Assembling {name} (first run only): {done / 2**20:,.0f}{of} MB")

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model (assembled on first use if it is the default one)."""
        s = self.settings
        embedder = Embedder(
            ensure_embedder(s, self._model_progress),
            dtype=resolve_dtype(s.embedder_dtype),
            backend=s.embedder_backend,
            export_root=s.models_dir / "openvino",
        )
        release_free_memory()  # what loading the weights left behind
        return embedder

    @cached_property
    def llm(self) -> LLM:
        """The LLM (assembled on first use if it is the default one)."""
        s = self.settings
        llm = LLM(
            ensure_llm(s, self._model_progress),
            n_ctx=s.n_ctx,
            n_threads=s.n_threads,
            n_gpu_layers=s.resolved_gpu_layers,
            n_ubatch=s.n_ubatch,
            seed=s.seed,
            use_mmap=s.llm_mmap,
            repeat_penalty=s.repeat_penalty,
        )
        llm.prime(fixed_messages())
        return llm

    @property
    def model_names(self) -> dict[str, str]:
        """Names of the models in use, for answers and the UI."""
        llm_path = self.settings.llm_path
        return {
            "llm": llm_path.name if llm_path else DEFAULT_LLM.target,
            "embedder": self.embedder.model_id,
        }

    # Index -----------------------------------------------------------------

    def update_index(self, on_progress: Callable[[int, int], None] | None = None) -> UpdateReport:
        """Bring the index in line with the seeds folder (only changed articles re-embedded)."""
        s = self.settings
        with self._index_lock:
            report = update_index(
                s.seeds_dir,
                s.index_dir,
                self.embedder,
                s.chunk_max_chars,
                s.chunk_overlap_sentences,
                on_progress,
            )
            self._index = load_index(s.index_dir)
        return report

    @property
    def index(self) -> Index:
        """The loaded index; built first (with a notice) if it is missing or damaged."""
        if self._index is not None:
            return self._index
        return self._load_or_build_index(None)

    def _load_or_build_index(self, on_progress: Callable[[int, int], None] | None) -> Index:
        try:
            loaded = load_index(self.settings.index_dir)
        except IndexCorruptError as exc:
            self.notices.append(f"{exc} Rebuilding it.")
            loaded = None
        else:
            if loaded is None:
                self.notices.append(f"No index in {self.settings.index_dir}: building it now.")
        s = self.settings
        chunking = chunking_settings(s.chunk_max_chars, s.chunk_overlap_sentences)
        if loaded is not None and (
            reason := stale_reason(loaded, self.embedder.model_id, chunking)
        ):
            self.notices.append(f"Rebuilding the index: {reason}.")
            loaded = None
        if loaded is None:
            report = self.update_index(on_progress)
            self.notices.append(report.summary())
            return self._index
        self._index = loaded
        return loaded

    def warm_up(self, on_status: Callable[[str], None] | None = None) -> None:
        """Load the index and both models and prime llama.cpp's cache with the fixed prompt.

        Afterwards the first question costs what every later one does. ``on_status``
        hears what is happening, with progress, while models are assembled or indexed.
        """
        if on_status:
            self._on_status = on_status
        self._on_status("Loading the embedding model (the first run also exports it)…")
        self.embedder.embed_query("warm up")
        self._on_status("Loading the index…")
        if self._index is None:
            self._load_or_build_index(
                lambda done, total: self._on_status(f"Indexing articles: {done}/{total} passages")
            )
        self._on_status("Loading the language model…")
        self.llm  # noqa: B018 - loading it primes its cache
        self._on_status("Ready")

    def add_article(self, name: str, data: bytes) -> str:
        """Validate an uploaded article and save it into the seeds folder.

        Returns the file name it was saved under (a new name if one with other content
        exists). Raises NabaaError saying why a file is rejected. Call ``update_index``
        afterwards to index it.
        """
        return save_article(self.settings.seeds_dir, name, data, self.settings.max_upload_bytes)

    def articles(self) -> list[dict[str, str | int]]:
        """The indexed articles: id, title, passage count and when each was indexed."""
        return [
            {
                "doc_id": doc_id,
                "title": a.title,
                "passages": a.n_passages,
                "indexed_at": a.indexed_at,
            }
            for doc_id, a in self.index.manifest.articles.items()
        ]

    # Questions ---------------------------------------------------------------

    def _prepare(self, question: str) -> tuple[str, str, list[str]]:
        question = " ".join(question.split())
        if not question:
            raise NabaaError("The question is empty: type a question about the articles.")
        notices: list[str] = []
        limit = self.settings.max_question_chars
        if len(question) > limit:
            notices.append(
                f"The question was {len(question):,} characters; only the first "
                f"{limit:,} were used."
            )
            question = question[:limit]
        language = detect_language(question)
        if answer_language(language) != language:
            label = LANGUAGE_LABELS.get(language, language)
            notices.append(
                f"The question looks like {label}; Nabaa answers in English or "
                "Arabic, so the answer is in English."
            )
        return question, language, notices

    def retrieve(
        self, question: str, k: int | None = None, history: Sequence[Turn] = ()
    ) -> Retrieval:
        """The ``k`` passages most similar to the question (and the previous question)."""
        question, language, notices = self._prepare(question)
        k = k or self.settings.top_k
        index = self.index
        queries = [question]
        if history:
            queries.append(f"{history[-1].question} {question}")
        hybrid = self.settings.keyword_weight > 0 and language in self.settings.hybrid_languages
        best: dict[str, tuple[Passage, float, float]] = {}
        for query in queries:
            vector = self.embedder.embed_query(query)
            found = (
                index.hybrid_search(vector, query, k, self.settings.keyword_weight)
                if hybrid
                else index.search(vector, k)
            )
            for passage, cosine, rank_key in found:
                seen = best.get(passage.passage_id)
                if seen is None or seen[2] < rank_key:
                    best[passage.passage_id] = (passage, cosine, rank_key)
        ranked = sorted(best.values(), key=lambda found: -found[2])[:k]
        hits = [Hit(rank=i, passage=p, score=s) for i, (p, s, _) in enumerate(ranked, start=1)]
        return Retrieval(question=question, language=language, hits=hits, notices=notices)

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer as they are generated, then the finished ``Answer``."""
        s = self.settings
        started = time.perf_counter()
        retrieval = self.retrieve(question, top_k, history)
        timings = {"retrieve_s": time.perf_counter() - started}
        language = answer_language(retrieval.language)
        relevant = [h for h in retrieval.hits if h.score >= s.min_score]

        def finish(text: str, refused: bool, citations: list[Citation]) -> Answer:
            timings.setdefault("first_token_s", time.perf_counter() - started)
            timings["total_s"] = time.perf_counter() - started
            return Answer(
                question=retrieval.question,
                language=retrieval.language,
                answer=text,
                refused=refused,
                citations=citations,
                timings=timings,
                model=self.model_names,
                notices=retrieval.notices,
            )

        if not relevant:
            yield REFUSALS[language]
            yield finish(REFUSALS[language], True, [])
            return

        max_tokens = max_tokens or s.max_answer_tokens
        messages, shown = build_messages(
            retrieval.question,
            [h.passage for h in relevant],
            history[-s.history_turns :],
            language,
            self.llm.count_tokens,
            budget=s.n_ctx - max_tokens,
        )
        score_of = {h.passage.passage_id: h.score for h in relevant}
        raw = ""
        held = True  # hold back text while it could still be the refusal marker
        temperature = s.temperature if temperature is None else temperature
        with closing(self.llm.stream_chat(messages, max_tokens, temperature)) as stream:
            for piece in stream:
                timings.setdefault("first_token_s", time.perf_counter() - started)
                raw += piece
                cut = loop_start(raw)
                if cut is not None:
                    raw = raw[:cut]
                    break
                if held and _is_refusal_prefix(raw):
                    continue
                if held:
                    held = False
                    yield raw
                else:
                    yield piece

        text, cited = clean_citations(raw, len(shown))
        if REFUSAL_MARKER in raw or not text:
            yield REFUSALS[language]
            yield finish(REFUSALS[language], True, [])
            return
        if held:
            yield raw
        scorer = SentenceScorer(self.embedder, shown, retrieval.question)
        text, cited = ground_citations(text, cited, scorer)
        citations = []
        for n in cited:
            passage = shown[n - 1]
            claim = " ".join(claims_citing(text, n)) or text
            (sentence_start, sentence_end), _ = scorer.best_sentence(claim, n)
            citations.append(
                Citation(
                    n=n,
                    doc_id=passage.doc_id,
                    title=passage.title,
                    passage_id=passage.passage_id,
                    text=passage.text,
                    start=passage.start,
                    end=passage.end,
                    score=score_of[passage.passage_id],
                    sentence_start=sentence_start,
                    sentence_end=sentence_end,
                )
            )
        yield finish(text, False, citations)

    def ask(self, question: str, history: Sequence[Turn] = (), **options: object) -> Answer:
        """The finished answer to ``question`` (see ``ask_stream`` for the options)."""
        for event in self.ask_stream(question, history, **options):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ended without an Answer")
