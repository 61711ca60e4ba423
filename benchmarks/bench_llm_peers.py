"""Ledgerlens' agent and LangChain's SQL agent on the same local model, sample and scorer.

Both run through the eval Runner on the demo warehouse, case by case and interleaved (ours, then
the peer), over the fixed live sample (`evals/live_sample.yaml`) in its order: ours with
`--backend agent` alone (the engine is not consulted), the peer as `benchmarks/langchain_peer.py`
builds it. Each finished case is appended to a JSON-lines file at once, so a run stopped at any
point keeps what it measured and a second run skips what is done (`--fresh` starts over).
The table counts only the cases both finished.

Columns: EX (execution accuracy over the answerable cases), wrong answers presented (an answer
shown whose result does not match the reference, or any answer to a case that expects a refusal),
refused (refusals and clarifications), p50/p95 seconds per question, prompt and cached tokens per
question (as the server reports them), and the prompt SHA-256s our answers report.

Run (the local server on a non-default port): LEDGERLENS_LLM=local LEDGERLENS_LLM_LOCAL_PORT=8097
    nice -n 10 python -m benchmarks.bench_llm_peers [--limit N] [-k EXPR] [--peers agent,langchain]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.settings import Settings
from app.llm.local import use_local_llm
from benchmarks._common import OUT_DIR, git_commit, table
from benchmarks.langchain_peer import langchain_backend
from evals.backends import make_backend
from evals.cases import load_cases
from evals.run import CASES_DIR, Backend, Runner
from evals.sample import SAMPLE, load_sample, select_sample
from evals.select import parse_keyword
from evals.summary import case_record, prompts_used, summarize

PEERS = ("agent", "langchain")
LABELS = {"agent": "Ledgerlens agent (--backend agent)", "langchain": "LangChain SQL agent"}
LOG = OUT_DIR / "llm_peers.jsonl"


def done_records(log: Path) -> list[dict[str, Any]]:
    """Every record the log holds (one JSON object a line; a torn last line is skipped)."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def import_report(report: Path, log: Path) -> int:
    """Append the case records of a live agent-only eval report to the log (once per case)."""
    data = json.loads(report.read_text(encoding="utf-8"))
    run = data["run"]
    if run["backend"] != "agent" or run["mode"] != "live":
        raise SystemExit(f"{report}: not a live `--backend agent` report")
    done = {(r["peer"], r["id"]) for r in done_records(log)}
    fresh = [c | {"peer": "agent"} for c in data["cases"] if ("agent", c["id"]) not in done]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.writelines(json.dumps(c) + "\n" for c in fresh)
    return len(fresh)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value / 1000:.1f}"


def peer_rows(records: Sequence[Mapping[str, Any]], peers: Sequence[str]) -> list[list[str]]:
    """One table row per peer over the cases every peer finished."""
    ids = [{r["id"] for r in records if r["peer"] == p} for p in peers]
    common = set.intersection(*ids) if ids else set()
    rows = []
    for peer in peers:
        mine = [r for r in records if r["peer"] == peer and r["id"] in common]
        s = summarize(mine)
        ex = "—" if s["execution_accuracy"] is None else f"{s['execution_accuracy']:.1%}"
        right = sum(r["status"] == "pass" and r["expect"] == "answer" for r in mine)
        tokens = s["prompt_tokens_per_question"]
        cached = s["cached_tokens_per_question"]
        rows.append(
            [
                LABELS.get(peer, peer),
                str(s["cases"]),
                f"{ex} ({right}/{s['answerable']})",
                str(s["presented_wrong"]),
                str(s["refused"]),
                str(s["error"]),
                f"{_seconds(s['latency_ms_p50'])} / {_seconds(s['latency_ms_p95'])}",
                "—" if tokens is None else f"{tokens:,.0f}",
                "—" if cached is None else f"{cached:,.0f}",
            ]
        )
    return rows


HEADER = [
    "backend",
    "n",
    "EX",
    "wrong answers presented",
    "refused",
    "errors",
    "p50 / p95 s",
    "prompt tokens / q",
    "cached tokens / q",
]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_file(settings: Settings) -> str:
    from app.llm.catalogue import find_model
    from app.llm.install import model_path
    from app.llm.local import models_dir

    try:
        path = model_path(models_dir(settings), find_model(settings.llm_local_model))
    except (LookupError, ValueError):
        return settings.llm_model
    return f"{path.name} (sha256 {_sha256(path)})" if path.exists() else settings.llm_model


def _backend(peer: str, settings: Settings) -> Backend:
    if peer == "agent":
        return make_backend("agent", settings, live=True)
    backend: Backend = langchain_backend(settings, OUT_DIR / "peer-mirrors")
    return backend


def main() -> None:
    """Run what is not yet in the log, then print the side-by-side table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sample", type=Path, default=SAMPLE)
    p.add_argument("--limit", type=int, help="only the first N cases of the sample")
    p.add_argument("-k", dest="keyword", help="select cases as `ledgerlens eval -k` does")
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--log", type=Path, default=LOG, help="JSON-lines results (resumable)")
    p.add_argument("--fresh", action="store_true", help="discard the log and start over")
    p.add_argument(
        "--warehouse",
        type=Path,
        help="run on this DuckDB file (a private copy of demo) instead of the pinned demo",
    )
    p.add_argument("--report-only", action="store_true", help="print the table from the log")
    p.add_argument(
        "--import-report",
        type=Path,
        metavar="FILE.json",
        help="first add the cases of an `eval --live --backend agent` JSON report to the log",
    )
    a = p.parse_args()
    peers = [x for x in a.peers.split(",") if x]
    unknown = set(peers) - set(PEERS)
    if unknown:
        p.error(f"unknown peers {sorted(unknown)}; choose from {', '.join(PEERS)}")
    cases = select_sample(load_cases([CASES_DIR]), load_sample(a.sample))[: a.limit]
    if a.keyword:
        match = parse_keyword(a.keyword)
        cases = [c for c in cases if match([c.name, *c.tags, c.difficulty])]
    if a.fresh:
        a.log.unlink(missing_ok=True)
    if a.import_report:
        import_report(a.import_report, a.log)
    settings = use_local_llm(Settings()) if not a.report_only else Settings()
    load_at_start = "/".join(f"{x:.2f}" for x in os.getloadavg())
    if not a.report_only:
        a.log.parent.mkdir(parents=True, exist_ok=True)
        runners = {
            peer: Runner(
                settings,
                backend=_backend(peer, settings),
                only="demo",
                warehouse=a.warehouse,
                repeat=1,
            )
            for peer in peers
        }
        try:
            for case in cases:
                done = {(r["peer"], r["id"]) for r in done_records(a.log)}
                for peer in peers:
                    if (peer, case.name) in done:
                        continue
                    result = runners[peer].run_case(case)
                    record = case_record(result, peer, {})
                    record.update(peer=peer, load=os.getloadavg()[0])
                    with a.log.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(record, default=str) + "\n")
                    print(
                        f"{peer:9} {case.name}: {record['status']} "
                        f"({(record['latency_ms'] or 0) / 1000:.1f} s)",
                        flush=True,
                    )
        finally:
            for runner in runners.values():
                runner.close()
    names = {c.name for c in cases}
    records = [r for r in done_records(a.log) if r["id"] in names and r["peer"] in peers]
    loads = [r["load"] for r in records if "load" in r]
    used = prompts_used(r for r in records if r["peer"] == "agent")
    print(
        f"\nLive peers: commit {git_commit()}, model {_model_file(settings)}, "
        f"{os.cpu_count()} cores shared with other work, load average at start {load_at_start}"
        + (f", 1-min load during the cases {min(loads):.1f}-{max(loads):.1f}" if loads else "")
        + f"; sample {a.sample.name}, {len(cases)} case(s) selected.\n"
    )
    print(table(HEADER, peer_rows(records, peers)))
    if used:
        print(
            "\nPrompts our answers used: "
            + ", ".join(f"{n} {'/'.join(h[:12] for h in hs)}" for n, hs in used.items())
        )


if __name__ == "__main__":
    main()
