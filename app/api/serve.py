"""`ledgerlens serve` and `ledgerlens api-key`: run the API with uvicorn, issue a scoped key."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from app.core.settings import Settings

DEFAULT_KEYS = Path("state/api-keys.yaml")


def add_serve_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `serve` and `api-key` subcommands."""
    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAPI docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--warehouse", type=Path, help="DuckDB warehouse file")
    key = sub.add_parser("api-key", help="add an API key scoped to accounts; prints it once")
    key.add_argument("id", help="a name for the key, e.g. finance-portal")
    key.add_argument(
        "--account", action="append", required=True, help="an account it may read (repeatable)"
    )
    key.add_argument(
        "--file",
        type=Path,
        help=f"policy file (default: the api_keys_path setting, else {DEFAULT_KEYS})",
    )


def is_loopback(host: str) -> bool:
    """Whether an address to bind is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the API until Ctrl-C; refuse a non-loopback address when no keys are configured."""
    import uvicorn

    from app.api.app import create_app

    if args.warehouse:
        settings = settings.model_copy(update={"warehouse_path": args.warehouse})
    if settings.api_keys_path is None and not is_loopback(args.host):
        print(
            f"error: no API keys are configured, so the API serves only loopback, not {args.host}."
            "\nAdd a key with `ledgerlens api-key NAME --account ACCOUNT` and set "
            "LEDGERLENS_API_KEYS_PATH to its file.",
            file=sys.stderr,
        )
        return 2
    app = create_app(settings)
    who = "API keys" if settings.api_keys_path else "no keys: the local user, every account"
    print(f"Ledgerlens API: http://{args.host}:{args.port}/docs ({who}; Ctrl-C stops it)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def run_api_key(args: argparse.Namespace, settings: Settings) -> int:
    """Add a key to the policy file and print it (the file keeps only its salted hash)."""
    from app.api.keys import add_key

    path = args.file or settings.api_keys_path or DEFAULT_KEYS
    try:
        key = add_key(path, args.id, args.account)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(key)
    print(
        f"Key {args.id!r} for {', '.join(sorted(set(args.account)))} added to {path}; it is "
        f"shown only now. Serve with LEDGERLENS_API_KEYS_PATH={path}.",
        file=sys.stderr,
    )
    return 0
