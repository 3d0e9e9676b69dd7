"""A real browser (Debian's Chromium, headless) against the launched web app.

Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.models, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ARTIFACTS / "screenshots"
LAST_BOT = (
    "(() => { const m = document.querySelectorAll('#chat .bot'); return m[m.length - 1]; })()"
)


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
            "document.querySelector('#status')?.innerText.includes('Ready')", timeout=300_000
        )
        yield page
        browser.close()


def ask(page, question: str) -> None:
    """Type a question, press Enter, wait until the streamed answer is finished."""
    before = page.evaluate("document.querySelectorAll('#chat .bot').length")
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#chat .bot').length > {before}", timeout=60_000
    )
    # The final render turns [n] into links and fills the timings line.
    page.wait_for_function(
        f"{LAST_BOT}?.querySelector('a.cite') || "
        "document.querySelector('#timings')?.innerText.includes('total')",
        timeout=300_000,
    )
    page.wait_for_function(f"{LAST_BOT}?.querySelector('a.cite')", timeout=30_000)


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
    rejected = tmp_path / "latin1.txt"
    rejected.write_bytes("Café olé, numéro 5".encode("latin-1"))
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#upload input[type=file]", [str(article), str(rejected)])
    page.wait_for_function(
        "document.querySelector('#index-status')?.innerText.includes('Added')", timeout=300_000
    )
    status = page.inner_text("#index-status")
    assert "amman_bridge.txt" in status and "Rejected" in status and "not UTF-8" in status
    assert (seeds / "amman_bridge.txt").read_text(encoding="utf-8") == article.read_text(
        encoding="utf-8"
    )
    assert not (seeds / "latin1.txt").exists()
    page.wait_for_function(
        "document.querySelector('#articles')?.innerText.includes('amman_bridge')",
        timeout=30_000,
    )
    page.screenshot(path=str(SHOTS / "articles.png"), full_page=True)

    page.get_by_role("tab", name="Sources").click()
    ask(page, "How long is the new bridge in Amman?")
    answer = page.evaluate(f"{LAST_BOT}.innerText")
    assert "800" in answer
    link = page.locator("#chat .bot a.cite").last
    target = link.get_attribute("href").lstrip("#")
    link.click()
    assert "جسر" in page.locator(f"#sources details#{target}").inner_text()
