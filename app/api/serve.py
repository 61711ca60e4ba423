"""`ledgerlens serve`, `api-key` and `token`: run the API, issue a scoped key or an embed token."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from datetime import UTC, datetime
from pathlib import Path

from app.core.settings import Settings

DEFAULT_KEYS = Path("state/api-keys.yaml")


def add_serve_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `serve`, `api-key` and `token` subcommands."""
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
    token = sub.add_parser("token", help="print a signed embed token for one account and user")
    token.add_argument("--account", required=True, help="the only account the token may read")
    token.add_argument("--user", required=True, help="who the host page signed in")
    token.add_argument("--page", help="the host page it is for (optional)")
    token.add_argument("--ttl", type=int, default=600, help="seconds it lives (default: 600)")
    token.add_argument(
        "--private-key", type=Path, help="sign RS256 with this PEM key (default: HS256 secret)"
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
    guarded = settings.api_keys_path is not None or settings.embed_secret is not None
    guarded = guarded or settings.embed_public_key_path is not None
    if not guarded and not is_loopback(args.host):
        print(
            f"error: no API keys are configured, so the API serves only loopback, not {args.host}."
            "\nAdd a key with `ledgerlens api-key NAME --account ACCOUNT` and set "
            "LEDGERLENS_API_KEYS_PATH to its file.",
            file=sys.stderr,
        )
        return 2
    app = create_app(settings)
    who = "API keys or embed tokens" if guarded else "no keys: the local user, every account"
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


def run_token(args: argparse.Namespace, settings: Settings) -> int:
    """Print a signed embed token (the host page's server does the same with its own key)."""
    from app.api.tokens import mint_token

    now = datetime.now(UTC)  # allowed-clock: CLI edge
    try:
        token = mint_token(
            settings,
            account=args.account,
            user=args.user,
            page=args.page,
            ttl_s=args.ttl,
            now=now,
            private_key=args.private_key,
        )
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(token)
    return 0
