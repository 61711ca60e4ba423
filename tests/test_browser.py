"""The app in a real browser: `streamlit run` on 127.0.0.1, driven with Debian's Chromium.

Skipped (with the reason) when /usr/bin/chromium is missing; `make test` installs it when it runs
as root with apt-get. The test prints the time from pressing Enter to the answer on screen (a
figure for benchmarks, not a pass mark) and saves screenshots under reports/ (git-ignored). The
app keeps its state (conversations, shares, feedback, verified answers) in a temporary file, and
every page the tests open records its requests: none may leave 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser_support import CHROMIUM, WAIT_MS, chromium, free_port, stop, wait_healthy
from tests.ui_reference import (
    GROSS_VOLUME,
    MRR_AT,
    RECOGNIZED_REVENUE,
    TAX_COLLECTED,
    money,
    total,
    whole_money,
)

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
ACCOUNT = "acct_demo_01"
USER = "dana"  # the app's local user in these tests
VIEWPORT = {"width": 1400, "height": 2000}

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
        "the browser test needs it and never downloads a browser",
        allow_module_level=True,
    )
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (python) is missing")


@pytest.fixture(scope="module")
def state_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app-state file of the app under test (never the user's)."""
    return tmp_path_factory.mktemp("browser-state") / "state.sqlite3"


@pytest.fixture(scope="module")
def server(demo_path: Path, state_file: Path) -> Iterator[str]:
    """`streamlit run app/ui/main.py` on a free 127.0.0.1 port; yields the base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEDGERLENS_LLM_API_KEY"):
        env.pop(name, None)
    env["LEDGERLENS_WAREHOUSE_PATH"] = str(demo_path)
    env["LEDGERLENS_STATE_PATH"] = str(state_file)
    env["LEDGERLENS_LOCAL_USER"] = USER
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app" / "ui" / "main.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    REPORTS.mkdir(exist_ok=True)
    log = (REPORTS / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{base}/_stcore/health", proc, REPORTS / "streamlit.log")
        yield base
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through Playwright (no browser download)."""
    with chromium() as b:
        yield b


def _metric(page: object, label: str) -> str:
    tile = page.get_by_test_id("stMetric").filter(  # type: ignore[attr-defined]
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)  # type: ignore[attr-defined]
    )
    value = tile.first.get_by_test_id("stMetricValue")
    value.wait_for(timeout=WAIT_MS)
    return str(value.inner_text()).strip()


_CHARTS_DRAWN = """() => {
  const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]');
  return [...charts].every(c => c.querySelector('canvas, svg'));
}"""


def _settle(page: object) -> None:
    """Wait until the app stopped running and every chart is drawn."""
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.wait_for_function(_CHARTS_DRAWN, timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # let the charts finish animating


def _ask(page: object, question: str, answers_before: int) -> float:
    """Type a question, press Enter, wait for its headline; return seconds Enter→answer."""
    box = page.get_by_test_id("stChatInputTextArea")  # type: ignore[attr-defined]
    box.fill(question)
    values = page.get_by_test_id("stMetricValue")  # type: ignore[attr-defined]
    started = time.perf_counter()
    box.press("Enter")
    values.nth(answers_before).wait_for(timeout=WAIT_MS)
    return time.perf_counter() - started


def test_ask_page_answers_with_the_sql_number(
    server: str, browser: object, demo_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    page.goto(server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
    expected = total(
        demo_path, GROSS_VOLUME, account=ACCOUNT, start=date(2025, 11, 1), end=date(2025, 12, 1)
    )
    cold = _ask(page, "What was gross volume last month?", 0)
    shown = page.get_by_test_id("stMetricValue").nth(0).inner_text().strip()
    assert shown == money(expected)
    warm = _ask(page, "MRR by month this year", 1)
    assert page.get_by_test_id("stMetricValue").nth(1).inner_text().strip() == "$49,169.03"
    page.get_by_test_id("stVegaLiteChart").last.wait_for(timeout=WAIT_MS)
    _settle(page)
    page.get_by_test_id("stVegaLiteChart").last.scroll_into_view_if_needed()
    page.screenshot(path=str(REPORTS / "ask-mrr-by-month.png"))
    again = _ask(page, "and by plan?", 2)
    _settle(page)
    print(
        f"\nEnter→answer in the browser: first question {cold * 1000:.0f} ms, "
        f"second {warm * 1000:.0f} ms, follow-up {again * 1000:.0f} ms"
    )
    page.close()


def test_a_series_broken_down_headlines_a_sentence_not_one_row(
    server: str, browser: object
) -> None:
    """Issue 14: "and by country?" once headlined December's US rate as the year's refund rate."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    page.goto(server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "refund rate by month this year", 0)
    _ask(page, "and by country?", 1)
    _settle(page)
    values = page.get_by_test_id("stMetricValue")  # type: ignore[attr-defined]
    first, second = (values.nth(i).inner_text().strip() for i in (0, 1))
    assert first.endswith("%")  # one series: its latest month, said so in the label
    assert "%" not in second and "country" in second.lower(), second  # a table: a sentence
    page.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "label", "base", "period"),
    [
        ("revenue", "MRR", MRR_AT, (date(2025, 1, 1), date(2025, 12, 31))),
        ("payments", "Gross volume", GROSS_VOLUME, (date(2025, 1, 1), date(2026, 1, 1))),
        ("tax", "Tax collected", TAX_COLLECTED, (date(2025, 7, 1), date(2025, 10, 1))),
        (
            "revenue_recognition",
            "Recognized revenue",
            RECOGNIZED_REVENUE,
            (date(2025, 1, 1), date(2026, 1, 1)),
        ),
    ],
)
def test_reporting_page_kpi(
    server: str,
    browser: object,
    demo_path: Path,
    path: str,
    label: str,
    base: str,
    period: tuple[date, date],
) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    page.goto(f"{server}/{path}")
    expected = total(demo_path, base, account=ACCOUNT, start=period[0], end=period[1])
    assert _metric(page, label) == whole_money(expected)
    page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=WAIT_MS)
    _settle(page)
    assert page.get_by_test_id("stException").count() == 0
    page.screenshot(path=str(REPORTS / f"{path}.png"))
    page.close()


def test_page_embeds_in_an_iframe(server: str, browser: object) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 1000})  # type: ignore[attr-defined]
    src = f"{server}/revenue?embed=true&account={ACCOUNT}"
    page.set_content(
        f'<h1>Host page</h1><iframe src="{src}" title="Revenue" '
        'style="width: 100%; height: 900px; border: 0"></iframe>'
    )
    frame = page.frame_locator("iframe")
    value = frame.get_by_test_id("stMetricValue").first
    value.wait_for(timeout=WAIT_MS)
    assert value.inner_text().strip().startswith("$")
    assert frame.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"
    assert frame.get_by_test_id("stMainMenu").count() == 0
    frame.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(REPORTS / "embedded-revenue.png"))
    page.close()


def test_no_request_leaves_the_machine(server: str, browser: object) -> None:
    """Every page and an answer load only from the app itself: the product works offline."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc))  # type: ignore[attr-defined]
    for path in ("", "revenue", "payments", "tax", "revenue_recognition"):
        page.goto(f"{server}/{path}", wait_until="networkidle")
        if path:  # a reporting page: wait for its first KPI
            page.get_by_test_id("stMetricValue").first.wait_for(timeout=WAIT_MS)
    page.goto(server + "/", wait_until="networkidle")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
    _ask(page, "refund rate by month this year", 0)
    _settle(page)
    assert hosts == {urlparse(server).netloc}, sorted(hosts)
    page.close()


def test_an_answer_shows_its_chips(server: str, browser: object) -> None:
    """The filters of 'VAT collected in Germany in 2025' are on screen, not only in the SQL."""
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    page.goto(server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
    _ask(page, "VAT collected in Germany in 2025", 0)
    _settle(page)
    badges = page.locator(".stMarkdownBadge")
    badges.first.wait_for(timeout=WAIT_MS)
    # A badge's text is its icon's ligature name, then the chip: "filter_alt Tax type: VAT".
    shown = [t.split(" ", 1)[1] for t in badges.all_inner_texts()]
    assert shown == [
        "Tax collected",
        "Tax country: Germany",
        "Tax type: VAT",
        "2025 (America/New_York)",
        "USD",
    ]
    page.screenshot(path=str(REPORTS / "ask-chips.png"))
    page.close()


class Hosts:
    """The hosts every page of one browser context requested."""

    def __init__(self, context: object) -> None:
        self.seen: set[str] = set()
        context.on("request", lambda r: self.seen.add(urlparse(r.url).netloc))  # type: ignore[attr-defined]

    def only(self, server: str) -> bool:
        return self.seen == {urlparse(server).netloc}


def _open(browser: object, url: str) -> tuple[object, object, Hosts]:
    """A new browser context (a new user's session) on `url`: its context, page and hosts."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[attr-defined]
    hosts = Hosts(context)
    page = context.new_page()
    page.goto(url)
    return context, page, hosts


def _asked(page: object) -> list[str]:
    """The questions in the chat's user bubbles, in order."""
    bubbles = page.get_by_role("group", name="Chat message from user")  # type: ignore[attr-defined]
    return [t.strip() for t in bubbles.all_inner_texts()]


def test_a_reload_keeps_the_conversation(server: str, browser: object) -> None:
    context, page, hosts = _open(browser, server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "MRR by plan last quarter", 0)
    _ask(page, "what about last year?", 1)
    _settle(page)
    shown = page.get_by_test_id("stMetricValue").all_inner_texts()  # type: ignore[attr-defined]
    page.wait_for_url(lambda url: "c=" in url, timeout=WAIT_MS)  # type: ignore[attr-defined]
    url = page.url  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    page.get_by_test_id("stMetricValue").nth(1).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _settle(page)
    assert page.get_by_test_id("stMetricValue").all_inner_texts() == shown  # type: ignore[attr-defined]
    assert _asked(page) == ["MRR by plan last quarter", "what about last year?"]
    history = page.get_by_test_id("stSidebar").get_by_role(
        "button", name="MRR by plan last quarter"
    )  # type: ignore[attr-defined]
    history.wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(REPORTS / "ask-history.png"))  # type: ignore[attr-defined]
    # A new browser session on the same URL (another tab, the next morning) shows it too.
    other, again, other_hosts = _open(browser, url)
    again.get_by_test_id("stMetricValue").nth(1).wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert again.get_by_test_id("stMetricValue").all_inner_texts() == shown  # type: ignore[attr-defined]
    assert hosts.only(server) and other_hosts.only(server), sorted(hosts.seen | other_hosts.seen)
    context.close()  # type: ignore[attr-defined]
    other.close()  # type: ignore[attr-defined]


def test_a_share_link_opens_in_a_second_browser_context(server: str, browser: object) -> None:
    context, page, hosts = _open(browser, server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "gross volume by month this year", 0)
    _settle(page)
    headline = page.get_by_test_id("stMetricValue").first.inner_text()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Share").click()  # type: ignore[attr-defined]
    code = page.get_by_test_id("stCode").filter(has_text="share=")  # type: ignore[attr-defined]
    code.wait_for(timeout=WAIT_MS)
    link = code.inner_text().strip()
    assert link.startswith(server + "/?share=")
    page.screenshot(path=str(REPORTS / "ask-share.png"))  # type: ignore[attr-defined]

    other, shared, other_hosts = _open(browser, link)
    shared.get_by_test_id("stMetricValue").first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _settle(shared)
    assert shared.get_by_test_id("stMetricValue").first.inner_text() == headline  # type: ignore[attr-defined]
    note = shared.get_by_test_id("stAlert").filter(has_text="rerun on current data")  # type: ignore[attr-defined]
    assert "the result is unchanged" in note.first.inner_text()
    assert f"Shared by {USER} on" in note.first.inner_text()
    assert _asked(shared) == ["gross volume by month this year"]
    shared.wait_for_url(lambda url: "c=" in url and "share=" not in url, timeout=WAIT_MS)  # type: ignore[attr-defined]
    shared.screenshot(path=str(REPORTS / "ask-shared-link.png"))  # type: ignore[attr-defined]
    assert hosts.only(server) and other_hosts.only(server), sorted(hosts.seen | other_hosts.seen)
    context.close()  # type: ignore[attr-defined]
    other.close()  # type: ignore[attr-defined]


def test_thumbs_down_then_feedback_export_has_it(
    server: str, browser: object, state_file: Path, tmp_path: Path
) -> None:
    context, page, hosts = _open(browser, server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "refund rate by country last quarter", 0)
    _settle(page)
    page.get_by_role("radio", name="Thumbs down").click()  # type: ignore[attr-defined]
    box = page.get_by_label("What should the answer have been? (optional)")  # type: ignore[attr-defined]
    box.wait_for(timeout=WAIT_MS)
    box.fill("Refund rate should count partial refunds once")
    box.press("Tab")  # commit the text area's value before the button reads it
    page.get_by_role("button", name="Send correction").click()  # type: ignore[attr-defined]
    page.get_by_text("Correction kept with your thumbs down.").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.screenshot(path=str(REPORTS / "ask-feedback.png"))  # type: ignore[attr-defined]
    out = tmp_path / "drafts.yaml"
    export = ["feedback", "export", "--state", str(state_file), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *export],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    drafts = out.read_text()
    assert "question: refund rate by country last quarter" in drafts
    assert f"thumbs down by {USER}" in drafts
    assert "Correction: Refund rate should count partial refunds once" in drafts
    assert hosts.only(server), sorted(hosts.seen)
    context.close()  # type: ignore[attr-defined]


def test_marking_verified_badges_a_paraphrase(server: str, browser: object) -> None:
    context, page, hosts = _open(browser, server + "/")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "What was ARR by plan last quarter?", 0)
    _settle(page)
    page.get_by_role("button", name="Mark verified").click()  # type: ignore[attr-defined]
    page.get_by_text(f"Verified by {USER} on", exact=False).first.wait_for(timeout=WAIT_MS)  # type: ignore[attr-defined]
    _ask(page, "annual recurring revenue per plan in the previous quarter", 1)
    _settle(page)
    badge = page.get_by_test_id("stAlertContentSuccess")  # type: ignore[attr-defined]
    badge.first.wait_for(timeout=WAIT_MS)
    # an alert's text starts with its icon's ligature name: "verified"
    assert badge.count() == 1 and f"Verified by {USER} on " in badge.first.inner_text()
    answers = page.get_by_test_id("stChatMessage")  # type: ignore[attr-defined]
    last = answers.nth(answers.count() - 1)
    assert last.get_by_text(f"Verified by {USER} on", exact=False).count() == 1  # once, not twice
    badge.first.scroll_into_view_if_needed()
    page.screenshot(path=str(REPORTS / "ask-verified.png"))  # type: ignore[attr-defined]
    assert hosts.only(server), sorted(hosts.seen)
    context.close()  # type: ignore[attr-defined]
