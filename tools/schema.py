"""A tool as the model sees it, derived from its function: name, docstring and typed parameters.

The function is the only place a tool is described: its name is the tool's name, the docstring's
text before `Args:` is the description, each `Args:` entry describes one parameter, and the
annotations give the types. The first parameter, `ctx: ToolContext`, is supplied by the agent and
never shown to the model. A docstring that does not match the signature fails when the schema is
derived (at import of the agent), not mid-request.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, create_model

from app.core.errors import PromptError
from tools.context import ToolContext

# An `Args:` entry: "name: text" or "name (type): text", indented under the heading.
_ARG = re.compile(r"^(?P<indent>\s+)(?P<name>\w+)(?:\s*\([^)]*\))?:\s*(?P<text>.*)$")


@dataclass(frozen=True)
class ToolSpec:
    """One tool: the function that runs it, and the name, text and arguments the model sees."""

    function: Callable[..., Any]
    name: str
    description: str
    args: type[BaseModel]

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool schema sent to the model."""
        parameters = self.args.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }

    def call(self, ctx: ToolContext, arguments: Mapping[str, Any]) -> Any:
        """Validate the model's arguments and run the tool (raises pydantic.ValidationError)."""
        parsed = self.args.model_validate(dict(arguments))
        values = {name: getattr(parsed, name) for name in self.args.model_fields}
        return self.function(ctx, **values)


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """A Google-style docstring's text before `Args:` (on one line) and its `Args:` entries."""
    lines = inspect.cleandoc(doc).splitlines()
    head = lines.index("Args:") if "Args:" in lines else len(lines)
    description = " ".join(" ".join(lines[:head]).split())
    args: dict[str, str] = {}
    indent: str | None = None
    current: str | None = None
    for line in lines[head + 1 :]:
        if not line.strip():
            continue
        if not line[:1].isspace():
            break  # the next section (Returns:, Raises:, ...)
        match = _ARG.match(line)
        if match and (indent is None or match["indent"] == indent):
            indent, current = match["indent"], match["name"]
            args[current] = match["text"].strip()
        elif current is not None:
            args[current] = f"{args[current]} {line.strip()}".strip()
    return description, args


def _model_params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The parameters the model fills: all but the leading `ctx: ToolContext`."""
    params = list(inspect.signature(fn).parameters.values())
    hints = typing.get_type_hints(fn)
    if not params or hints.get(params[0].name) is not ToolContext:
        raise PromptError(f"tool {fn.__name__}: the first parameter must be `ctx: ToolContext`")
    rest = params[1:]
    for p in rest:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise PromptError(f"tool {fn.__name__}: parameter {p.name} must be passable by name")
        if p.name not in hints:
            raise PromptError(f"tool {fn.__name__}: parameter {p.name} has no type annotation")
    return rest


@cache
def tool_spec(fn: Callable[..., Any]) -> ToolSpec:
    """Derive a tool's spec from its function; a docstring that disagrees with it is an error."""
    name = fn.__name__
    description, documented = parse_docstring(fn.__doc__ or "")
    if not description:
        raise PromptError(f"tool {name}: the docstring must describe the tool")
    params = _model_params(fn)
    names = [p.name for p in params]
    missing = [n for n in names if not documented.get(n)]
    unknown = [n for n in documented if n not in names]
    if missing or unknown:
        raise PromptError(
            f"tool {name}: the docstring's Args must describe exactly its parameters "
            f"(undescribed: {', '.join(missing) or 'none'}; "
            f"unknown: {', '.join(unknown) or 'none'})"
        )
    hints = typing.get_type_hints(fn)
    fields: dict[str, Any] = {
        p.name: (
            hints[p.name],
            Field(
                ... if p.default is p.empty else p.default,
                description=documented[p.name],
            ),
        )
        for p in params
    }
    args = create_model(f"{_camel(name)}Args", **fields)
    return ToolSpec(function=fn, name=name, description=description, args=args)


def tool_schemas(tools: Iterable[Callable[..., Any]]) -> list[dict[str, Any]]:
    """The OpenAI function-tool schemas of the given tools, in order."""
    return [tool_spec(fn).schema() for fn in tools]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
