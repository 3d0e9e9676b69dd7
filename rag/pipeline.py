"""The one API the CLI and the web UI share: seeds → index → retrieval → prompt → answer.

``Pipeline.ask_stream`` yields answer text as it is generated and finishes with an
``Answer`` carrying the cleaned text, its citations and timings.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import cached_property

from rag.answer.checks import passages_language, supported
from rag.answer.citations import add_markers, claims_citing, clean_citations, strip_markers
from rag.answer.extractive import Copied, SpanConstraint, compose
from rag.answer.mentions import unmentioned
from rag.answer.names import check_names, respell
from rag.answer.prompts import (
    QUOTE_INSTRUCTION,
    REFUSAL_MARKER,
    REFUSALS,
    TRANSLATE_INSTRUCTION,
    Turn,
    build_messages,
    fixed_messages,
)
from rag.answer.questions import check_top_k, off_task, prepare_question
from rag.answer.support import SentenceScorer, ground_citations
from rag.config import Settings
from rag.errors import IndexCorruptError, NabaaError, OldIndexFormatError
from rag.ingest.articles import save_article
from rag.ingest.chunking import Passage
from rag.ingest.formats.meta import ArticleMeta
from rag.models.embeddings import Embedder
from rag.models.generation import LLM, loop_start
from rag.models.memory import limit_heap_growth, release_free_memory
from rag.models.model_store import DEFAULT_LLM, embedder_loader, ensure_llm, remedy
from rag.models.remote_llm import RemoteLLM
from rag.store.catalog import META_COLUMNS
from rag.store.index import (
    UpdateReport,
    chunking_settings,
    compact_index,
    load_index,
    stale_reason,
    update_index,
)
from rag.store.store import PassageReader, SegmentStore
from rag.store.window import Window, explicit_window, notice, question_window
from rag.text.language import answer_language


@dataclass
class Hit:
    """A retrieved passage with its rank and cosine similarity to the question."""

    rank: int
    passage: Passage
    score: float
    # What its article's file says (publication date, source, address…).
    meta: ArticleMeta = field(default_factory=ArticleMeta)

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
            "published": self.meta.published,
            "source": self.meta.source,
            "url": self.meta.url,
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
    # The words the answer copied from the passage (for an English answer about an Arabic
    # article: the Arabic it was written from); empty for a freely written answer.
    quote: str = ""
    # Its article's publication date (ISO; None when the article gives none), outlet and
    # address.
    published: str | None = None
    source: str | None = None
    url: str | None = None


def relevant_hits(hits: Sequence[Hit], min_score: float, margin: float) -> list[Hit]:
    """The hits to show the model: those scoring at least ``min_score``, and no more than
    ``margin`` below the best-ranked one."""
    relevant = [h for h in hits if h.score >= min_score]
    return [h for h in relevant if h.score >= relevant[0].score - margin]


@dataclass
class Retrieval:
    """The question as understood and the passages found for it."""

    question: str
    language: str
    hits: list[Hit]
    notices: list[str] = field(default_factory=list)
    # The articles searched: None for all of them.
    window: Window | None = None
    # The question without the time words its window was read from: what the passages
    # must answer (they need not say "in June 2025"; the window saw to that).
    topic: str = ""

    def __post_init__(self) -> None:
        self.topic = self.topic or self.question

    def to_json(self) -> dict:
        """The ``retrieve --json`` object."""
        return {
            "question": self.question,
            "language": self.language,
            "filters": self.window.to_json() if self.window else None,
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
    # The articles searched (``retrieve --json``'s filters), None for all of them.
    filters: dict[str, str | None] | None = None
    # What the checks found: "refused_by" (score, unmentioned, model, refusal_logprob,
    # support, empty) and "refusal_logprob" (log P(refusal) at an extractive answer's
    # first step).
    checks: dict[str, float | str] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The ``ask --json`` object."""
        data = asdict(self)
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        for c in data["citations"]:
            c["score"] = round(c["score"], 4)
        return data


# An answer: its text, what it copied from each cited passage, notices for the user.
Written = tuple[str, list["Copied"], list[str]]

NOT_MENTIONED = {
    "en": "The passages found for this question never mention {}.",
    "ar": "لا تذكر المقاطع التي وُجدت لهذا السؤال: {}.",
}
OFF_TASK = {
    "en": "Nabaa answers questions about the articles; it does not take other instructions.",
    "ar": "يجيب نبأ عن الأسئلة حول المقالات، ولا ينفّذ تعليمات أخرى.",
}
DATES_DIFFER = {
    "en": "The cited articles were published on different dates: {}.",
    "ar": "نُشرت المقالات المستشهد بها في تواريخ مختلفة: {}.",
}
NO_DATE = {"en": "no date", "ar": "بلا تاريخ"}


def dates_notice(citations: Sequence[Citation], language: str) -> str | None:
    """Names the date of each cited article when they were published on different days."""
    dated = {c.n: c.published for c in citations}
    if len({d for d in dated.values() if d}) < 2:
        return None
    undated = NO_DATE.get(language, NO_DATE["en"])
    listed = ", ".join(f"[{n}] {d or undated}" for n, d in sorted(dated.items()))
    return DATES_DIFFER.get(language, DATES_DIFFER["en"]).format(listed)


def _without_loop(pieces: Iterable[str]) -> str:
    """The text of a stream, cut where it starts repeating itself."""
    raw = ""
    for piece in pieces:
        raw += piece
        cut = loop_start(raw)
        if cut is not None:
            return raw[:cut]
    return raw


def _is_refusal_prefix(text: str) -> bool:
    stripped = text.strip()
    return REFUSAL_MARKER.startswith(stripped) or stripped.startswith(REFUSAL_MARKER)


class Pipeline:
    """Loads models and the index lazily; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: SegmentStore | None = None
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
        embedder = embedder_loader(self.settings, self._model_progress)()
        release_free_memory()  # what loading the weights left behind
        return embedder

    @cached_property
    def llm(self) -> LLM | RemoteLLM:
        """The LLM: the server at ``llm_url`` if set, else the GGUF in this process
        (assembled on first use if it is the default one)."""
        s = self.settings
        if s.llm_url:
            key = s.llm_api_key.get_secret_value() if s.llm_api_key else ""
            return RemoteLLM(s.llm_url, s.n_ctx, s.llm_timeout_s, key)
        llm = LLM(
            ensure_llm(s, self._model_progress),
            n_ctx=s.n_ctx,
            n_threads=s.n_threads,
            n_gpu_layers=s.resolved_gpu_layers,
            n_ubatch=s.n_ubatch,
            seed=s.seed,
            use_mmap=s.llm_mmap,
            repeat_penalty=s.repeat_penalty,
            remedy=remedy(s.llm_path, "NABAA_LLM_PATH"),
        )
        llm.prime(fixed_messages())
        return llm

    @property
    def model_names(self) -> dict[str, str]:
        """Names of the models in use, for answers and the UI."""
        s = self.settings
        local = s.llm_path.name if s.llm_path else DEFAULT_LLM.target
        return {
            "llm": self.llm.name if s.llm_url else local,
            "embedder": self.embedder.model_id,
        }

    @property
    def answer_mode(self) -> str:
        """The setting, except that an LLM server cannot copy: its answers are written
        and checked ("generative")."""
        return self.settings.answer_mode if self.llm.copies else "generative"

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
            self._index = load_index(s.index_dir, self._index)
        return report

    def compact_index(self) -> bool:
        """Merge the index's segments into one and drop deleted passages."""
        with self._index_lock:
            merged = compact_index(self.settings.index_dir)
            self._index = load_index(self.settings.index_dir, self._index)
        return merged

    @property
    def index(self) -> SegmentStore:
        """The loaded index; built first (with a notice) if it is missing or damaged."""
        if self._index is not None:
            return self._index
        return self._load_or_build_index(None)

    def _load_or_build_index(self, on_progress: Callable[[int, int], None] | None) -> SegmentStore:
        try:
            loaded = load_index(self.settings.index_dir)
        except OldIndexFormatError as exc:
            self.notices.append(f"{exc} Converting it.")
            loaded = None
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

    @property
    def store(self) -> PassageReader:
        """What retrieval reads: the shards served on the cluster when NABAA_CLUSTER is
        set, else the local index (built first if it is missing)."""
        return self._served if self.settings.cluster else self.index

    @cached_property
    def _served(self) -> PassageReader:
        from rag.store.served import ServedStore  # imports Ray Serve

        served = ServedStore.connect(self.settings.cluster)
        if served.manifest.embedder != self.embedder.model_id:
            raise NabaaError(
                f"The shards on {self.settings.cluster} were built with embedder "
                f"{served.manifest.embedder}, this app uses {self.embedder.model_id}."
            )
        return served

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
        if self.settings.cluster:
            self.store  # noqa: B018 - connects to the served shards
        elif self._index is None:
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

    def articles(self) -> list[dict[str, str | int | None]]:
        """The indexed articles, newest first (undated ones last): id, title, passage
        count, when each was indexed, and what its file says (publication date and
        where it was found, source, address, author, language)."""
        rows = [
            {
                "doc_id": doc_id,
                "title": a.title,
                "passages": a.n_passages,
                "indexed_at": a.indexed_at,
                **{c: getattr(a.meta, c) for c in META_COLUMNS},
            }
            for doc_id, a in self.store.articles().items()
        ]
        rows.sort(key=lambda r: r["doc_id"])
        return sorted(rows, key=lambda r: r["published"] or "", reverse=True)

    def sources(self) -> list[str]:
        """The outlets the indexed articles name (for the source filter)."""
        return self.store.sources()

    # Questions ---------------------------------------------------------------

    def retrieve(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[Turn] = (),
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        source: str | None = None,
    ) -> Retrieval:
        """The ``k`` passages most similar to the question (and the previous question),
        from the articles published from ``since`` to ``until`` by ``source`` when given,
        else from those a time expression in the question names (see ``rag.store.window``).
        """
        prepared = prepare_question(question, self.settings.max_question_chars)
        question, language = prepared.text, prepared.language
        k = check_top_k(self.settings.top_k if k is None else k)
        window = explicit_window(since, until, source)
        index = self.store
        notices = prepared.notices
        search_text = question
        among = index.pids_published(*window.key) if window else None
        if window is None and self.settings.time_filter == "auto":
            found = question_window(question, self._time_reference(index))
            if found is not None:
                read, topic = found
                in_window = index.pids_published(*read.key)
                notices.append(notice("applied" if in_window else "empty", language, read))
                if in_window:
                    window, search_text, among = read, topic, in_window
        if among == []:
            notices.append(notice("none", language, window))
            return Retrieval(question, language, [], notices, window)
        queries = [search_text]
        if history:
            queries.append(f"{history[-1].question} {search_text}")
        hybrid = self.settings.keyword_weight > 0 and language in self.settings.hybrid_languages
        best: dict[str, tuple[Passage, float, float]] = {}
        for query in queries:
            vector = self.embedder.embed_query(query)
            found = (
                index.hybrid_search(vector, query, k, self.settings.keyword_weight, among)
                if hybrid
                else index.search(vector, k, among)
            )
            for passage, cosine, rank_key in found:
                seen = best.get(passage.passage_id)
                if seen is None or seen[2] < rank_key:
                    best[passage.passage_id] = (passage, cosine, rank_key)
        ranked = sorted(best.values(), key=lambda found: -found[2])[:k]
        metas = index.article_meta([p.doc_id for p, _, _ in ranked])
        hits = [
            Hit(rank=i, passage=p, score=s, meta=metas.get(p.doc_id, ArticleMeta()))
            for i, (p, s, _) in enumerate(ranked, start=1)
        ]
        return Retrieval(question, language, hits, notices, window, search_text)

    def _time_reference(self, index: PassageReader) -> dt.date:
        """The day relative time words count from: the newest article's, or today."""
        newest = index.newest_date() if self.settings.time_reference == "newest" else None
        return dt.date.fromisoformat(newest) if newest else dt.date.today()

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        source: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer as they are generated, then the finished ``Answer``
        (``since``, ``until`` and ``source`` limit the articles, as in ``retrieve``)."""
        s = self.settings
        started = time.perf_counter()
        retrieval = self.retrieve(question, top_k, history, since, until, source)
        timings = {"retrieve_s": time.perf_counter() - started}
        language = answer_language(retrieval.language)
        relevant = relevant_hits(retrieval.hits, s.min_score, s.passage_margin)

        checks: dict[str, float | str] = {}

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
                filters=retrieval.window.to_json() if retrieval.window else None,
                checks=checks,
            )

        if not relevant:
            checks["refused_by"] = "score"
            yield REFUSALS[language]
            yield finish(REFUSALS[language], True, [])
            return

        passages = [h.passage for h in relevant]
        if off_task(retrieval.question):
            checks["refused_by"] = "off_task"
            retrieval.notices.append(OFF_TASK[language])
        # What the model is shown of each passage: its article's title and its text.
        elif missing := unmentioned(retrieval.topic, [f"{p.title}\n{p.text}" for p in passages]):
            checks["refused_by"] = "unmentioned"
            retrieval.notices.append(NOT_MENTIONED[language].format(", ".join(missing)))
        if checks:
            yield REFUSALS[language]
            yield finish(REFUSALS[language], True, [])
            return

        max_tokens = max_tokens or s.max_answer_tokens
        temperature = s.temperature if temperature is None else temperature
        across = passages_language(passages) != language
        extractive = self.answer_mode == "extractive"
        messages, shown = build_messages(
            retrieval.topic,
            passages,
            history[-s.history_turns :],
            language,
            self.llm.count_tokens,
            budget=self.llm.n_ctx - max_tokens,
            instruction=QUOTE_INSTRUCTION if extractive and across else None,
        )
        score_of = {h.passage.passage_id: h.score for h in relevant}

        def on_piece() -> None:
            timings.setdefault("first_token_s", time.perf_counter() - started)

        if extractive:
            written = yield from self._copy(messages, shown, max_tokens, on_piece, checks)
            if written is not None and across:
                written = self._put_in_words(
                    written, messages, shown, retrieval.topic, max_tokens, temperature
                )
        else:
            written = yield from self._write(
                messages, shown, retrieval.topic, language, max_tokens, temperature, on_piece
            )
            if written is None:
                checks["refused_by"] = "model or support"
        if written is None:
            yield REFUSALS[language]
            yield finish(REFUSALS[language], True, [])
            return
        text, cited, notices = written
        retrieval.notices.extend(notices)
        meta_of = {h.passage.passage_id: h.meta for h in relevant}
        citations = [self._citation(shown[c.n - 1], c, score_of, meta_of) for c in cited]
        if differ := dates_notice(citations, language):
            retrieval.notices.append(differ)
        yield finish(text, False, citations)

    def _citation(
        self,
        passage: Passage,
        copied: Copied,
        score_of: dict[str, float],
        meta_of: dict[str, ArticleMeta],
    ) -> Citation:
        """A citation of ``passage``: the sentence holding the copied words is its support."""
        meta = meta_of[passage.passage_id]
        at = passage.start + copied.start
        sentence_start, sentence_end = next(
            ((a, b) for a, b in passage.sentences if a <= at < b), (passage.start, passage.end)
        )
        return Citation(
            n=copied.n,
            doc_id=passage.doc_id,
            title=passage.title,
            passage_id=passage.passage_id,
            text=passage.text,
            start=passage.start,
            end=passage.end,
            score=score_of[passage.passage_id],
            sentence_start=sentence_start,
            sentence_end=sentence_end,
            quote=copied.quote,
            published=meta.published,
            source=meta.source,
            url=meta.url,
        )

    def _copy(
        self,
        messages: list[dict[str, str]],
        shown: list[Passage],
        max_tokens: int,
        on_piece: Callable[[], None],
        checks: dict[str, float | str],
    ) -> Generator[str, None, Written | None]:
        """Stream an answer copied from ``shown``; None when the model refuses, or when
        its probability of refusing is above the setting."""
        constraint = None
        stream = self.llm.stream_extract(messages, [p.text for p in shown], max_tokens)
        with closing(stream):
            for event in stream:
                if isinstance(event, SpanConstraint):
                    constraint = event
                else:
                    on_piece()
                    yield event
        logprob = constraint.refusal_logprob
        if logprob is not None:
            checks["refusal_logprob"] = round(logprob, 3)
        if constraint.refused or not constraint.segments:
            checks["refused_by"] = "model" if constraint.refused else "empty"
            return None
        if logprob is not None and logprob > self.settings.refusal_logprob:
            checks["refused_by"] = "refusal_logprob"
            return None
        text, cited = compose(constraint)
        return text, cited, []

    def _put_in_words(
        self,
        quoted: Written,
        messages: list[dict[str, str]],
        shown: list[Passage],
        question: str,
        max_tokens: int,
        temperature: float,
    ) -> Written:
        """The answer in the question's language, written from the quote; the quote itself
        when the answer names anyone the cited passages do not (a name the model
        misspelled next to its Arabic spelling is spelled from the Arabic instead)."""
        quote, cited, _ = quoted
        follow_up = [
            *messages,
            {"role": "assistant", "content": quote},
            {"role": "user", "content": TRANSLATE_INSTRUCTION},
        ]
        with closing(self.llm.stream_follow_up(follow_up, max_tokens, temperature)) as stream:
            raw = _without_loop(stream)
        words = strip_markers(raw).replace(REFUSAL_MARKER, "").strip()
        source = "\n".join(shown[c.n - 1].text for c in cited)
        checked = respell(words, source, allowed=question) if words else None
        if checked is None:
            unmatched = ", ".join(check_names(words, source, allowed=question).unmatched)
            notice = (
                f"The English answer named {unmatched or 'nothing'}, which the cited passages do "
                "not, so the article's own words are shown instead."
            )
            return quote, cited, [notice]
        words = checked
        return add_markers(words, [c.n for c in cited]), cited, []

    def _write(
        self,
        messages: list[dict[str, str]],
        shown: list[Passage],
        question: str,
        language: str,
        max_tokens: int,
        temperature: float,
        on_piece: Callable[[], None],
    ) -> Generator[str, None, Written | None]:
        """Stream a freely written answer, then ground and check its citations."""
        raw = ""
        held = True  # hold back text while it could still be the refusal marker
        with closing(self.llm.stream_chat(messages, max_tokens, temperature)) as stream:
            for piece in stream:
                on_piece()
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
            return None
        if held:
            yield raw
        scorer = SentenceScorer(self.embedder, shown, question)
        text, cited = ground_citations(text, cited, scorer)
        if not supported(text, cited, shown, language):
            return None
        copied = []
        for n in cited:
            passage = shown[n - 1]
            claim = " ".join(claims_citing(text, n)) or text
            (sentence_start, _), _ = scorer.best_sentence(claim, n)
            at = sentence_start - passage.start
            copied.append(Copied(n, "", at, at))
        return text, copied, []

    def ask(self, question: str, history: Sequence[Turn] = (), **options: object) -> Answer:
        """The finished answer to ``question`` (see ``ask_stream`` for the options)."""
        for event in self.ask_stream(question, history, **options):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ended without an Answer")
