"""The OpenAI-compatible API: its pure parts, then the real ``openai`` client against
``python app.py`` (the session's ``app_server``, with the token ``API_TOKEN``)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields

import pytest
from pydantic import SecretStr

from rag.answer.prompts import Turn
from rag.apps.api import (
    APIError,
    ChatMessage,
    answer_options,
    api_off_reason,
    chunk,
    closing_text,
    completion,
    is_loopback,
    question_and_history,
    sse,
)
from rag.apps.service import Busy, ClientLeft, Turns
from rag.config import get_settings
from rag.errors import NabaaError
from rag.pipeline import Answer, Citation
from tests.conftest import API_TOKEN

MARKER = re.compile(r"\[\d+\]")
ANSWER_KEYS = {f.name for f in fields(Answer)}
CITATION_KEYS = {f.name for f in fields(Citation)}


def _messages(*pairs: tuple[str, object]) -> list[ChatMessage]:
    return [ChatMessage(role=role, content=content) for role, content in pairs]


# Pure logic ---------------------------------------------------------------------


def test_the_last_user_message_is_the_question_and_earlier_pairs_the_history():
    question, history = question_and_history(
        _messages(
            ("system", "You are a pirate."),
            ("user", "Who is the president of Kazakhstan?"),
            ("assistant", "Tokayev [1]."),
            ("user", "An unanswered question"),
            ("user", [{"type": "text", "text": "What did he "}, {"type": "text", "text": "say?"}]),
            ("assistant", [{"type": "image_url", "image_url": {"url": "x"}}]),
            ("user", [{"type": "text", "text": "And then?"}, {"type": "image_url"}]),
        ),
        max_chars=100,
    )
    assert question == "And then?"
    assert history == [
        Turn("Who is the president of Kazakhstan?", "Tokayev [1]."),
        Turn("What did he say?", ""),
    ]


@pytest.mark.parametrize(
    "pairs, code",
    [
        ([("system", "hi")], "no_question"),
        ([("user", "q"), ("assistant", "a")], "no_question"),
        ([("user", "x" * 101)], "message_too_long"),
        ([("user", "x" * 101), ("assistant", "a"), ("user", "q")], "message_too_long"),
    ],
)
def test_a_request_without_a_question_or_with_a_huge_message_is_refused(pairs, code):
    with pytest.raises(APIError) as err:
        question_and_history(_messages(*pairs), max_chars=100)
    assert err.value.status == 400 and err.value.code == code
    assert set(err.value.body()["error"]) == {"message", "type", "param", "code"}


def test_answer_options_keep_the_answer_inside_the_context_window():
    from rag.apps.api import ChatRequest

    settings = get_settings(n_ctx=4096)
    plain = ChatRequest(messages=_messages(("user", "q")))
    assert answer_options(plain, settings) == {"temperature": None, "max_tokens": None}
    long = ChatRequest(messages=_messages(("user", "q")), max_tokens=100_000, temperature=0.3)
    assert answer_options(long, settings) == {"temperature": 0.3, "max_tokens": 1024}
    newer = ChatRequest(messages=_messages(("user", "q")), max_completion_tokens=64)
    assert answer_options(newer, settings)["max_tokens"] == 64


def test_the_stream_ends_with_the_answer_as_filed():
    assert closing_text("Tokayev [1]", "Tokayev [1].") == "."
    assert closing_text("في مارس [1] .", "في مارس [1].") == ""
    assert closing_text("توكاييف [1]", "Tokayev (توكاييف) [1].") == "\n\nTokayev (توكاييف) [1]."
    assert closing_text("", "The articles do not say.") == "The articles do not say."


def _answer() -> Answer:
    citation = Citation(1, "d", "Title", "d#0", "Some text.", 0, 10, 0.51234, 0, 10, "Some")
    return Answer(
        "Q?", "en", "Some [1].", False, [citation], {"retrieve_s": 0.1234, "total_s": 1.0}, {}
    )


def test_completion_and_chunks_carry_the_ask_json_object():
    answer = _answer()
    whole = completion(answer, "chatcmpl-1", 7)
    assert whole["object"] == "chat.completion" and whole["model"] == "nabaa"
    assert whole["choices"][0]["message"] == {"role": "assistant", "content": "Some [1]."}
    assert whole["nabaa"] == answer.to_json()
    assert whole["nabaa"]["citations"][0]["score"] == 0.5123
    piece = chunk("chatcmpl-1", 7, {"content": "So"})
    assert piece["object"] == "chat.completion.chunk" and "nabaa" not in piece
    last = chunk("chatcmpl-1", 7, {}, "stop", answer)
    assert last["choices"][0]["finish_reason"] == "stop" and last["nabaa"] == answer.to_json()
    assert sse(last) == f"data: {json.dumps(last, ensure_ascii=False)}\n\n"
    assert sse("[DONE]") == "data: [DONE]\n\n"


def test_without_a_token_the_api_is_served_on_loopback_only_and_without_a_login():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert api_off_reason(get_settings(host="127.0.0.1")) is None
    assert "NABAA_HOST=0.0.0.0" in api_off_reason(get_settings(host="0.0.0.0"))
    login = get_settings(auth_user="u", auth_password="p")
    assert "login" in api_off_reason(login)
    token = SecretStr("t")
    assert api_off_reason(get_settings(host="0.0.0.0", api_token=token)) is None
    assert api_off_reason(get_settings(host="0.0.0.0", api_token=SecretStr(""))) is not None


def _job(name: str, log: list[str], running: list[str]):
    def make():
        running.append(name)
        log.append(f"{name}:{len(running)}")
        try:
            for i in range(3):
                time.sleep(0.01)
                yield f"{name}{i}"
        finally:
            running.remove(name)

    return make


def test_requests_take_turns_and_a_client_that_leaves_frees_its_turn():
    turns, log, running = Turns(), [], []
    left = turns.stream(_job("a", log, running))
    assert next(left) == "a0"
    left.close()  # the client went away mid-answer
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda n: list(turns.stream(_job(n, log, running))), "bcd"))
    assert results == [[f"{n}{i}" for i in range(3)] for n in "bcd"]
    assert sorted(log) == ["a:1", "b:1", "c:1", "d:1"]  # never two at once

    async def both() -> list[list[str]]:
        async def collect(name: str) -> list[str]:
            return [e async for e in turns.astream(_job(name, log, running))]

        return await asyncio.gather(collect("e"), collect("f"))

    assert asyncio.run(both()) == [["e0", "e1", "e2"], ["f0", "f1", "f2"]]
    assert log[-2:] in (["e:1", "f:1"], ["f:1", "e:1"])
    with turns.turn():
        assert not running


def test_a_failure_reaches_the_client_and_frees_the_turn():
    turns = Turns()

    def failing():
        yield "partial"
        raise NabaaError("the index is gone")

    events = turns.stream(failing)
    assert next(events) == "partial"
    with pytest.raises(NabaaError, match="index is gone"):
        next(events)
    done = threading.Event()

    def take_turn() -> None:
        with turns.turn():
            done.set()

    threading.Thread(target=take_turn, daemon=True).start()
    assert done.wait(5)


def _holder(turns: Turns, exclusive: bool = False):
    """A thread holding a turn until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with turns.turn(exclusive):
            holding.set()
            release.wait(10)

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(5)
    return release


def _waiter(turns: Turns, name: str, order: list[str], left: threading.Event | None = None):
    def wait() -> None:
        try:
            with turns.turn(left=left):
                order.append(name)
        except Busy as exc:
            order.append(f"{name}:{exc.status}")
        except ClientLeft:
            pass

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def _until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_turns_are_given_in_order_of_arrival_n_at_a_time():
    turns, order = Turns(slots=2), []
    first, second = _holder(turns), _holder(turns)
    assert turns.load() == {"slots": 2, "busy": 2, "waiting": 0}
    threads = []
    for count, name in enumerate("abc", start=1):
        threads.append(_waiter(turns, name, order))
        _until(lambda count=count: turns.load()["waiting"] == count)
    first.set()
    second.set()
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"]
    _until(lambda: turns.load() == {"slots": 2, "busy": 0, "waiting": 0})


def test_an_exclusive_turn_waits_for_every_slot_and_keeps_its_place():
    turns, order, done = Turns(slots=2), [], threading.Event()

    def update() -> None:
        with turns.turn(exclusive=True):
            order.append("update")
            done.wait(10)

    release = _holder(turns)
    with turns.turn():  # one free slot is not enough for the update
        threading.Thread(target=update, daemon=True).start()
        _until(lambda: turns.load()["waiting"] == 1)
        later = _waiter(turns, "later", order)  # arrives after the update: waits behind it
        _until(lambda: turns.load()["waiting"] == 2)
    assert order == []
    release.set()
    _until(lambda: order == ["update"])
    assert turns.load() == {"slots": 2, "busy": 2, "waiting": 1}
    done.set()
    later.join(5)
    assert order == ["update", "later"]


def test_a_full_queue_is_refused_at_once_and_a_long_wait_gives_up():
    turns, order = Turns(slots=1, max_waiting=1, wait_s=0.5), []
    release = _holder(turns)
    waiting = _waiter(turns, "waits", order)
    _until(lambda: turns.load()["waiting"] == 1)
    with pytest.raises(Busy) as full, turns.turn():
        pass
    assert full.value.status == 429 and "already waiting" in str(full.value)
    assert full.value.retry_after_s >= 1
    waiting.join(5)
    assert order == ["waits:503"]  # the holder kept its slot past the wait limit
    release.set()


def test_a_client_that_leaves_while_waiting_gives_up_its_place():
    turns, order, left = Turns(slots=1), [], threading.Event()
    release = _holder(turns)
    gone = _waiter(turns, "gone", order, left)
    _until(lambda: turns.load()["waiting"] == 1)
    stays = _waiter(turns, "stays", order)
    _until(lambda: turns.load()["waiting"] == 2)
    left.set()
    gone.join(5)
    assert not gone.is_alive() and turns.load()["waiting"] == 1
    release.set()
    stays.join(5)
    assert order == ["stays"]


# Against the real app -------------------------------------------------------------


@pytest.fixture(scope="module")
def api(app_server):
    from openai import OpenAI

    url, _ = app_server
    return OpenAI(base_url=f"{url}/v1", api_key=API_TOKEN, max_retries=0, timeout=600)


def _question(seeds_qa, qid: str) -> dict:
    return next(q for q in seeds_qa if q["id"] == qid)


def _check_citations(text: str, nabaa: dict, q: dict) -> None:
    """Markers in the text, and citations exactly as ``ask --json`` has them."""
    assert set(nabaa) == ANSWER_KEYS and not nabaa["refused"]
    assert nabaa["language"] == q["lang"]
    assert MARKER.search(text), text
    assert nabaa["citations"]
    for c in nabaa["citations"]:
        assert set(c) == CITATION_KEYS
        assert f"[{c['n']}]" in nabaa["answer"]
        assert c["start"] <= c["sentence_start"] < c["sentence_end"] <= c["end"]
    assert any(
        f"{c['doc_id']}.txt" == q["doc"] and any(e in c["text"] for e in q["evidence"])
        for c in nabaa["citations"]
    ), nabaa["citations"]


@pytest.mark.models
def test_models_lists_nabaa(api):
    (model,) = api.models.list().data
    assert model.id == "nabaa"
    assert "ready" in model.model_extra["nabaa"]


@pytest.mark.models
def test_a_chat_completion_answers_with_markers_and_citations(api, seeds_qa):
    q = _question(seeds_qa, "d02")
    answer = api.chat.completions.create(
        model="nabaa", messages=[{"role": "user", "content": q["question"]}], temperature=0
    )
    text = answer.choices[0].message.content
    nabaa = answer.model_extra["nabaa"]
    assert text == nabaa["answer"]
    _check_citations(text, nabaa, q)


@pytest.mark.models
def test_a_streamed_completion_ends_with_the_citations(api, seeds_qa):
    q = _question(seeds_qa, "d01")
    stream = api.chat.completions.create(
        model="nabaa", messages=[{"role": "user", "content": q["question"]}], stream=True
    )
    chunks = list(stream)
    assert len(chunks) > 3  # the answer came in pieces
    extras = [c.model_extra.get("nabaa") for c in chunks]
    assert all(e is None for e in extras[:-1])
    assert chunks[-1].choices[0].finish_reason == "stop"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    nabaa = extras[-1]
    assert "".join(nabaa["answer"].split()) in "".join(text.split())
    _check_citations(text, nabaa, q)


@pytest.mark.models
def test_the_stream_is_server_sent_events_ending_in_done(api, seeds_qa):
    q = _question(seeds_qa, "d12")  # refused before the LLM: quick
    with api.chat.completions.with_streaming_response.create(
        model="nabaa", messages=[{"role": "user", "content": q["question"]}], stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    last = json.loads(events[-2])
    assert last["nabaa"]["refused"] and last["nabaa"]["citations"] == []
    assert "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])


@pytest.mark.models
def test_a_missing_or_wrong_token_gets_401(app_server):
    from openai import AuthenticationError, OpenAI

    url, _ = app_server
    wrong = OpenAI(base_url=f"{url}/v1", api_key="not-the-token", max_retries=0)
    with pytest.raises(AuthenticationError):
        wrong.models.list()
    with pytest.raises(AuthenticationError) as err:
        wrong.chat.completions.create(model="nabaa", messages=[{"role": "user", "content": "hi"}])
    assert err.value.code == "invalid_api_key"
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(
        f"{url}/v1/chat/completions", body, {"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as no_token:
        urllib.request.urlopen(request, timeout=30)
    assert no_token.value.code == 401
    assert set(json.loads(no_token.value.read())["error"]) == {"message", "type", "param", "code"}


@pytest.mark.models
def test_an_empty_question_gets_400(api):
    from openai import BadRequestError

    with pytest.raises(BadRequestError) as err:
        api.chat.completions.create(
            model="nabaa", messages=[{"role": "user", "content": " \u200b "}]
        )
    assert err.value.status_code == 400 and err.value.code == "invalid_question"
    assert "empty" in err.value.message


@pytest.mark.models
def test_health_needs_no_token(app_server):
    url, _ = app_server
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        health = json.loads(response.read())
    assert health["ok"] is True and health["api"] == "token"
    assert isinstance(health["ready"], bool) and health["status"]


@pytest.mark.models
def test_users_asking_at_once_all_get_their_answers(app_server, seeds_qa):
    """A small load run (``bench --load`` measures the large one): four users, one slot."""
    from rag.measure.load import ask_concurrently, summarize

    url, _ = app_server
    questions = [q["question"] for q in seeds_qa if q["answerable"]][:4]
    answers, wall_s = ask_concurrently(url, API_TOKEN, questions, users=4, per_user=1)
    summary = summarize(answers, wall_s)
    assert summary["errors"] == 0 and summary["answers"] == 4, summary["error_examples"]
    assert all(a.first_token_s is not None for a in answers)
    with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
        assert json.loads(response.read())["load"] == {"slots": 1, "busy": 0, "waiting": 0}
