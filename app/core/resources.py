"""Where the shipped files live: prompts, DDL, semantic model and price table (package data).

Every location is found through `importlib.resources` by package name, so an installed wheel
reads its own site-packages copy and a checkout reads its tree; nothing depends on `__file__`
or the working directory. This module owns the locations; loaders take a `Path` argument
defaulting to these, so tests can point them at a copy.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["ddl_dir", "pricing_path", "prompts_dir", "semantic_dir"]

# `as_file` gives the file-system path of a resource; for a zipped install that is a temporary
# copy deleted when its context exits, so the contexts stay open until the process ends.
_OPEN = contextlib.ExitStack()
atexit.register(_OPEN.close)


@functools.cache
def _path(package: str, name: str | None = None) -> Path:
    """File-system path of resource `name` of `package` (the package folder itself for None)."""
    resource = files(package) if name is None else files(package).joinpath(name)
    return _OPEN.enter_context(as_file(resource))


def prompts_dir() -> Path:
    """Folder of the prompt files, prompts/*.md."""
    return _path("prompts")


def ddl_dir() -> Path:
    """Folder of the warehouse DDL, data/ddl/*.sql."""
    return _path("data", "ddl")


def semantic_dir() -> Path:
    """Folder of the semantic model, data/semantic/*.yaml."""
    return _path("data", "semantic")


def pricing_path() -> Path:
    """The dated model price table, data/pricing.yaml."""
    return _path("data", "pricing.yaml")
