"""Load prompts/*.md: front matter checked, `$placeholders` checked against it, text hashed.

A prompt file starts with YAML front matter between `---` lines (`name` = the file stem,
`version`, `variables`, optional `description`), followed by a `string.Template` body. Loading
fails with a `PromptError` naming the file when the body's placeholders differ from the declared
variables, so a broken prompt is caught at startup, not mid-request.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import yaml

from app.agent.tokens import encoding
from app.core import resources
from app.core.errors import PromptError

__all__ = ["Prompt", "PromptError", "all_prompts", "load_prompt", "prompt_hashes", "prompts_dir"]

_FRONT_KEYS = frozenset({"name", "version", "variables", "description"})


@dataclass(frozen=True)
class Prompt:
    """One prompt template with its declared variables, version and source file."""

    name: str
    version: int | str
    variables: tuple[str, ...]
    template: str
    path: Path
    description: str = ""
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def sha256(self) -> str:
        """SHA-256 of the whole prompt file (front matter included)."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def tokens(self) -> int:
        """Tokens of the template body (o200k_base), placeholders unfilled."""
        return len(encoding("o200k_base").encode(self.template, disallowed_special=()))

    def render(self, **values: str) -> str:
        """The body with every declared variable filled in; exactly the declared ones."""
        problems = []
        if missing := sorted(set(self.variables) - set(values)):
            problems.append(f"missing {', '.join(missing)}")
        if extra := sorted(set(values) - set(self.variables)):
            problems.append(f"unexpected {', '.join(extra)}")
        if problems:
            raise PromptError(f"prompt {self.name} ({self.path.name}): {'; '.join(problems)}")
        return Template(self.template).substitute(values)


def prompts_dir() -> Path:
    """The shipped prompts folder (package data of `prompts`)."""
    return resources.prompts_dir()


def _split(text: str, path: Path) -> tuple[dict[str, object], str]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise PromptError(f"{path}: missing front matter (the file must start with a --- line)")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            head, body = "".join(lines[1:i]), "".join(lines[i + 1 :])
            break
    else:
        raise PromptError(f"{path}: front matter is not closed by a --- line")
    try:
        meta = yaml.safe_load(head)
    except yaml.YAMLError as err:
        raise PromptError(f"{path}: front matter is not valid YAML: {err}") from err
    if not isinstance(meta, dict):
        raise PromptError(f"{path}: front matter must be a mapping of name, version, variables")
    return meta, body


def _parse(raw: bytes, path: Path) -> Prompt:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PromptError(f"{path}: not UTF-8 text: {err}") from err
    meta, body = _split(text, path)
    unknown = sorted(set(meta) - _FRONT_KEYS)
    if unknown:
        raise PromptError(f"{path}: unknown front matter keys {', '.join(map(str, unknown))}")
    name, version, variables = meta.get("name"), meta.get("version"), meta.get("variables")
    if name != path.stem:
        raise PromptError(f"{path}: front matter name {name!r} differs from the file name")
    if isinstance(version, bool) or not isinstance(version, int | str) or version == "":
        raise PromptError(f"{path}: `version` must be an integer or a version string")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise PromptError(f"{path}: `variables` must be a list of placeholder names")
    description = meta.get("description") or ""
    if not isinstance(description, str):
        raise PromptError(f"{path}: `description` must be a string")
    template = Template(body)
    if not template.is_valid():
        raise PromptError(
            f"{path}: invalid $ placeholder in the body; write $$ for a literal dollar sign"
        )
    if len(set(variables)) != len(variables):
        raise PromptError(f"{path}: a variable is declared twice")
    used = set(template.get_identifiers())
    problems = []
    if undeclared := sorted(used - set(variables)):
        problems.append(f"placeholders not declared in variables: {', '.join(undeclared)}")
    if unused := sorted(set(variables) - used):
        problems.append(f"declared variables never used: {', '.join(unused)}")
    if problems:
        raise PromptError(f"{path}: {'; '.join(problems)}")
    return Prompt(
        name=name,
        version=version,
        variables=tuple(variables),
        template=body,
        path=path,
        description=description.strip(),
        raw=raw,
    )


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int, size: int) -> Prompt:
    return _parse(path.read_bytes(), path)


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    """Load and check prompts/<name>.md (cached until the file changes)."""
    path = (directory or prompts_dir()) / f"{name}.md"
    try:
        stat = path.stat()
    except FileNotFoundError as err:
        raise PromptError(f"No prompt {name!r}: {path} does not exist") from err
    return _load(path, stat.st_mtime_ns, stat.st_size)


def all_prompts(directory: Path | None = None) -> list[Prompt]:
    """Every prompt in the folder, checked, sorted by name."""
    folder = directory or prompts_dir()
    return [load_prompt(p.stem, folder) for p in sorted(folder.glob("*.md"))]


def prompt_hashes() -> dict[str, str]:
    """Prompt name → SHA-256 of its file, for reports and answers."""
    return {p.name: p.sha256 for p in all_prompts()}
