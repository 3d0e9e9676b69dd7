"""A real browser (Debian's Chromium, headless) against the launched web app.

Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

from tests.conftest import ARTIFACTS, PROJECT_ROOT

pytestmark = [pytest.mark.models, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ARTIFACTS / "screenshots"
FORMATS = PROJECT_ROOT / "tests" / "data" / "formats"
LAST_BOT = (
    "(() => { const m = document.querySelectorAll('#chat .bot'); return m[m.length - 1]; })()"
)
# Limits that only catch a hang: how long an answer takes is measured by `rag bench`.
HANG_MS = 15 * 60 * 1000
FINISHED = "document.querySelectorAll('#chat .bot .answer').length"


class Listener:
    """An HTTP server on loopback that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def page(app_server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_server[0])
        page.wait_for_function(
            "document.querySelector('#status')?.innerText.includes('Ready')", timeout=HANG_MS
        )
        yield page
        browser.close()


def ask(page, question: str) -> None:
    """Type a question, press Enter, wait until this question's answer is finished.

    Only the finished answer is rendered with the class "answer"; the text streamed
    before it, and the answers before it, do not count.
    """
    finished = page.evaluate(FINISHED)
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(f"{FINISHED} > {finished}", timeout=HANG_MS)


def last_answer_cites(page) -> bool:
    return page.evaluate(f"!!{LAST_BOT}.querySelector('a.cite')")


def direction_of_last_answer(page) -> str:
    return page.evaluate(f"getComputedStyle({LAST_BOT}.querySelector('[dir=auto]')).direction")


def test_english_and_arabic_answers_with_their_direction_and_citations(page):
    ask(page, "Who is the president of Kazakhstan?")
    assert direction_of_last_answer(page) == "ltr"
    english = page.evaluate(f"{LAST_BOT}.innerText")
    assert "Tokayev" in english or "توكاييف" in english
    page.screenshot(path=str(SHOTS / "english.png"))

    ask(page, "ما هو موقف لوكاشينكو من استخدام الأسلحة النووية؟")
    assert direction_of_last_answer(page) == "rtl"
    assert last_answer_cites(page)

    link = page.locator("#chat .bot a.cite").last
    target = link.get_attribute("href").lstrip("#")
    link.click()
    source = page.locator(f"#sources details#{target}")
    source.wait_for(state="visible")
    assert source.evaluate("el => el.open")
    mark = source.locator("mark")
    assert mark.is_visible() and len(mark.inner_text().strip()) > 10
    assert mark.inner_text().strip() in source.inner_text()
    page.screenshot(path=str(SHOTS / "arabic-citation-open.png"), full_page=True)


def test_upload_an_article_and_ask_about_it(page, app_server, tmp_path):
    _, seeds = app_server
    article = tmp_path / "amman_bridge.txt"
    article.write_text(
        "بلدية عمّان تفتتح جسراً جديداً\n"
        "افتتحت بلدية عمّان يوم الاثنين جسر الوحدة الجديد الذي يبلغ طوله 800 متر.\n"
        "وقال رئيس البلدية إن الجسر سيخفف الازدحام في وسط المدينة.\n",
        encoding="utf-8",
    )
    rejected = tmp_path / "scan.txt"
    rejected.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#upload input[type=file]", [str(article), str(rejected)])
    page.wait_for_function(
        "document.querySelector('#index-status')?.innerText.includes('Added')", timeout=HANG_MS
    )
    status = page.inner_text("#index-status")
    assert "amman_bridge.txt" in status and "Rejected" in status and "binary" in status
    assert (seeds / "amman_bridge.txt").read_text(encoding="utf-8") == article.read_text(
        encoding="utf-8"
    )
    assert not (seeds / "scan.txt").exists()
    page.wait_for_function(
        "document.querySelector('#articles')?.innerText.includes('amman_bridge')",
        timeout=HANG_MS,
    )
    page.screenshot(path=str(SHOTS / "articles.png"), full_page=True)

    page.get_by_role("tab", name="Sources").click()
    ask(page, "How long is the new bridge in Amman?")
    answer = page.evaluate(f"{LAST_BOT}.innerText")
    assert "800" in answer and last_answer_cites(page)
    link = page.locator("#chat .bot a.cite").last
    target = link.get_attribute("href").lstrip("#")
    link.click()
    assert "جسر" in page.locator(f"#sources details#{target}").inner_text()


def test_upload_a_pdf_and_a_web_page_and_ask_a_dated_question(page, app_server):
    """Real files made by real tools (Chromium's PDF of a saved page, the page itself),
    read with their dates and outlets, and a question whose time words pick the article."""
    _, seeds = app_server
    files = [FORMATS / "ar-desalination.pdf", FORMATS / "en-port-strike.html"]
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#upload input[type=file]", [str(f) for f in files])
    page.wait_for_function(
        "document.querySelector('#index-status')?.innerText.includes('en-port-strike.html')",
        timeout=HANG_MS,
    )
    assert "Rejected" not in page.inner_text("#index-status")
    assert all((seeds / f.name).read_bytes() == f.read_bytes() for f in files)
    page.wait_for_function(
        "document.querySelector('#articles')?.innerText.includes('The Harbour Times')",
        timeout=HANG_MS,
    )
    table = page.inner_text("#articles")
    assert "2025-06-18" in table and "2025-03-12" in table and "صحيفة الأفق" in table
    page.screenshot(path=str(SHOTS / "articles-dated.png"), full_page=True)

    page.get_by_role("tab", name="Sources").click()
    ask(
        page,
        "When did union leaders say talks on working hours would resume, according to the "
        "article of June 2025?",
    )
    answer = page.evaluate(f"{LAST_BOT}.innerText")
    assert "September" in answer and last_answer_cites(page)
    assert "2025-06-01" in answer and "2025-06-30" in answer  # the window's notice
    sources = page.inner_text("#sources")
    assert "2025-06-18" in sources and "The Harbour Times" in sources


def test_markdown_from_a_question_or_an_article_is_shown_as_text(page, app_server, listener):
    """Nothing a question or an article says can make the browser fetch an address."""
    _, seeds = app_server
    image = f"![p]({listener.url}/question.png)"
    ask(page, f"{image} Who is the president of Kazakhstan?")
    user = page.evaluate(
        "(() => { const m = document.querySelectorAll('#chat .user'); "
        "return m[m.length - 1].innerText; })()"
    )
    assert image in user
    (seeds / "harbour.txt").write_text(
        f"Harbour news ![t]({listener.url}/title.png)\n"
        f"The harbour of Aqaba handled ![a]({listener.url}/article.png) 90 ships in May.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Articles").click()
    page.click("#rescan")
    page.wait_for_function(
        "document.querySelector('#articles')?.innerText.includes('harbour')", timeout=HANG_MS
    )
    assert f"![t]({listener.url}/title.png)" in page.inner_text("#articles")
    page.get_by_role("tab", name="Sources").click()
    ask(page, "How many ships did the harbour of Aqaba handle in May?")
    page.wait_for_timeout(1000)  # time for any image the page holds to be fetched
    assert listener.requests == []
    assert page.locator("#chat img, #sources img, #articles img").count() == 0
