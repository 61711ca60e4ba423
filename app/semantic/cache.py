"""A disk cache for what is parsed from the packaged model files, keyed by their content.

Parsing the DDL with sqlglot and the YAML model takes longer than answering a question, and a
one-shot `ledgerlens ask` would pay it on every run. The parsed form is kept as JSON in
`$XDG_CACHE_HOME/ledgerlens/` (default `~/.cache/ledgerlens/`), one file per kind, named by a hash
of everything it was made from: the source files, the code that parses them and the parser's
version. A changed input is a different name, so an entry is never stale; anything unreadable is a
miss, and a cache directory that cannot be written only costs the parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cache_dir() -> Path:
    """Where the parsed model files are kept: $XDG_CACHE_HOME/ledgerlens or ~/.cache/ledgerlens."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ledgerlens"


def cache_key(parts: Iterable[bytes]) -> str:
    """A short hex digest of the given inputs, in order (each part is length-prefixed)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


def read_cached(kind: str, key: str) -> str | None:
    """The cached text of this kind and key, or None when there is none."""
    try:
        return (cache_dir() / f"{kind}-{key}.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_cached(kind: str, key: str, text: str) -> None:
    """Store the text atomically and drop older entries of the same kind; never raises."""
    folder = cache_dir()
    path = folder / f"{kind}-{key}.json"
    tmp = folder / f".{kind}-{key}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        for old in folder.glob(f"{kind}-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def cached_parse(
    kind: str,
    sources: Iterable[Path],
    code: Iterable[bytes],
    parse: Callable[[], T],
    dump: Callable[[T], str],
    load: Callable[[str], T],
) -> T:
    """`parse()`'s value from the entry named by its sources and code, else parsed and stored."""
    files = [p.name.encode() + b"\0" + p.read_bytes() for p in sorted(sources)]
    key = cache_key([*files, *code])
    text = read_cached(kind, key)
    if text is not None:
        try:
            return load(text)
        except (ValueError, TypeError):  # a damaged entry is a miss (pydantic's errors included)
            pass
    value = parse()
    write_cached(kind, key, dump(value))
    return value
