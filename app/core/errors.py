"""Errors a finance user (or the agent) can act on; one root, a few specific kinds."""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error Ledgerlens raises on purpose."""


class GuardError(AssistantError):
    """SQL refused by the guard; `rule` names the check and `detail` the offending part."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


class QueryTimeout(AssistantError):
    """The query ran past the `query_timeout_ms` setting and was interrupted."""


class ExecutionError(AssistantError):
    """DuckDB could not run an (already guarded) statement."""


class WarehouseMissing(AssistantError):
    """The warehouse file does not exist; build it with `ledgerlens data build`."""


class SemanticModelError(AssistantError):
    """The semantic model YAML is invalid or inconsistent."""


class CompileError(AssistantError):
    """A QueryPlan cannot be compiled (e.g. a dimension the metric cannot reach)."""


class PromptError(AssistantError):
    """A prompt file is malformed, or a prompt was rendered with the wrong variables."""


class TokenizerError(AssistantError):
    """A bundled tokenizer vocabulary is missing or does not match its expected hash."""


class LlmUnavailable(AssistantError):
    """The model could not be reached or kept answering garbage; the engine takes over."""
