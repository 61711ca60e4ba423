"""Command line of the app-state store: `ledgerlens history`, `feedback`, `verified`, `share`.

`app.cli` adds these subcommands and hands them here; the store and the pipeline are imported
only when one of them runs. The clock is read here, at the edge, and passed down.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.settings import Settings

if TYPE_CHECKING:
    from app.pipeline.assistant import Assistant
    from app.store import AppStore

STORE_COMMANDS = frozenset({"history", "feedback", "verified", "share"})
EXIT_OK, EXIT_USER = 0, 2


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", type=Path, help="app-state file (default: LEDGERLENS_STATE_PATH)")
    p.add_argument("--warehouse", type=Path, help="DuckDB warehouse file")


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, help="write the case file here (default: standard output)")


def add_store_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `history`, `feedback`, `verified` and `share` subcommands."""
    history = sub.add_parser("history", help="list your saved conversations, or one's answers")
    history.add_argument("conversation", nargs="?", help="a conversation id to show")
    history.add_argument(
        "--user", default=None, help="whose history (default: local_user, as in the app)"
    )
    history.add_argument("--account", help="only this account's conversations")
    _common(history)
    fb = sub.add_parser("feedback", help="give feedback on an answer; export thumbs-down as evals")
    fsub = fb.add_subparsers(dest="feedback_command", required=True)
    give = fsub.add_parser("give", help="thumbs up or down on a saved answer")
    give.add_argument("turn", type=int, help="answer id (from `ledgerlens history`)")
    give.add_argument("rating", choices=["up", "down"])
    give.add_argument("--correction", default="", help="what the right answer would be")
    give.add_argument("--user", default=None)
    _common(give)
    export = fsub.add_parser("export", help="thumbs-down answers as DRAFT eval cases")
    _out(export)
    _common(export)
    ver = sub.add_parser("verified", help="verified answers: add, list, renew, remove, export")
    vsub = ver.add_subparsers(dest="verified_command", required=True)
    add = vsub.add_parser("add", help="mark a saved answer verified")
    add.add_argument("turn", type=int, help="answer id (from `ledgerlens history`)")
    add.add_argument("--by", default=None, help="who verifies it (default: the local_user setting)")
    add.add_argument(
        "--global",
        dest="scope",
        action="store_const",
        const="global",
        default="account",
        help="apply to every account, not only the answer's",
    )
    _common(add)
    listing = vsub.add_parser("list", help="verified answers and whether each still holds")
    listing.add_argument("--account", help="only those that apply to this account")
    _common(listing)
    renew = vsub.add_parser("renew", help="verify again under the current model and schema")
    renew.add_argument("id", type=int)
    renew.add_argument("--by", default=None)
    _common(renew)
    remove = vsub.add_parser("remove", help="withdraw a verification")
    remove.add_argument("id", type=int)
    _common(remove)
    vexport = vsub.add_parser("export", help="verified answers as eval cases")
    _out(vexport)
    _common(vexport)
    share = sub.add_parser("share", help="reproduce a shared answer on current data")
    share.add_argument("token")
    share.add_argument("--json", action="store_true", help="print the Answer as JSON")
    _common(share)


def run_store_command(args: argparse.Namespace) -> int:
    """Run one store subcommand; a StoreError (unknown id, wrong file) is the user's to fix."""
    from app.store import AppStore, StoreError

    settings = Settings()
    update = {"state_path": args.state, "warehouse_path": args.warehouse}
    settings = settings.model_copy(update={k: v for k, v in update.items() if v is not None})
    for name in ("user", "by"):  # by default, the user the app keeps its conversations under
        if getattr(args, name, "") is None:
            setattr(args, name, settings.local_user)
    try:
        store = AppStore.open(settings)
        if args.command == "history":
            return _history(store, args)
        if args.command == "feedback":
            return _feedback(store, args)
        return _with_assistant(store, settings, args)
    except StoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER


def _clock() -> datetime:
    return datetime.now(UTC)  # allowed-clock: CLI edge


def _history(store: AppStore, args: argparse.Namespace) -> int:
    if args.conversation is None:
        for c in store.conversations(args.user, account=args.account):
            when = (c.last or c.created).strftime("%Y-%m-%d %H:%M")
            answers = f"{c.turns} answer{'' if c.turns == 1 else 's'}"
            print(f"{c.id}  {when}  {c.account}  {answers}  {c.title}")
        return EXIT_OK
    for t in store.turns(args.conversation, user=args.user):
        print(f"[{t.id}] {t.question}\n      {t.answer.status}: {t.answer.headline}")
    return EXIT_OK


def _write(text: str, out: Path | None, what: str) -> int:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"Wrote {what} to {out}.", file=sys.stderr)
    return EXIT_OK


def _feedback(store: AppStore, args: argparse.Namespace) -> int:
    from app.store import cases_file, draft_case

    if args.feedback_command == "give":
        fb = store.give_feedback(
            args.turn, user=args.user, rating=args.rating, correction=args.correction, at=_clock()
        )
        print(f"Thumbs {fb.rating} on answer {fb.turn_id} recorded for {fb.user}.")
        return EXIT_OK
    drafts = [draft_case(f) for f in store.feedback(rating="down")]
    return _write(cases_file(drafts), args.out, f"{len(drafts)} draft case(s)")


def _with_assistant(store: AppStore, settings: Settings, args: argparse.Namespace) -> int:
    from app.pipeline.assistant import Assistant

    assistant = Assistant(settings, store=store)
    try:
        if args.command == "share":
            return _share(assistant, store, args)
        return _verified(assistant, store, args)
    finally:
        assistant.session.close()


def _verified(assistant: Assistant, store: AppStore, args: argparse.Namespace) -> int:
    from app.store import cases_file, verified_case

    verifier = assistant.verifier
    assert verifier is not None  # the assistant was given the store
    command = args.verified_command
    if command == "add":
        v = verifier.verify(args.turn, by=args.by, at=_clock(), scope=args.scope)
        print(f"Verified answer {v.id}: {v.question!r} ({v.scope}) by {v.by}.")
    elif command == "renew":
        v = verifier.reverify(args.id, by=args.by, at=_clock())
        print(f"Verified answer {v.id} renewed by {v.by}.")
    elif command == "remove":
        store.unverify(args.id)
        print(f"Verified answer {args.id} withdrawn.")
    elif command == "list":
        for v in store.verified_answers(account=args.account):
            stale = verifier.stale(v)
            state = f"STALE: {stale}" if stale else "holds"
            print(f"{v.id}  {v.account or 'all accounts'}  {v.by} {v.at:%Y-%m-%d}  {state}")
            print(f"    {v.question}")
    else:
        items = store.verified_answers()
        cases = [verified_case(v, stale=verifier.stale(v)) for v in items]
        return _write(cases_file(cases), args.out, f"{len(cases)} case(s)")
    return EXIT_OK


def _share(assistant: Assistant, store: AppStore, args: argparse.Namespace) -> int:
    from app.pipeline.shares import open_share

    shown = open_share(assistant, store, args.token)
    if args.json:
        print(shown.answer.model_dump_json(indent=2))
    else:
        print(shown.answer.headline)
        for notice in shown.answer.notices:
            print(notice)
    return EXIT_OK
