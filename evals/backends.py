"""What answers the eval questions: the engine (`Assistant.ask`), the LLM agent, or the router.

`make_backend(name, settings, live=..., record=...)` returns a `Backend`: given the runner's
assistant over one warehouse, it builds the `(question, as_of, account, conversation) → Answer`
function the runner calls. `engine` is exactly what users get offline. `agent` sends every
question to the LLM agent; `auto` goes through `app.router.Router` (engine first, the agent when
the engine cannot plan, LLM prose when enabled). Offline, the agent's chat model replays recorded
cassettes (`evals/replay.py`, layer C) and a request with no recording is a hard `stale_cassette`
failure, never a network call; `--live` uses the configured model (layer D) and `--live --record`
also writes cassettes. Problems that stop a run before it starts raise `BackendUnavailable`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from app.core.answer import Answer
from app.core.conversation import Conversation
from app.core.errors import AssistantError
from app.core.request import Request
from app.core.settings import Settings
from app.pipeline.assistant import Assistant
from evals.run import Ask, Backend, BackendFailure, engine_backend

BACKENDS = ("engine", "agent", "auto")
LIVE_REFUSAL = (
    "Live evals need a model: set OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible "
    "server such as Ollama or vLLM) and run again."
)
Models = Callable[[], Any]
"""Gives the chat model for one question: shared when live, a fresh replay model otherwise."""


class BackendUnavailable(Exception):
    """The requested backend cannot run here; the message says what to do instead."""


def _models(
    settings: Settings,
    live: bool,
    record: bool,
    recorded_on: date | None,
    cassette_dir: Path | None,
) -> Models:
    from app.agent.loop import chat_model
    from app.agent.prompts import prompt_hashes

    if live and not record:
        model = chat_model(settings)
        return lambda: model
    try:
        replay = importlib.import_module("evals.replay")
    except ImportError as exc:
        raise BackendUnavailable(
            "Agent evals without --live replay recorded cassettes (evals/replay.py), which is not "
            "available here; use --backend engine, or --live with a model."
        ) from exc
    where = {"cassette_dir": cassette_dir} if cassette_dir is not None else {}
    hashes = prompt_hashes()
    if record:
        if recorded_on is None:
            raise ValueError("recording needs the date to stamp on the cassettes")
        recorder = replay.record(
            chat_model(settings), prompt_hashes=hashes, recorded_on=recorded_on, **where
        )
        return lambda: recorder
    template = chat_model(settings)  # names the model and its parameters; never called
    return lambda: replay.ReplayChatModel.like(template, prompt_hashes=hashes, **where)


def _checked(model: Any, call: Callable[[], Answer]) -> Answer:
    """Run one question; any request the replay model had no cassette for fails the case."""
    try:
        answer = call()
    except AssistantError as exc:
        if getattr(model, "misses", None):
            raise BackendFailure("stale_cassette", str(exc)) from exc
        raise
    misses = getattr(model, "misses", None)
    if misses:  # the router falls back to the engine on model errors: still a failure here
        raise BackendFailure(
            "stale_cassette",
            f"no recorded reply for {len(misses)} model request(s) (first {misses[0][:16]}…); "
            "record again with --live --record",
        )
    label = getattr(model, "provenance_label", None)
    if answer.llm is not None and callable(label) and label():
        return answer.model_copy(
            update={"llm": answer.llm.model_copy(update={"replayed": label()})}
        )
    return answer


def _agent_ask(assistant: Assistant, models: Models) -> Ask:
    from app.agent.loop import Agent

    def ask(question: str, as_of: date, account: str, conversation: Conversation) -> Answer:
        model = models()
        agent = Agent(assistant.settings, assistant, model=model)

        def call() -> Answer:
            request = Request(question, as_of=as_of, account=account, conversation=conversation)
            run = agent.run(request)
            refusal = run.refusal
            answer = run.answer or Answer(
                status="refused",
                question=question,
                account=account,
                as_of=as_of,
                headline=refusal.reason if refusal else "The agent could not answer this.",
                refusal=refusal,
                backend=f"llm:{agent.model_name}",
                llm=run.usage,
            )
            # The agent alone, without the router: this harness keeps the conversation itself.
            conversation.add(answer, keep=assistant.settings.max_conversation_turns)
            return answer

        return _checked(model, call)

    return ask


def _router_ask(assistant: Assistant, models: Models) -> Ask:
    from app.agent.loop import Agent
    from app.router import Router

    def ask(question: str, as_of: date, account: str, conversation: Conversation) -> Answer:
        model = models()
        router = Router(assistant.settings, assistant, Agent(assistant.settings, assistant, model))
        return _checked(
            model,
            lambda: router.ask(
                Request(question, as_of=as_of, account=account, conversation=conversation)
            ),
        )

    return ask


def make_backend(
    name: str,
    settings: Settings,
    *,
    live: bool = False,
    record: bool = False,
    recorded_on: date | None = None,
    cassette_dir: Path | None = None,
) -> Backend:
    """The backend for `--backend NAME` (with `--live`/`--record`), or BackendUnavailable."""
    if name not in BACKENDS:
        raise BackendUnavailable(f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    if live and not settings.llm_configured:
        raise BackendUnavailable(LIVE_REFUSAL)
    if record and not live:
        raise BackendUnavailable("--record writes cassettes from a live model; add --live.")
    if name == "engine":
        if live:
            raise BackendUnavailable("--live evaluates the LLM path; use --backend agent or auto.")
        return engine_backend
    try:
        importlib.import_module("app.agent.loop")
        importlib.import_module("app.router")
    except ImportError as exc:
        raise BackendUnavailable(
            f"The {name} backend needs the LLM agent (app/agent/loop.py, app/router.py), which "
            f"cannot be imported here ({exc}); use --backend engine."
        ) from exc
    models = _models(settings, live, record, recorded_on, cassette_dir)
    build = _agent_ask if name == "agent" else _router_ask

    def backend(assistant: Assistant) -> Ask:
        return build(assistant, models)

    return backend
