"""Re-run every `$ ledgerlens ask ...` transcript in README.md and write its real output back.

Run from the repo root after `make warehouse`: python scripts/refresh_readme_examples.py
The SQL each answer prints is left out (as the README says); the terminal is 100 columns wide.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```\n(\$ ledgerlens ask [^\n]*)\n(.*?)```", re.S)


def run(command: str) -> str:
    """The command's output as a 100-column terminal shows it, without the SQL section."""
    args = shlex.split(command.removeprefix("$ "))
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    # `python -m app.cli` from the repo root runs this checkout's code, as `ledgerlens` does once
    # installed from it (an installed console script may point at another checkout).
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", *args[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (out.stdout + out.stderr).splitlines()
    if "SQL:" in lines:
        lines = lines[: lines.index("SQL:")]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite README.md in place."""
    readme = ROOT / "README.md"
    text = readme.read_text()
    new = BLOCK.sub(lambda m: f"```\n{m.group(1)}\n{run(m.group(1))}```", text)
    readme.write_text(new)
    print(f"{len(BLOCK.findall(text))} transcripts refreshed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
