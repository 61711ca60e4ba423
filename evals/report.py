"""Render an eval report (the JSON document of `evals/summary.py`) as Markdown and as HTML.

Both open with the run metadata, the warehouses and the prompt table, then the summary per path,
the changes against the baseline, breakdowns by tag, difficulty and file, the plumbing scenarios
(never counted as accuracy) and the per-case table. The HTML is one self-contained file (inline
CSS, no scripts); every value is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

from evals.summary import STATUSES

_SUMMARY_COLUMNS = (
    ("cases", "cases"),
    ("pass", "pass"),
    ("wrong", "wrong"),
    ("missed", "missed"),
    ("hallucinated", "hallucinated"),
    ("error", "error"),
    ("execution_accuracy", "EX"),
    ("valid_sql_rate", "valid SQL"),
    ("refusals_ok", "refusals ok"),
    ("numbers_verified", "numbers verified"),
    ("latency_ms_p50", "p50 ms"),
    ("latency_ms_p95", "p95 ms"),
    ("refused", "refused"),
    ("presented_wrong", "wrong answer presented"),
    ("prompt_tokens_per_question", "prompt tokens / question"),
    ("cached_tokens_per_question", "cached tokens / question"),
    ("tokens", "tokens"),
    ("cost_usd", "cost USD"),
)
_BREAKDOWN_COLUMNS = (("cases", "cases"), *((s, s) for s in STATUSES), ("execution_accuracy", "EX"))
Section = tuple[str, list[str] | None, list[list[str]], str]
"""(heading, table header or None for a bullet list, rows, note)."""


def _show(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and key in (
        "execution_accuracy",
        "valid_sql_rate",
        "refusals_ok",
        "numbers_verified",
        "pass_at_1",
        "pass_hat_k",
    ):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _delta(prompt: Mapping[str, Any]) -> str:
    if prompt["baseline_sha256"] is None:
        return "new (not in baseline)"
    if prompt["baseline_sha256"] == prompt["sha256"]:
        return "unchanged"
    change = prompt["tokens"] - (prompt["baseline_tokens"] or 0)
    return (
        f"v{prompt['baseline_version']} → v{prompt['version']}, "
        f"sha {str(prompt['baseline_sha256'])[:8]} → {prompt['sha256'][:8]}, {change:+d} tokens"
    )


def _sections(report: Mapping[str, Any]) -> list[Section]:
    """(heading, table header or None, rows or lines, note) per section, shared by both formats."""
    run, inputs, summary = report["run"], report["inputs"], report["summary"]
    libraries = ", ".join(f"{k} {v}" for k, v in sorted(run["libraries"].items()) if v)
    commit = run.get("git_commit") or "unknown"
    meta = [
        ("run", run["id"]),
        ("started (UTC)", run["started"]),
        ("git commit", commit + (" (uncommitted changes)" if run.get("git_dirty") else "")),
        ("mode", run["mode"]),
        ("backend", run["backend"]),
        ("model", run.get("model") or "none (offline engine)"),
        ("model host", run.get("base_url_host") or "—"),
        ("repeats", str(run["repeat"])),
        ("jobs", str(run["jobs"])),
        ("case paths", ", ".join(run["paths"])),
        ("selection (-k)", run.get("keyword") or "all cases"),
        ("sample", run.get("sample") or "—"),
        ("only on warehouse", run.get("only") or "—"),
        ("warehouse override", run.get("warehouse") or "—"),
        ("wall time", f"{run['wall_s']:.1f} s" if run.get("wall_s") is not None else "—"),
        ("libraries", libraries),
    ]
    warehouses = [
        [
            name,
            str(spec.get("scale", "—")),
            str(spec.get("seed", "—")),
            str(spec.get("end", "—")),
            spec["sha256"],
        ]
        for name, spec in sorted(inputs["warehouses"].items())
    ]
    prompts = [
        [p["name"], str(p["version"]), p["sha256"], str(p["tokens"]), _delta(p)]
        for p in report["prompts"]
    ]
    paths = [("all", summary), *report["by_path"].items()]
    summary_rows = [[name, *(_show(k, s[k]) for k, _ in _SUMMARY_COLUMNS)] for name, s in paths]
    stages = ", ".join(
        f"{name.removesuffix('_ms')} {_show('', v['p50'])}/{_show('', v['p95'])}"
        for name, v in report["stages"].items()
    )
    note = f"Stage latency p50/p95 ms: {stages}." if stages else ""
    if summary.get("known_failures"):
        note += f" Known failures (evals/known_failures.yaml): {summary['known_failures']}."
    if summary.get("repeat", 1) > 1:
        note += (
            f" Repeats: {summary['repeat']}; pass@1 {_show('pass_at_1', summary['pass_at_1'])}, "
            f"pass^k {_show('pass_hat_k', summary['pass_hat_k'])}."
        )
    sections: list[Section] = [
        ("Run", ["", ""], [list(m) for m in meta], ""),
        ("Warehouses", ["name", "scale", "seed", "end", "fingerprint (sha256)"], warehouses, ""),
        (
            "Prompts",
            ["name", "version", "sha256", "tokens", "Δ vs baseline"],
            prompts,
            "" if prompts else "No prompts found (app/agent/prompts.py or prompts/ missing).",
        ),
        ("Summary", ["path", *(label for _, label in _SUMMARY_COLUMNS)], summary_rows, note),
        *_changes(report.get("gate")),
    ]
    for title, key in (
        ("By tag", "by_tag"),
        ("By difficulty", "by_difficulty"),
        ("By file", "by_file"),
    ):
        rows = [
            [n, *(_show(k, s[k]) for k, _ in _BREAKDOWN_COLUMNS)] for n, s in report[key].items()
        ]
        sections.append(
            (title, [title.split()[-1], *(lab for _, lab in _BREAKDOWN_COLUMNS)], rows, "")
        )
    plumbing = [c for c in report["cases"] if c["plumbing"]]
    sections.append(
        (
            "Plumbing scenarios (scripted models — not accuracy)",
            ["case", "status", "reasons", "detail"],
            [[c["id"], c["status"], ", ".join(c["reasons"]), c["detail"]] for c in plumbing],
            "" if plumbing else "No plumbing scenarios in this run.",
        )
    )
    cases = [
        [
            c["id"],
            c["status"],
            ", ".join(c["reasons"]),
            c["detail"] or "",
            "yes" if c["known_failure"] else "",
            _show("", c["latency_ms"]),
            _show("", c["tokens"]),
            c["sql"] or "",
        ]
        for c in sorted(report["cases"], key=lambda c: c["status"] == "pass")
        if not c["plumbing"]
    ]
    sections.append(
        (
            "Per-case table",
            ["case", "status", "reasons", "detail", "known failure", "latency ms", "tokens", "SQL"],
            cases,
            "Cases that do not pass come first. Known failures are listed in "
            "evals/known_failures.yaml with their reasons.",
        )
    )
    return sections


def _changes(gate: Mapping[str, Any] | None) -> list[Section]:
    if gate is None:
        return [("Changes vs baseline", None, [], "No baseline was applied to this run.")]
    verdict = "passed" if gate["ok"] else "FAILED"
    out: list[Section] = [
        (
            "Changes vs baseline",
            None,
            [[line] for line in gate["problems"]],
            f"Gate {verdict} against {gate['baseline']}.",
        ),
    ]
    regressions = [
        [f"{r['id']} ({r['was']} → {r['now']}) — {', '.join(r['reasons'])}: {r['detail']}"]
        for r in gate["regressions"]
    ]
    hallucinated = [
        [f"{h['id']} answered a {h['expect']} case: {h['detail']}"] for h in gate["hallucinated"]
    ]
    improvements = [
        [
            f"{i['id']} ({i['was']} → pass)"
            + (" — listed in evals/known_failures.yaml: remove it" if i["known_failure"] else "")
        ]
        for i in gate["improvements"]
    ]
    for title, rows in (
        ("Regressions (fail the gate)", regressions),
        ("Hallucinated answers (fail the gate)", hallucinated),
        (
            "Prompt / schema / input changes (stale baseline fails the gate)",
            [[s] for s in gate["stale"]],
        ),
        ("Prompt token growth over 10% (fails the gate)", [[t] for t in gate["token_growth"]]),
        ("New cases not in the baseline (fail until accepted)", [[n] for n in gate["new_cases"]]),
        ("Baseline cases not run", [[n] for n in gate["removed_cases"]]),
        ("Improvements", improvements),
    ):
        if rows or title.startswith(_ALWAYS):
            out.append((title, None, rows, "" if rows else "None."))
    return out


# ----------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\|<>*_\[\]`#])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_code(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split()).replace("`", "'")
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    piped = flat.replace("|", "\\|")
    return f"`{piped}`" if flat else ""


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report as GitHub-flavoured Markdown."""
    lines = [f"# Ledgerlens eval report {_md(report['run']['id'])}", ""]
    for heading, header, rows, note in _sections(report):
        level = "###" if heading.startswith(_SUBSECTIONS) else "##"
        lines += [f"{level} {heading}", ""]
        if note:
            lines += [_md(note), ""]
        if header is None:
            lines += [f"- {_md(row[0])}" for row in rows] + ([""] if rows else [])
            continue
        if not rows:
            continue
        code = {len(header) - 1} if header[-1] == "SQL" else set()
        lines.append("| " + " | ".join(_md(h) for h in header) + " |")
        lines.append("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            cells = [
                _md_code(v) if i in code or (i == 0 and header != ["", ""]) else _md(v)
                for i, v in enumerate(row)
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


_ALWAYS = ("Regressions", "Prompt /", "Improvements")
_SUBSECTIONS = (
    "Regressions",
    "Hallucinated",
    "Prompt /",
    "Prompt token",
    "New cases",
    "Baseline cases",
    "Improvements",
)

# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
h3{font-size:1rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #dde;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{white-space:pre-wrap;margin:.3rem 0;background:#f7f7fa;padding:.4rem}
.status{font-weight:600;padding:0 .3rem;border-radius:3px}
.pass{background:#dff3e4;color:#14532d}.wrong{background:#fde2e1;color:#7f1d1d}
.missed{background:#fff1d6;color:#78350f}.hallucinated{background:#f5d0fe;color:#701a75}
.error{background:#e5e7eb;color:#111827}.note{color:#4b5563}
"""


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _html_cell(header: str, value: str) -> str:
    if not header:  # the run table: labels and values, never numbers
        return f"<td>{_h(value)}</td>"
    if header == "status" and value in STATUSES:
        return f'<td><span class="status {value}">{_h(value)}</span></td>'
    if header == "SQL":
        if not value:
            return "<td></td>"
        return f"<td><details><summary>SQL</summary><pre>{_h(value)}</pre></details></td>"
    numeric = re.fullmatch(r"[-+]?[\d.,]+%?|—", value) is not None
    return f'<td class="num">{_h(value)}</td>' if numeric else f"<td>{_h(value)}</td>"


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts)."""
    title = f"Ledgerlens eval report {report['run']['id']}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_h(title)}</h1>",
    ]
    for heading, header, rows, note in _sections(report):
        tag = "h3" if heading.startswith(_SUBSECTIONS) else "h2"
        out.append(f"<{tag}>{_h(heading)}</{tag}>")
        if note:
            out.append(f'<p class="note">{_h(note)}</p>')
        if header is None:
            if rows:
                out.append("<ul>" + "".join(f"<li>{_h(r[0])}</li>" for r in rows) + "</ul>")
            continue
        if not rows:
            continue
        out.append("<table>")
        if any(header):
            out.append("<tr>" + "".join(f"<th>{_h(h)}</th>" for h in header) + "</tr>")
        cell: Callable[[str, str], str] = _html_cell
        for row in rows:
            out.append(
                "<tr>" + "".join(cell(h, v) for h, v in zip(header, row, strict=True)) + "</tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
