"""The web app through its HTTP API (gradio_client), against a launched ``python app.py``."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from rag.config import PROJECT_ROOT

pytestmark = pytest.mark.models


def _text(message: dict) -> str:
    content = message["content"]
    return (
        content
        if isinstance(content, str)
        else "".join(part.get("text", "") for part in content if part.get("type") == "text")
    )


def test_ask_endpoint_returns_the_json_contract(app_server):
    url, _ = app_server
    result = Client(url, verbose=False).predict("من هو رئيس كازاخستان؟", api_name="/ask")
    assert result["language"] == "ar" and not result["refused"]
    assert "توكاييف" in result["answer"]
    assert result["citations"][0]["doc_id"] == "000_7cec5dfa3ac44c0f"


def test_two_clients_asking_at_once_both_get_answers(app_server):
    url, _ = app_server
    questions = [
        "How many countries does Lukashenko say are at war with Russia?",
        "في أي عام أنقذ بوتين نظام لوكاشينكو من الاحتجاجات؟",
    ]

    def chat(question: str) -> list[dict]:
        client = Client(url, verbose=False)
        chat_history, *_ = client.predict(question, [], 3, 0.0, 256, api_name="/chat")
        return chat_history

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(chat, questions)
    assert "50" in _text(first[-1])
    assert "2020" in _text(second[-1])
    assert 'class="cite"' in _text(first[-1]) and 'class="cite"' in _text(second[-1])


def test_empty_question_does_nothing(app_server):
    url, _ = app_server
    chat_history, *_ = Client(url, verbose=False).predict("   ", [], 3, 0.0, 256, api_name="/chat")
    # gr.skip(): the chat is left as it was, no message added, nothing sent to the LLM.
    assert chat_history == {"__type__": "update"}


def test_nothing_outside_the_app_is_served(app_server):
    url, seeds = app_server
    targets = [
        "/etc/passwd",
        str(PROJECT_ROOT / "app.py"),
        str(next(seeds.iterdir())),
        str(PROJECT_ROOT / "rag" / "config.py"),
        "../../etc/passwd",
    ]
    for target in targets:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/gradio_api/file={target}", timeout=10)
        assert err.value.code in (403, 404), target


def test_login_is_required_when_configured(tmp_path):
    from tests.conftest import start_app

    proc, url, _ = start_app(
        tmp_path,
        NABAA_AUTH_USER="analyst",
        NABAA_AUTH_PASSWORD="s3cret",
        NABAA_LOGIN_MAX_FAILURES="3",
    )
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/config", timeout=10)
        assert err.value.code == 401
        # Without NABAA_API_TOKEN the OpenAI API is off, so it opens no way around the login.
        with pytest.raises(urllib.error.HTTPError) as api:
            urllib.request.urlopen(f"{url}/v1/models", timeout=10)
        assert api.value.code == 403
        client = Client(url, auth=("analyst", "s3cret"), verbose=False)
        assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]

        def login(password: str) -> int:
            form = urllib.parse.urlencode({"username": "analyst", "password": password})
            try:
                urllib.request.urlopen(f"{url}/login", form.encode(), timeout=30)
            except urllib.error.HTTPError as exc:
                return exc.code
            return 200

        started = time.monotonic()
        assert [login("guess") for _ in range(3)] == [400, 400, 400]
        assert time.monotonic() - started >= 3  # each failure waits a second
        assert login("s3cret") == 400  # locked now, even with the right password
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_rejected_upload_says_why_through_the_api(app_server, tmp_path):
    from gradio_client import handle_file

    url, seeds = app_server
    client = Client(url, verbose=False)
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _, status, _ = client.predict([handle_file(str(junk))], api_name="/upload")
    assert "Rejected" in status and "junk.txt looks like a binary file" in status

    # With no readable article left, the index cannot be updated: that is said too.
    parked = tmp_path / "parked"
    shutil.move(seeds, parked)
    seeds.mkdir()
    try:
        _, status, _ = client.predict([handle_file(str(junk))], api_name="/upload")
        assert "Rejected" in status and "No readable articles" in status
    finally:
        shutil.rmtree(seeds)
        shutil.move(parked, seeds)
    _, status = client.predict(api_name="/rescan")
    assert "Traceback" not in status
    assert client.predict("من هو رئيس كازاخستان؟", api_name="/ask")["citations"]
