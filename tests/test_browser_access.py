"""`trusted-header` mode in a real browser, behind a tiny reverse proxy that names the user.

Streamlit reads `st.context.headers` from the session's first request: the WebSocket upgrade of
`/_stcore/stream`. The proxy below is therefore a byte pipe that rewrites each request's head (it
drops any identity header the client sent and adds its own), one request per upstream connection,
and passes the upgraded WebSocket through untouched. We chose a proxy over Chromium's DevTools
`Network.setExtraHTTPHeaders` because it is the deployment the mode is for (the browser never
holds the identity; the same app port reached directly shows nothing), and because it also proves
that the header survives the WebSocket handshake, which is where Streamlit reads it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, WAIT_MS, chromium, free_port, stop, wait_healthy
from tests.test_browser import REPORTS, ROOT, VIEWPORT

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (python) is missing")

HEADER = "X-Forwarded-Email"
USER = "bob@example.com"
POLICY = """\
users:
  ann@example.com: {accounts: [acct_demo_02], verify: true}
groups:
  finance:
    members: [bob@example.com]
    accounts: [acct_demo_01, acct_demo_03]
"""


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class HeaderProxy:
    """A reverse proxy on 127.0.0.1 that forwards to `upstream` and names `user` in `header`."""

    def __init__(self, upstream: int, header: str, user: str) -> None:
        self.upstream, self.header, self.user = upstream, header, user
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.upgrades = 0  # WebSocket handshakes forwarded with the header
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # OSError: a side hung up, nothing to forward
            self._forward(conn)

    def _forward(self, conn: socket.socket) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < 65536:
            chunk = conn.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        first, *lines = head.decode("latin-1").split("\r\n")
        upgrade = any(
            line.lower().startswith("upgrade:") and "websocket" in line.lower() for line in lines
        )
        drop = {self.header.lower()} | (set() if upgrade else {"connection", "keep-alive"})
        kept = [line for line in lines if line.split(":", 1)[0].strip().lower() not in drop]
        kept.append(f"{self.header}: {self.user}")
        if upgrade:
            self.upgrades += 1
        else:  # one request per connection: every request gets its head rewritten
            kept.append("Connection: close")
        with socket.create_connection(("127.0.0.1", self.upstream)) as up:
            up.sendall("\r\n".join([first, *kept]).encode("latin-1") + b"\r\n\r\n" + rest)
            back = threading.Thread(target=_pipe, args=(conn, up), daemon=True)
            back.start()
            _pipe(up, conn)
            back.join()

    def close(self) -> None:
        """Stop accepting connections."""
        self.sock.close()


@pytest.fixture(scope="module")
def app_port(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`streamlit run` in trusted-header mode on a free 127.0.0.1 port."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    tmp = tmp_path_factory.mktemp("access")
    policy = tmp / "access.yaml"
    policy.write_text(POLICY)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LEDGERLENS_LLM_API_KEY"):
        env.pop(name, None)
    env |= {
        "LEDGERLENS_WAREHOUSE_PATH": str(demo_path),
        "LEDGERLENS_STATE_PATH": str(tmp / "state.sqlite3"),
        "LEDGERLENS_IDENTITY_MODE": "trusted-header",
        "LEDGERLENS_IDENTITY_HEADER": HEADER,
        "LEDGERLENS_ACCESS_POLICY_PATH": str(policy),
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "ui" / "main.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    REPORTS.mkdir(exist_ok=True)
    log = (REPORTS / "streamlit-access.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        health = f"http://127.0.0.1:{port}/_stcore/health"
        wait_healthy(health, proc, REPORTS / "streamlit-access.log")
        yield port
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium through Playwright (no browser download)."""
    with chromium() as b:
        yield b


def _accounts(page: object) -> tuple[str, list[str]]:
    """The sidebar's selected account and every account its list offers."""
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first  # type: ignore[attr-defined]
    box.wait_for(timeout=WAIT_MS)
    selected = str(box.get_by_role("combobox").input_value())
    box.get_by_role("button", name="Open").click()
    options = page.get_by_role("option")  # type: ignore[attr-defined]
    options.first.wait_for(timeout=WAIT_MS)
    listed = [t.strip() for t in options.all_inner_texts()]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    return selected, listed


def test_behind_the_proxy_the_sidebar_lists_only_the_users_accounts(
    app_port: int, browser: object
) -> None:
    proxy = HeaderProxy(app_port, HEADER, USER)
    try:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport=VIEWPORT,
            extra_http_headers={HEADER: "ann@example.com"},  # stripped by proxy
        )
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{proxy.port}/?account=acct_demo_02")
        selected, listed = _accounts(page)
        assert selected == "Northwind Analytics Inc. (acct_demo_01)"
        assert [o.rsplit("(", 1)[1] for o in listed] == ["acct_demo_01)", "acct_demo_03)"]
        page.get_by_text("The link names an account you cannot open here").wait_for(timeout=WAIT_MS)
        caption = page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {USER}")
        caption.wait_for(timeout=WAIT_MS)
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill("What was gross volume last month?")
        box.press("Enter")
        page.get_by_test_id("stMetricValue").first.wait_for(timeout=WAIT_MS)
        page.wait_for_url(lambda url: "account=acct_demo_01" in url, timeout=WAIT_MS)
        page.screenshot(path=str(REPORTS / "access-trusted-header.png"))
        assert proxy.upgrades >= 1  # the identity reached Streamlit on the WebSocket handshake
        context.close()
    finally:
        proxy.close()


def test_the_app_port_reached_without_the_proxy_shows_no_account(
    app_port: int, browser: object
) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    page.goto(f"http://127.0.0.1:{app_port}/?account=acct_demo_01")
    page.get_by_text("sign-in proxy", exact=False).first.wait_for(timeout=WAIT_MS)
    assert page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").count() == 0
    assert page.get_by_test_id("stChatInputTextArea").count() == 0
    page.close()
