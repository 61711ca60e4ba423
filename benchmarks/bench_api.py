"""HTTP API throughput: N concurrent clients, each with an embed token for its own account.

`ledgerlens serve` runs in a subprocess on 127.0.0.1 over the demo warehouse (embed tokens on,
rate limits lifted so the server, not the limiter, is measured). Each client thread has its own
httpx client and a token for one of the demo accounts (clients spread over the accounts), and for
`--duration` seconds asks a fixed round of engine questions (follow-ups included) in a fresh
conversation per round, one question after another; every fifth question is streamed (SSE).

Checked on every reply, counted and reported (each must be 0):

* errors: a non-2xx reply, an `error` status, a broken stream, or a transport error;
* cross-account: an answer for another account, a row of pasted SQL naming another account, an
  answer whose headline differs from the one a single client got for the same account and
  question before the load (a mix-up between concurrent requests would show here), or a read of
  another client's conversation (another account) that was not refused (403, or 404 when the
  conversation is another user's).

Run: python -m benchmarks.bench_api [--clients 20] [--duration 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import OUT_DIR, ROOT, fmt_ms, header_line, log, p50, pct, table

ACCOUNTS = ("acct_demo_01", "acct_demo_02", "acct_demo_03")
SECRET = "bench-api-secret-0123456789abcdefghij"
AS_OF = "2025-12-31"
ROWS_SQL = "SELECT merchant_id, count(*) AS n FROM charges GROUP BY merchant_id"
ROUND = (
    "gross volume last quarter",
    "and by month?",
    "MRR by plan last quarter",
    "refund rate by month this year",
    "and by country?",
    "net volume last month",
    "tax collected by country last quarter",
    "new customers by month this year",
    "top 5 customers by gross volume this year",
    ROWS_SQL,
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(demo: Path, state: Path, port: int) -> subprocess.Popen[bytes]:
    """`ledgerlens serve` with embed tokens and no effective rate limit; waits until it answers."""
    import httpx

    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env |= {
        "PYTHONPATH": str(ROOT),
        "LEDGERLENS_WAREHOUSE_PATH": str(demo),
        "LEDGERLENS_STATE_PATH": str(state),
        "LEDGERLENS_EMBED_SECRET": SECRET,
        "LEDGERLENS_API_RATE_PER_MINUTE": "1000000000",
        "LEDGERLENS_API_RATE_BURST": "1000000",
    }
    cmd = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    for _ in range(240):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", trust_env=False).is_success:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.25)
    proc.kill()
    raise SystemExit("the API server did not start")


class Client(threading.Thread):
    """One client: its account, token, latencies and counts."""

    def __init__(self, base: str, account: str, token: str, shared: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.base, self.account, self.token, self.shared = base, account, token, shared
        self.ms: list[float] = []
        self.counts: Counter[str] = Counter()

    def run(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, trust_env=False, timeout=60) as c:
            while not self.shared["stop"].is_set():
                try:
                    self.round(c)
                except httpx.HTTPError:
                    self.counts["errors"] += 1

    def round(self, c: Any) -> None:
        r = c.post("/v1/conversations", json={"as_of": AS_OF})
        if not self.ok(r) or r.json()["account"] != self.account:
            self.counts["cross_account" if r.is_success else "errors"] += 1
            return
        cid = r.json()["id"]
        self.shared["conversations"][self.account] = cid
        for i, question in enumerate(ROUND):
            if self.shared["stop"].is_set():
                return
            stream = i % 5 == 4
            t0 = time.perf_counter()
            answer = self.ask_stream(c, cid, question) if stream else self.ask(c, cid, question)
            self.ms.append((time.perf_counter() - t0) * 1000)
            self.counts["requests"] += 1
            if answer is not None:
                self.check(question, answer)
        self.peek(c)

    def ok(self, r: Any) -> bool:
        if not r.is_success:
            self.counts["errors"] += 1
            self.counts[f"http_{r.status_code}"] += 1
        return bool(r.is_success)

    def ask(self, c: Any, cid: str, question: str) -> dict[str, Any] | None:
        r = c.post(f"/v1/conversations/{cid}/messages", json={"question": question})
        return dict(r.json()) if self.ok(r) else None

    def ask_stream(self, c: Any, cid: str, question: str) -> dict[str, Any] | None:
        body, names = {"question": question}, []
        accept = {"Accept": "text/event-stream"}
        with c.stream("POST", f"/v1/conversations/{cid}/messages", json=body, headers=accept) as r:
            if not self.ok(r):
                return None
            blocks = r.read().decode().strip().split("\n\n")
        for block in blocks:
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            names.append(fields.get("event"))
        if names[-1] != "answer" or names.count("answer") != 1 or "error" in names:
            self.counts["errors"] += 1
            return None
        data = [ln[6:] for ln in blocks[-1].splitlines() if ln.startswith("data: ")]
        return dict(json.loads("\n".join(data)))

    def check(self, question: str, answer: dict[str, Any]) -> None:
        if answer["status"] == "error":
            self.counts["errors"] += 1
        if answer["account"] != self.account:
            self.counts["cross_account"] += 1
        if question == ROWS_SQL:
            self.counts["rows_checked"] += len(answer["rows"])
            self.counts["cross_account"] += sum(r[0] != self.account for r in answer["rows"])
        expected = self.shared["reference"].get((self.account, question))
        if expected is not None and answer["headline"] != expected:
            self.counts["cross_account"] += 1
            self.counts["headline_mismatch"] += 1

    def peek(self, c: Any) -> None:
        """Try to read another account's conversation: it must be refused (403 or 404)."""
        for account, cid in list(self.shared["conversations"].items()):
            if account != self.account:
                r = c.get(f"/v1/conversations/{cid}/messages/1")
                self.counts[
                    "peeks_refused" if r.status_code in (403, 404) else "cross_account"
                ] += 1
                return


def reference(base: str, tokens: dict[str, str]) -> dict[tuple[str, str], str]:
    """Each account's headline for each question of the round, asked by one client alone."""
    import httpx

    out: dict[tuple[str, str], str] = {}
    for account, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, trust_env=False, timeout=60) as c:
            cid = c.post("/v1/conversations", json={"as_of": AS_OF}).json()["id"]
            for q in ROUND:
                answer = c.post(f"/v1/conversations/{cid}/messages", json={"question": q}).json()
                out[(account, q)] = answer["headline"]
    return out


def measure(clients: int, duration: float) -> dict[str, Any]:
    """Run the load; return the figures."""
    import tempfile

    from app.api.tokens import mint_token
    from app.core.settings import Settings
    from evals.warehouses import ensure_warehouse

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(ensure_warehouse("demo"), Path(tmp) / "state.sqlite3", port)
        try:
            settings = Settings(embed_secret=SECRET)
            now = datetime.now(UTC)  # allowed-clock: benchmark edge
            ttl = min(settings.embed_max_ttl_s, int(duration) + 600)

            def token(account: str, user: str) -> str:
                return mint_token(settings, account=account, user=user, now=now, ttl_s=ttl)

            shared: dict[str, Any] = {"stop": threading.Event(), "conversations": {}}
            shared["reference"] = reference(base, {a: token(a, "reference") for a in ACCOUNTS})
            threads = [
                Client(base, ACCOUNTS[i % 3], token(ACCOUNTS[i % 3], f"c{i}"), shared)
                for i in range(clients)
            ]
            started = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(duration)
            shared["stop"].set()
            for t in threads:
                t.join(timeout=120)
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = [m for t in threads for m in t.ms]
    counts: Counter[str] = sum((t.counts for t in threads), Counter())
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": counts["requests"],
        "rps": counts["requests"] / elapsed,
        "p50_ms": p50(ms) if ms else float("nan"),
        "p95_ms": pct(ms, 0.95) if ms else float("nan"),
        "p99_ms": pct(ms, 0.99) if ms else float("nan"),
        "errors": counts["errors"],
        "cross_account": counts["cross_account"],
        "counts": dict(counts),
    }


def markdown(r: dict[str, Any]) -> str:
    """The section's text."""
    c = r["counts"]
    body = [
        [
            r["clients"],
            f"{r['duration_s']:.0f}",
            r["requests"],
            f"{r['rps']:.1f}",
            fmt_ms(r["p50_ms"]),
            fmt_ms(r["p95_ms"]),
            fmt_ms(r["p99_ms"]),
            r["errors"],
            r["cross_account"],
        ]
    ]
    head = ["clients", "s", "questions", "questions/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    return "\n".join(
        [
            f"`ledgerlens serve` (one uvicorn process) on 127.0.0.1 over the demo warehouse; "
            f"{r['clients']} client threads with embed tokens spread over {len(ACCOUNTS)} "
            f"accounts, each asking a round of {len(ROUND)} engine questions (follow-ups, one "
            "pasted SELECT; every fifth streamed as SSE) in a fresh conversation per round. "
            "Latency is per question, client side.",
            "",
            table([*head, "cross-account"], body),
            "",
            f"Checked: {c.get('rows_checked', 0)} rows of pasted SQL (each must be the client's "
            f"account), every headline against a single client's for the same account, and "
            f"{c.get('peeks_refused', 0)} reads of another account's conversation (all refused: "
            "403, or 404 for another user's). Errors and cross-account must both be 0.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: print the API throughput section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    args = ap.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log(f"API load: {args.clients} clients for {args.duration:.0f} s ...")
    result = measure(args.clients, args.duration)
    (OUT_DIR / "api.json").write_text(json.dumps(result, indent=1, default=str))
    print(header_line("HTTP API throughput"))
    print()
    print(markdown(result))
    return 0 if result["errors"] == 0 and result["cross_account"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
