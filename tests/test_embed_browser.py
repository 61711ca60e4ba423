"""The sample host page in a real browser: `<ledgerlens-assistant>` on one port, the API on another.

Debian's Chromium (headless) loads examples/host_page (its server signs an embed token for
acct_demo_01), asks a question, watches the steps stream in before the answer, asks a follow-up,
and then has its token tampered with (the account edited to acct_demo_02): the API refuses it and
the element says so. Skipped when /usr/bin/chromium is missing, like tests/test_browser.py.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser_support import CHROMIUM, WAIT_MS, chromium, free_port, stop, wait_healthy
from tests.test_browser import REPORTS, ROOT

if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api", reason="playwright (python) is missing")

SECRET = "browser-test-secret-0123456789abcdefgh"
ELEMENT = "ledgerlens-assistant"

# Records, in order, what the element adds to its shadow DOM: streamed steps, answers, errors.
_WATCH = """() => {
  const root = document.querySelector('ledgerlens-assistant').shadowRoot;
  window.__seen = [];
  new MutationObserver((changes) => {
    for (const c of changes) for (const n of c.addedNodes) {
      if (n.nodeType !== 1) continue;
      if (n.matches('li[data-step]')) window.__seen.push('step:' + n.dataset.step);
      if (n.matches('[data-part=answer]')) window.__seen.push('answer');
      if (n.matches('[data-part=error]')) window.__seen.push('error:' + n.dataset.status);
    }
  }).observe(root, { childList: true, subtree: true });
}"""


def _start(cmd: list[str], env: dict[str, str], health: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:  # the child keeps its own copy of the file descriptor
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(health, proc, log)
    except BaseException:
        stop(proc)
        raise
    return proc


@pytest.fixture(scope="module")
def host(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API and the sample host page on two free loopback ports; yields the page's URL."""
    api_port, host_port = free_port(), free_port()
    visitor = ["--account", "acct_demo_01", "--user", "dana", "--port", str(host_port)]
    api, page = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{host_port}"
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEDGERLENS_LLM_API_KEY"):
        env.pop(name, None)
    env |= {
        "LEDGERLENS_WAREHOUSE_PATH": str(demo_path),
        "LEDGERLENS_STATE_PATH": str(tmp_path_factory.mktemp("embed") / "state.sqlite3"),
        "LEDGERLENS_EMBED_SECRET": SECRET,
        "LEDGERLENS_API_CORS_ORIGINS": page,
        "PYTHONPATH": str(ROOT),
    }
    REPORTS.mkdir(exist_ok=True)
    procs = [
        _start(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(api_port)],
            env,
            f"{api}/openapi.json",
            REPORTS / "embed-api.log",
        )
    ]
    try:
        procs.append(
            _start(
                [sys.executable, "-m", "examples.host_page.server", "--api", api, *visitor],
                env,
                f"{page}/healthz",
                REPORTS / "embed-host.log",
            )
        )
        yield page
    finally:
        for proc in procs:
            stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through Playwright (no browser download)."""
    with chromium() as b:
        yield b


def _ask(page: object, question: str, n: int) -> object:
    """Type a question into the element, press Enter, and wait for answer or error number `n`."""
    box = page.locator(f"{ELEMENT} input[name=question]")  # type: ignore[attr-defined]
    box.fill(question)
    box.press("Enter")
    done = page.locator(f"{ELEMENT} [data-part=answer], {ELEMENT} [data-part=error]").nth(n)  # type: ignore[attr-defined]
    done.wait_for(timeout=WAIT_MS)
    return done


def _tampered(token: str, **changes: str) -> str:
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = base64.urlsafe_b64encode(json.dumps({**claims, **changes}).encode()).rstrip(b"=")
    return f"{head}.{body.decode()}.{sig}"


def test_the_host_page_asks_streams_follows_up_and_refuses_a_tampered_token(
    host: str, browser: object
) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 1400})  # type: ignore[attr-defined]
    hosts: set[str] = set()
    context.on("request", lambda r: hosts.add(urlparse(r.url).netloc))
    page = context.new_page()
    page.goto(host + "/")
    report = page.locator("#report tbody tr")
    assert report.count() == 3  # the host's own report, fetched server-side with the token
    assert report.first.inner_text().split() == ["2025-01-01", "$45,811.06"]
    page.wait_for_function(f"() => customElements.get('{ELEMENT}') !== undefined", timeout=WAIT_MS)
    page.evaluate(_WATCH)

    first = _ask(page, "by month", 0)  # edits the page's context: gross volume, Q1 2025
    assert first.get_attribute("data-status") == "answered"
    assert first.locator("[data-part=headline]").inner_text() == "Total: $137,793.78 over 3 months"
    assert first.locator("[data-part=table] tbody tr:not(.total)").count() == 3
    assert first.locator("[data-part=table] tr.total").inner_text().split() == [
        "Total",
        "$137,793.78",
    ]
    assert first.locator("[data-part=chart] rect").count() == 3
    assert "merchant_id = 'acct_demo_01'" in first.locator("[data-part=sql] pre").text_content()
    seen = page.evaluate("window.__seen")
    assert seen[-1] == "answer" and seen.count("answer") == 1
    assert {"step:sql", "step:guard", "step:executing", "step:rows"} <= set(seen[:-1])

    follow = _ask(page, "and by card brand?", 1)
    assert follow.get_attribute("data-status") == "answered"
    headline = follow.locator("[data-part=headline]").inner_text()
    assert headline.startswith("Total: $137,793.") and "card brands" in headline, headline
    assert follow.locator("[data-part=table] tbody tr:not(.total)").count() > 3
    page.screenshot(path=str(REPORTS / "embed-host-page.png"), full_page=True)

    good = page.get_attribute(ELEMENT, "token")
    forged = _tampered(good, account="acct_demo_02")
    page.evaluate(
        "([tag, t]) => document.querySelector(tag).setAttribute('token', t)", [ELEMENT, forged]
    )
    refused = _ask(page, "gross volume last quarter", 2)
    assert refused.get_attribute("data-part") == "error"
    assert refused.get_attribute("data-status") == "401"
    assert "not valid" in refused.inner_text()
    assert page.evaluate("window.__seen")[-1] == "error:401"
    assert page.locator(f"{ELEMENT} [data-part=answer]").count() == 2  # nothing of B shown
    page.screenshot(path=str(REPORTS / "embed-tampered.png"), full_page=True)
    api_host = urlparse(page.get_attribute(ELEMENT, "api")).netloc
    assert hosts == {urlparse(host).netloc, api_host}, sorted(hosts)
    context.close()
