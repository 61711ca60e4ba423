r"""A sample host page: a plain-HTML report with the Ledgerlens assistant embedded beside it.

The page's server (this script) stands for any reporting app: it decides who the visitor is and
which account they see, signs an embed token for that account on the server side, and writes it
into the page. The browser gets the token but cannot change what it names. The report beside the
assistant is the host's own, fetched server-to-server from the Ledgerlens API with the same token.

    LEDGERLENS_EMBED_SECRET=... LEDGERLENS_API_CORS_ORIGINS=http://127.0.0.1:8010 \
        python -m app.cli serve --port 8000 &
    LEDGERLENS_EMBED_SECRET=... python -m examples.host_page.server --port 8010 \
        --api http://127.0.0.1:8000 --account acct_demo_01 --user dana
"""

from __future__ import annotations

import argparse
import html
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

from app.api.tokens import mint_token
from app.core.settings import Settings

PAGE = Template((Path(__file__).with_name("index.html")).read_text(encoding="utf-8"))
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post(api: str, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST JSON to the Ledgerlens API with the embed token; the decoded JSON reply."""
    request = urllib.request.Request(
        api + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with _NO_PROXY.open(request, timeout=30) as reply:
        return dict(json.loads(reply.read()))


def report_rows(args: argparse.Namespace, token: str) -> str:
    """The host's own report table: the page's metric by month, asked server-to-server."""
    try:
        conv = _post(args.api, "/v1/conversations", token, {"as_of": args.as_of})
        answer = _post(
            args.api,
            f"/v1/conversations/{conv['id']}/messages",
            token,
            {"question": "by month", "page": page_context(args)},
        )
    except (urllib.error.URLError, OSError, KeyError, ValueError) as err:
        return f'<tr><td colspan="2">The report is unavailable ({html.escape(str(err))}).</td></tr>'
    return "\n".join(
        f"<tr><td>{html.escape(str(r[0]))}</td><td class=num>${Decimal(r[1]):,.2f}</td></tr>"
        for r in answer.get("rows", [])
    )


def page_context(args: argparse.Namespace) -> dict[str, Any]:
    """What the page shows: its name, metric and period (the assistant's page context)."""
    return {
        "name": args.page,
        "metric": args.metric,
        "period": {"start": args.start, "end": args.end},
    }


def render(args: argparse.Namespace, settings: Settings) -> str:
    """The page with a freshly signed token for the visitor's account."""
    token = mint_token(
        settings,
        account=args.account,
        user=args.user,
        page=args.page,
        ttl_s=args.ttl,
        now=datetime.now(UTC),  # allowed-clock: the host page's server edge
    )
    values = {
        "api": html.escape(args.api, quote=True),
        "token": html.escape(token, quote=True),
        "account": html.escape(args.account),
        "user": html.escape(args.user),
        "page": html.escape(args.page, quote=True),
        "metric": html.escape(args.metric, quote=True),
        "start": html.escape(args.start, quote=True),
        "end": html.escape(args.end, quote=True),
        "as_of": html.escape(args.as_of, quote=True),
        "rows": report_rows(args, token),
    }
    return PAGE.substitute(values)


def serve(args: argparse.Namespace) -> None:
    """Serve the page on 127.0.0.1 until interrupted."""
    settings = Settings()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                body, kind = b"ok", "text/plain"
            elif self.path in ("/", "/index.html"):
                body, kind = render(args, settings).encode(), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")  # a fresh token on every load
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"Sample host page: http://127.0.0.1:{args.port}/ (API {args.api})", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Parse the options and serve."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8010)
    ap.add_argument("--api", default="http://127.0.0.1:8000", help="the Ledgerlens API's URL")
    ap.add_argument("--account", default="acct_demo_01", help="the visitor's account")
    ap.add_argument("--user", default="dana", help="the visitor, as the host signed them in")
    ap.add_argument("--page", default="payments")
    ap.add_argument("--metric", default="gross_volume")
    ap.add_argument("--start", default="2025-01-01")
    ap.add_argument("--end", default="2025-04-01", help="exclusive")
    ap.add_argument("--as-of", default="2025-07-15")
    ap.add_argument("--ttl", type=int, default=600, help="seconds a page's token lives")
    serve(ap.parse_args(argv))


if __name__ == "__main__":
    main()
