"""`python -m app.access --address HOST`: exit 2 with the reason when the app must not serve."""

from __future__ import annotations

import argparse
import sys

from app.access.modes import startup_problem
from app.core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Check the identity settings for a bind address; 0 when the app may serve there."""
    parser = argparse.ArgumentParser(prog="python -m app.access", description=__doc__)
    parser.add_argument("--address", default="", help="the address the app binds to")
    args = parser.parse_args(argv)
    problem = startup_problem(load_settings(), args.address)
    if problem is not None:
        print(f"error: Ledgerlens refuses to serve: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
