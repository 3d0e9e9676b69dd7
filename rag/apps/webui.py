"""Browser interface: a thin Gradio shell over ``rag.pipeline.Pipeline``.

It renders what the pipeline returns (answers, citations, articles, progress) and
holds no question-answering logic of its own. Every message is laid out in its own
direction (``dir="auto"``), so Arabic reads right-to-left and English left-to-right.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from fastapi import FastAPI
from starlette.routing import Mount

from rag.answer.prompts import Turn
from rag.apps.login import LoginGuard
from rag.apps.service import Service
from rag.config import Settings
from rag.errors import NabaaError
from rag.ingest.articles import ARTICLE_SUFFIXES
from rag.pipeline import Answer, Citation

log = logging.getLogger("nabaa.web")

EXAMPLES = [
    "Who is the president of Kazakhstan?",
    "How many countries does Lukashenko say are at war with Russia?",
    "ما هو موقف لوكاشينكو من استخدام الأسلحة النووية؟",
    "من وقع اتفاقية نشر الأسلحة النووية الروسية في بيلاروسيا؟",
]

# Clicking a [n] marker opens its passage in the sources panel (and the group it is in).
HEAD = """<script>
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a.cite');
  if (!link) return;
  event.preventDefault();
  const source = document.getElementById(link.getAttribute('href').slice(1));
  if (!source) return;
  for (let el = source; el; el = el.parentElement) { if (el.tagName === 'DETAILS') el.open = true; }
  document.querySelectorAll('details.source.active').forEach((d) => d.classList.remove('active'));
  source.classList.add('active');
  source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
});
</script>"""

CSS = """
a.cite { text-decoration: none; font-weight: 600; padding: 0 2px; border-radius: 4px;
         background: var(--color-accent-soft); cursor: pointer; unicode-bidi: isolate; }
details.source { border: 1px solid var(--border-color-primary); border-radius: 8px;
                 padding: 6px 10px; margin-bottom: 8px; }
details.source.active { border-color: var(--color-accent); }
details.source summary { cursor: pointer; font-weight: 600; }
details.source .passage { line-height: 1.9; margin-top: 6px; }
details.source mark { background: #fde68a; color: inherit; padding: 1px 2px; }
.score { font-weight: 400; opacity: .7; font-size: .9em; }
.older > summary { opacity: .8; }
.notice { opacity: .8; font-size: .9em; }
blockquote.quote { margin: 6px 0 0; padding: 2px 10px; border-inline-start: 3px solid
                   var(--color-accent-soft); opacity: .9; }
#question textarea { unicode-bidi: plaintext; text-align: start; }
"""


@dataclass
class Conversation:
    """One browser session's conversation: the turns and the answers with their sources."""

    turns: list[Turn] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


def _directed(inner: str, css_class: str = "") -> str:
    # The chat renders HTML, never Markdown: `inner` is escaped text plus our own tags.
    attribute = f' class="{css_class}"' if css_class else ""
    return f'<div dir="auto"{attribute}>{inner.replace(chr(10), "<br>")}</div>'


def _text(text: str) -> str:
    """``text`` as it must show in the chat: escaped, no Markdown, in its own direction."""
    return _directed(html.escape(text, quote=False))


_ARABIC_RUN = re.compile(r"[\u0600-\u06FF]+(?:[\s،]+[\u0600-\u06FF]+)*")
_LATIN_RUN = re.compile(r"(?<![&\w])[A-Za-z][A-Za-z0-9'\-]*(?:\s+[A-Za-z0-9][A-Za-z0-9'\-]*)*")


def _isolate_runs(escaped: str, language: str) -> str:
    """Wrap runs of the other script in their own direction, so mixed text stays in order."""
    if language == "ar":
        return _LATIN_RUN.sub(lambda m: f'<span dir="ltr">{m.group(0)}</span>', escaped)
    return _ARABIC_RUN.sub(lambda m: f'<span dir="rtl">{m.group(0)}</span>', escaped)


def _cited_sentence(c: Citation) -> str:
    return c.text[c.sentence_start - c.start : c.sentence_end - c.start]


def render_answer(answer: Answer, turn: int) -> str:
    """The answer as HTML with each ``[n]`` a link to its passage (the sentence on hover)."""
    by_n = {c.n: c for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        c = by_n.get(int(match.group(1)))
        if c is None:
            return match.group(0)
        tip = html.escape(f"{c.title} — {_cited_sentence(c)}", quote=True)
        return f'<a href="#src-{turn}-{c.n}" class="cite" title="{tip}">[{c.n}]</a>'

    body = _isolate_runs(html.escape(answer.answer, quote=False), answer.language)
    body = re.sub(r"\[(\d+)\]", link, body)
    quotes = "".join(
        f'<blockquote class="quote" dir="auto">{html.escape(c.quote)} '
        f'<a href="#src-{turn}-{c.n}" class="cite">[{c.n}]</a></blockquote>'
        for c in answer.citations
        if c.quote and c.quote not in answer.answer
    )
    notices = "".join(f'<p class="notice">{html.escape(n)}</p>' for n in answer.notices)
    return _directed(body + quotes + notices, "answer")


def _render_source(c: Citation, turn: int) -> str:
    before = c.text[: c.sentence_start - c.start]
    after = c.text[c.sentence_end - c.start :]
    passage = (
        f"{html.escape(before)}<mark>{html.escape(_cited_sentence(c))}</mark>{html.escape(after)}"
    )
    about = " · ".join(html.escape(v) for v in (c.published or "no date", c.source) if v)
    return (
        f'<details class="source" id="src-{turn}-{c.n}" dir="auto">'
        f"<summary>[{c.n}] {html.escape(c.title)} "
        f'<span class="score">{about} · score {c.score:.2f} · {html.escape(c.passage_id)}'
        "</span></summary>"
        f'<div class="passage" dir="auto">{passage.replace(chr(10), "<br>")}</div></details>'
    )


def render_sources(conversation: Conversation) -> str:
    """Sources of the last answer, then those of earlier answers folded away."""
    if not conversation.answers:
        return "<p>Sources of each answer appear here. Click a [n] marker to open one.</p>"
    parts = []
    for turn in range(len(conversation.answers) - 1, -1, -1):
        answer = conversation.answers[turn]
        items = "".join(_render_source(c, turn) for c in answer.citations) or (
            "<p>No sources: the articles do not answer this question.</p>"
        )
        if turn == len(conversation.answers) - 1:
            parts.append(f"<h4>Sources of the last answer</h4>{items}")
        else:
            question = html.escape(answer.question[:80])
            parts.append(
                f'<details class="older"><summary dir="auto">Earlier: {question}</summary>'
                f"{items}</details>"
            )
    return "".join(parts)


def render_timings(answer: Answer) -> str:
    """One line of timings and models for the last answer."""
    t = answer.timings
    return (
        f"Retrieval {t['retrieve_s']:.2f} s · first token {t['first_token_s']:.2f} s · "
        f"total {t['total_s']:.2f} s · {answer.model['llm']}"
    )


class WebApp:
    """The Gradio app around the one shared Pipeline of ``service`` (a new one if none is
    given), which answers one request at a time, whichever shell it came from."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.service = service or Service(settings)
        self.pipeline = self.service.pipeline

    def _wait_ready(self) -> None:
        self.service.wait_ready()

    # Chat ------------------------------------------------------------------

    def respond(
        self,
        message: str,
        chat: list[dict],
        conversation: Conversation,
        top_k: int,
        temperature: float,
        max_tokens: int,
        since: str = "",
        until: str = "",
        source: str | None = None,
    ) -> Iterator[tuple]:
        """Stream the answer into the chat; finish with linked citations and sources.
        ``since``, ``until`` and ``source`` limit the articles (empty: all of them)."""
        if not message or not message.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat = [*chat, {"role": "user", "content": _text(message)}]
        chat.append({"role": "assistant", "content": _text("…")})
        yield chat, "", gr.skip(), gr.skip(), conversation
        try:
            self._wait_ready()
            raw = ""
            events = self.service.turns.stream(
                lambda: self.pipeline.ask_stream(
                    message,
                    conversation.turns,
                    top_k=int(top_k),
                    temperature=float(temperature),
                    max_tokens=int(max_tokens),
                    since=since or None,
                    until=until or None,
                    source=source or None,
                )
            )
            for event in events:
                if isinstance(event, Answer):
                    answer = event
                    break
                raw += event
                chat[-1] = {"role": "assistant", "content": _text(raw)}
                yield chat, "", gr.skip(), gr.skip(), conversation
        except NabaaError as exc:
            chat[-1] = {"role": "assistant", "content": _text(f"⚠️ {exc}")}
            yield chat, "", gr.skip(), gr.skip(), conversation
            return
        except Exception as exc:
            log.exception("answering failed")
            text = f"⚠️ Something went wrong: {type(exc).__name__}: {exc}"
            chat[-1] = {"role": "assistant", "content": _text(text)}
            yield chat, "", gr.skip(), gr.skip(), conversation
            return
        conversation.turns.append(Turn(answer.question, answer.answer))
        conversation.answers.append(answer)
        chat[-1] = {
            "role": "assistant",
            "content": render_answer(answer, len(conversation.answers) - 1),
        }
        yield chat, "", render_sources(conversation), render_timings(answer), conversation

    def ask_api(self, question: str) -> dict:
        """One question, no conversation: the ``ask --json`` object."""
        self._wait_ready()
        try:
            with self.service.turns.turn():
                return self.pipeline.ask(question).to_json()
        except NabaaError as exc:
            raise gr.Error(str(exc)) from None

    # Articles --------------------------------------------------------------

    def article_rows(self) -> list[list]:
        """Rows of the articles table, newest first."""
        if not self.service.usable:
            return []
        return [
            [
                a["published"] or "no date",
                a["source"] or "",
                a["title"],
                a["doc_id"],
                a["passages"],
                str(a["indexed_at"]).replace("T", " "),
            ]
            for a in self.pipeline.articles()
        ]

    def _reindex(self, progress: gr.Progress) -> tuple[list[list], str]:
        def on_progress(done: int, total: int) -> None:
            progress((done, total), desc="Embedding passages", unit="passages")

        with self.service.turns.turn(exclusive=True):
            report = self.pipeline.update_index(on_progress)
        return self.article_rows(), html.escape(report.summary()).replace("\n", "<br>")

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple:
        """Validate uploaded articles, save them into seeds/ and index them.

        Every rejection, and an index that cannot be updated, is said in the status,
        so API clients read the reason too.
        """
        lines = []
        try:
            self._wait_ready()
            for path in files or []:
                name = Path(path).name
                try:
                    saved = self.pipeline.add_article(name, Path(path).read_bytes())
                    lines.append(f"✅ {html.escape(name)} saved as seeds/{html.escape(saved)}")
                except NabaaError as exc:
                    lines.append(f"❌ Rejected: {html.escape(str(exc))}")
            rows, summary = self._reindex(progress)
        except NabaaError as exc:
            rows, summary = self.article_rows(), f"❌ {html.escape(str(exc))}"
        return rows, "<br>".join([*lines, summary]), None

    def rescan(self, progress: gr.Progress = gr.Progress()) -> tuple[list[list], str]:
        """Re-read seeds/ and update the index incrementally."""
        try:
            self._wait_ready()
            return self._reindex(progress)
        except NabaaError as exc:
            return self.article_rows(), f"❌ {html.escape(str(exc))}"

    def tick(self) -> tuple:
        """Poll the warm-up status; stop polling once ready."""
        done = self.service.ready.is_set()
        status = self.service.status if not self.service.usable else "Ready"
        names = self.service.model_names()
        models = f"LLM: `{names['llm']}` · embedder: `{names['embedder']}`" if names else ""
        rows = self.article_rows() if done else gr.skip()
        sources = (
            gr.Dropdown(choices=["", *self.pipeline.sources()])
            if self.service.usable
            else gr.skip()
        )
        return (
            f"<b>Status:</b> {html.escape(status)}",
            models,
            rows,
            sources,
            gr.Timer(active=not done),
        )

    # Layout ----------------------------------------------------------------

    def build(self) -> gr.Blocks:
        """The Blocks app."""
        s = self.settings
        with gr.Blocks(title="Nabaa — نبأ") as demo:
            gr.Markdown(
                "## Nabaa · نبأ\nAsk about the articles in English or Arabic. Every answer "
                "cites its passages: click a **[n]** to read the sentence it rests on."
            )
            status = gr.HTML("<b>Status:</b> Starting…", elem_id="status")
            conversation = gr.State(Conversation())
            with gr.Row():
                with gr.Column(scale=3):
                    # Markdown and LaTeX off: text from articles or a question must not
                    # become an image or link that the browser fetches.
                    chatbot = gr.Chatbot(
                        height=520,
                        buttons=["copy"],
                        elem_id="chat",
                        label="Conversation",
                        render_markdown=False,
                        latex_delimiters=[],
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="Ask a question… / اطرح سؤالاً…",
                            show_label=False,
                            scale=5,
                            elem_id="question",
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="send")
                    with gr.Row():
                        gr.Examples(EXAMPLES, inputs=box, label="Examples")
                        new = gr.Button("New conversation", elem_id="new-chat", scale=0)
                    timings = gr.Markdown("", elem_id="timings")
                with gr.Column(scale=2):
                    with gr.Tab("Sources"):
                        sources = gr.HTML(render_sources(Conversation()), elem_id="sources")
                    with gr.Tab("Articles"):
                        articles = gr.Dataframe(
                            headers=["Published", "Source", "Title", "File", "Passages", "Indexed"],
                            interactive=False,
                            wrap=True,
                            elem_id="articles",
                        )
                        limit = f"{s.max_upload_bytes:,} bytes"
                        upload = gr.File(
                            file_count="multiple",
                            file_types=list(ARTICLE_SUFFIXES),
                            type="filepath",
                            label=f"Add articles ({', '.join(ARTICLE_SUFFIXES)}; at most {limit})",
                            elem_id="upload",
                        )
                        rescan = gr.Button("Rescan seeds/ and update the index", elem_id="rescan")
                        index_status = gr.HTML("", elem_id="index-status")
                    with gr.Tab("Settings"):
                        top_k = gr.Slider(1, 8, value=s.top_k, step=1, label="Passages (top-k)")
                        temperature = gr.Slider(
                            0, 1, value=s.temperature, step=0.05, label="Temperature"
                        )
                        max_tokens = gr.Slider(
                            64,
                            1024,
                            value=s.max_answer_tokens,
                            step=32,
                            label="Maximum answer length (tokens)",
                        )
                        models = gr.Markdown("")
                    with gr.Tab("Dates and source"):
                        gr.Markdown(
                            "Answer only from the articles published in these days, by this "
                            "source. Empty: time words in the question (*in March 2023*, "
                            "*الأسبوع الماضي*) decide."
                        )
                        since = gr.Textbox(
                            "",
                            label="Published on or after",
                            placeholder="YYYY-MM-DD",
                            elem_id="since",
                        )
                        until = gr.Textbox(
                            "",
                            label="Published on or before",
                            placeholder="YYYY-MM-DD",
                            elem_id="until",
                        )
                        source = gr.Dropdown(
                            choices=[""],
                            value="",
                            label="Source",
                            allow_custom_value=True,
                            elem_id="source",
                        )

            chat_inputs = [
                box,
                chatbot,
                conversation,
                top_k,
                temperature,
                max_tokens,
                since,
                until,
                source,
            ]
            chat_outputs = [chatbot, box, sources, timings, conversation]
            for trigger in (box.submit, send.click):
                trigger(
                    self.respond,
                    chat_inputs,
                    chat_outputs,
                    concurrency_id="llm",
                    # Gradio's queue lets as many through as there are answer slots;
                    # the service's turns keep them in order with the API's requests.
                    concurrency_limit=self.service.turns.slots,
                    api_name="chat" if trigger == box.submit else False,
                )
            new.click(
                lambda: ([], "", render_sources(Conversation()), "", Conversation()),
                None,
                chat_outputs,
                queue=False,
                api_name=False,
            )
            upload.upload(
                self.upload,
                upload,
                [articles, index_status, upload],
                concurrency_id="llm",
                api_name="upload",
            )
            rescan.click(
                self.rescan, None, [articles, index_status], concurrency_id="llm", api_name="rescan"
            )
            timer = gr.Timer(1.0)
            timer.tick(
                self.tick,
                None,
                [status, models, articles, source, timer],
                concurrency_limit=None,
                show_progress="hidden",
                api_name=False,
            )
            gr.api(self.ask_api, api_name="ask", concurrency_id="llm")
        return demo

    def mount(self, app: FastAPI, path: str = "/") -> FastAPI:
        """Serve the app at ``path`` of ``app`` (routes ``app`` already has come first);
        only Gradio's own upload and cache files are ever served."""
        s = self.settings
        demo = self.build()
        demo.queue(default_concurrency_limit=1)
        auth = None
        if s.auth_user and s.auth_password:
            auth = LoginGuard(
                s.auth_user, s.auth_password, s.login_max_failures, s.login_lockout_s
            ).check
        app = gr.mount_gradio_app(
            app,
            demo,
            path=path,
            server_name=s.host,
            server_port=s.port,
            auth=auth,
            max_file_size=s.max_upload_bytes,
            head=HEAD,
            css=CSS,
            footer_links=[],
            show_error=False,
            enable_monitoring=False,
            blocked_paths=[str(s.seeds_dir), str(s.index_dir), str(s.models_dir)],
        )
        self._mounted = next(r.app for r in reversed(app.routes) if isinstance(r, Mount))
        return app

    def end_streams(self) -> None:
        """End the session streams Gradio keeps open (heartbeats), so that a stopping
        server need not wait for its clients; call it on the server's event loop."""
        self._mounted.stop_event.set()
