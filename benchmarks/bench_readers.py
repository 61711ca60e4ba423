"""Where planning time goes: each reader of the engine, before and after, same run (thread CPU).

Both code trees plan the same questions (every eval case of the working tree; follow-ups replayed
first, untimed) in their own subprocess (benchmarks/_readers_child.py), alternating over `--rounds`;
a reader's figure is the median over rounds of its microseconds per question. A reader only one
tree has shows "-" for the other. Used to find what a change to the engine costs, reader by reader.

Run: python -m benchmarks.bench_readers [--baseline-ref REF] [--rounds R] [--passes P]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks._common import ROOT, header_line, log, table
from benchmarks.bench_engine import baseline_tree, eval_cases, run_variant

CHILD = Path(__file__).resolve().parent / "_readers_child.py"
BASELINE_REF = "73ac27e"  # the commit before issue 17's readers


def main(argv: list[str] | None = None) -> int:
    """Run both trees, alternating, and print the per-reader table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline-ref", default=BASELINE_REF)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--passes", type=int, default=5)
    args = p.parse_args(argv)
    spec = {
        "warehouse": str(ROOT / "warehouse" / "demo.duckdb"),
        "cases": eval_cases(),
        "passes": args.passes,
    }
    trees = {f"before ({args.baseline_ref})": baseline_tree(args.baseline_ref), "after": ROOT}
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for i in range(args.rounds):
        order = list(trees) if i % 2 == 0 else list(reversed(trees))
        for name in order:
            log(f"readers benchmark: {name}, round {i + 1} of {args.rounds} ...")
            runs[name].append(run_variant(trees[name], spec, pure=False, child=CHILD))
    medians = {
        name: {k: statistics.median(r[k] for r in rs if k in r) for k in {k for r in rs for k in r}}
        for name, rs in runs.items()
    }
    before, after = (medians[name] for name in trees)
    names = sorted({*before, *after}, key=lambda k: -max(before.get(k, 0.0), after.get(k, 0.0)))

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    rows = [
        [
            f"`{k}`" if not k.startswith("(") else k,
            cell(before.get(k)),
            cell(after.get(k)),
            cell(after[k] - before[k]) if k in before and k in after else "-",
        ]
        for k in names
    ]
    print(header_line("Readers benchmark"))
    print()
    print(
        f"{len(spec['cases'])} eval cases x {args.passes} passes, thread CPU microseconds per "
        f"question, median of {args.rounds} rounds that alternate the trees."
    )
    print()
    print(table(["reader", next(iter(trees)), "after", "change"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
