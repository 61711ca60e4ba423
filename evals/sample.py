"""The fixed live-eval sample: a stratified draw of eval cases plus every case the engine refuses.

Live runs against a real model take 20-120 s a question on shared cores, so they use a sample that
is drawn once and committed (`evals/live_sample.yaml`): from the cases the engine does not refuse,
at least one per (case file, difficulty) stratum and the rest allotted in proportion to the
strata's sizes (largest remainders), each stratum's cases drawn with a fixed seed; then every
case the accepted baseline (`evals/baseline.json`) marks `missed` (the engine refused an
answerable question), the ones the agent exists for. The run order is shuffled with the same seed,
so the first N cases of a partial run (`--limit N`) are a fair subset, not one file's cases.

Draw again (only when the case files change on purpose): python -m evals.sample [--size 60]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from evals.baseline import BASELINE, ROOT
from evals.cases import Case, load_cases

SAMPLE = ROOT / "evals" / "live_sample.yaml"
SEED = 18
SIZE = 60


class SampleError(ValueError):
    """A sample file that cannot be used; the message says why."""


def _stratum(case: Case) -> str:
    return f"{case.source.stem if case.source else '?'}/{case.difficulty}"


def _allot(sizes: Mapping[str, int], total: int) -> dict[str, int]:
    """One case per stratum, the rest in proportion to the strata's sizes (largest remainder)."""
    quota = dict.fromkeys(sizes, 1)
    left = total - len(sizes)
    if left <= 0:
        return quota
    spare = {k: n - 1 for k, n in sizes.items()}
    pool = sum(spare.values())
    shares = {k: left * n / pool for k, n in spare.items()} if pool else {}
    for k, share in shares.items():
        quota[k] += int(share)
    order = sorted(shares, key=lambda k: (-(shares[k] - int(shares[k])), k))
    for k in order[: left - sum(int(s) for s in shares.values())]:
        quota[k] += 1
    return {k: min(q, sizes[k]) for k, q in quota.items()}


def draw(
    cases: Sequence[Case], verdicts: Mapping[str, str], size: int = SIZE, seed: int = SEED
) -> list[dict[str, str]]:
    """The sample entries (name, stratum, why) in run order; the same inputs give the same list."""
    refused = sorted(c.name for c in cases if verdicts.get(c.name) == "missed")
    strata: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        if case.name not in refused:
            strata[_stratum(case)].append(case.name)
    quota = _allot({k: len(v) for k, v in strata.items()}, size)
    rng = random.Random(seed)
    chosen = {k: rng.sample(sorted(strata[k]), quota[k]) for k in sorted(strata)}
    by_name = {c.name: _stratum(c) for c in cases}
    entries = [
        {"name": n, "stratum": k, "why": "stratified"} for k, ns in chosen.items() for n in ns
    ]
    entries += [{"name": n, "stratum": by_name[n], "why": "engine_refused"} for n in refused]
    rng.shuffle(entries)
    return entries


def load_sample(path: Path = SAMPLE) -> list[str]:
    """The case names of a sample file, in run order."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SampleError(f"cannot read the sample {path}: {exc}") from exc
    entries = raw.get("cases") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SampleError(f"{path} has no `cases:` list")
    return [str(e["name"]) if isinstance(e, dict) else str(e) for e in entries]


def select_sample(cases: Sequence[Case], names: Sequence[str]) -> list[Case]:
    """The sample's cases in the sample's order; a name no case has is an error."""
    by_name = {c.name: c for c in cases}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SampleError(f"the sample names cases that do not exist: {', '.join(unknown[:5])}")
    return [by_name[n] for n in names]


def sample_document(entries: Sequence[Mapping[str, str]], size: int, seed: int) -> dict[str, Any]:
    """The YAML document for a drawn sample, with how it was drawn."""
    return {
        "drawn_by": "python -m evals.sample",
        "seed": seed,
        "stratified_size": size,
        "strata": "case file / difficulty; at least one each, the rest proportional",
        "engine_refused_from": "evals/baseline.json verdicts `missed`",
        "cases": [dict(e) for e in entries],
    }


def main() -> None:
    """Draw the sample and write evals/live_sample.yaml."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=SIZE)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--out", type=Path, default=SAMPLE)
    a = p.parse_args()
    verdicts = {k: v["status"] for k, v in json.loads(BASELINE.read_text())["cases"].items()}
    entries = draw(load_cases([ROOT / "evals" / "cases"]), verdicts, a.size, a.seed)
    header = "# The fixed live-eval sample (evals/sample.py says how it is drawn). Do not edit.\n"
    a.out.write_text(
        header + yaml.safe_dump(sample_document(entries, a.size, a.seed), sort_keys=False)
    )
    print(f"{len(entries)} cases written to {a.out}")


if __name__ == "__main__":
    main()
