"""The built wheel works on its own: installed into a fresh venv, run away from the checkout.

The wheel is built from a copy of the tree (tracked and untracked files, .gitignore applied), so
the build neither leaves build/ and *.egg-info in the checkout nor packs a stale build/lib. The
venv sees the dev venv's dependencies through one .pth line (no network); .pth files inside
that directory are not processed, so the checkout's editable install stays invisible.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"app", "data", "evals", "prompts", "tools"}
QUESTION = "gross volume last month"
AS_OF = "2025-12-15"
# Settings a developer's shell may carry that would point the run elsewhere or at a model.
_DROP = ("PYTHON", "VIRTUAL_ENV", "PIP_", "LEDGERLENS_", "OPENAI_")


@dataclass(frozen=True)
class Installed:
    """The wheel, the venv it is installed in, and a warehouse built by the installed CLI."""

    wheel: Path
    venv: Path
    work: Path  # the working directory of every run: outside the checkout
    warehouse: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.venv / "bin" / "python"

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run a command in the work directory (outside the checkout)."""
        return _run(args, cwd=self.work, env=self.env)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}


def _run(
    args: tuple[str | Path, ...], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test, showing its output, if it exits non-zero."""
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done


def _copy_source(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _build_wheel(tmp: Path) -> Path:
    source = _copy_source(tmp / "src")
    dist = tmp / "dist"
    pip = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index")
    _run((*pip, "--quiet", "-w", dist, source), cwd=tmp, env=_clean_env())
    (wheel,) = dist.glob("ledgerlens-*.whl")
    return wheel


def _make_venv(venv: Path) -> None:
    env = _clean_env()
    _run((sys.executable, "-m", "venv", "--without-pip", venv), cwd=venv.parent, env=env)
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = _run((venv / "bin" / "python", "-c", where), cwd=venv.parent, env=env).stdout.strip()
    dev = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "dev_dependencies.pth").write_text("\n".join(dev) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    _make_venv(venv)
    work = tmp / "work"
    work.mkdir()
    box = Installed(wheel, venv, work, work / "w.duckdb", _clean_env())
    # --ignore-installed: pip also sees the dev venv's editable ledgerlens through the .pth line;
    # it must install beside it, never try to replace it.
    pip = ("-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet")
    box.run(box.python, *pip, wheel)
    build = ("data", "build", "--scale", "demo", "--seed", "7", "--end", "2025-12-31", "--quiet")
    box.run(venv / "bin" / "ledgerlens", *build, "--out", box.warehouse)
    return box


def test_wheel_ships_the_resources_and_no_junk(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    resources = [("prompts", "*.md"), ("data/ddl", "*.sql"), ("data/semantic", "*.yaml")]
    for folder, pattern in resources:
        shipped = {f"{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert shipped, f"no {pattern} in {folder}"
        assert shipped <= names, sorted(shipped - names)
    assert {"prompts/__init__.py", "data/pricing.yaml", "app/ui/main.py"} <= names
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == PACKAGES
    assert not [n for n in names if n.endswith((".duckdb", ".pyc")) or "/reports/" in n]


def test_the_venv_imports_the_installed_copy_not_the_checkout(installed: Installed) -> None:
    probe = (
        "import importlib, json, sys\n"
        "files = {n: importlib.import_module(n).__file__ for n in sys.argv[1:]}\n"
        "finders = [type(f).__name__ for f in sys.meta_path]\n"
        "print(json.dumps({'files': files, 'finders': finders, 'path': sys.path}))\n"
    )
    seen = json.loads(installed.run(installed.python, "-c", probe, *sorted(PACKAGES)).stdout)
    venv = installed.venv.resolve()
    for name, file in seen["files"].items():
        assert Path(file).resolve().is_relative_to(venv), f"{name} imported from {file}"
    assert "_EditableFinder" not in seen["finders"]  # the checkout's editable hook is not active
    assert set(site.getsitepackages()) & set(seen["path"])  # dependencies come from the dev venv


def test_the_installed_resources_load_from_the_venv(installed: Installed) -> None:
    probe = (
        "import json\n"
        "from app.agent.prompts import all_prompts\n"
        "from app.agent.tokens import load_prices\n"
        "from app.core import resources\n"
        "from app.semantic.catalog import load_catalog\n"
        "from app.semantic.load import load_semantic_model\n"
        "print(json.dumps({\n"
        "    'places': [str(f()) for f in (resources.prompts_dir, resources.ddl_dir,\n"
        "                                  resources.semantic_dir, resources.pricing_path)],\n"
        "    'prompts': {p.name: str(p.path) for p in all_prompts()},\n"
        "    'tables': len(load_catalog()),\n"
        "    'metrics': len(load_semantic_model().metrics),\n"
        "    'priced_models': len(load_prices().models),\n"
        "}))\n"
    )
    seen = json.loads(installed.run(installed.python, "-c", probe).stdout)
    venv = installed.venv.resolve()
    for place in [*seen["places"], *seen["prompts"].values()]:
        assert Path(place).resolve().is_relative_to(venv), place
    assert set(seen["prompts"]) == {p.stem for p in (ROOT / "prompts").glob("*.md")}
    assert seen["tables"] > 0
    assert seen["metrics"] > 0
    assert seen["priced_models"] > 0


def test_the_installed_cli_answers_like_the_checkout(installed: Installed) -> None:
    ask = ["ask", QUESTION, "--as-of", AS_OF, "--warehouse", str(installed.warehouse), "--json"]
    answer = json.loads(installed.run(installed.venv / "bin" / "ledgerlens", *ask).stdout)
    assert answer["status"] == "answered", answer
    assert Decimal(answer["value"]) > 0
    assert answer["columns"][0]["name"] == "gross_volume"
    expected = json.loads(_run((sys.executable, "-m", "app.cli", *ask), ROOT, installed.env).stdout)
    assert (answer["value"], answer["rows"], answer["sql"]) == (
        expected["value"],
        expected["rows"],
        expected["sql"],
    )


def test_the_installed_streamlit_app_draws_a_report(installed: Installed) -> None:
    script = (
        "import json, pathlib\n"
        "import app.ui\n"
        "from streamlit.testing.v1 import AppTest\n"
        "main = pathlib.Path(app.ui.__file__).with_name('main.py')\n"
        "at = AppTest.from_file(str(main), default_timeout=60).run()\n"
        "at.switch_page('views/payments.py').run()\n"
        "print(json.dumps({'main': str(main), 'errors': [e.value for e in at.exception]\n"
        "    + [e.value for e in at.error], 'metrics': [m.label for m in at.metric]}))\n"
    )
    env = {**installed.env, "LEDGERLENS_WAREHOUSE_PATH": str(installed.warehouse)}
    done = _run((installed.python, "-c", script), cwd=installed.work, env=env)
    page = json.loads(done.stdout.splitlines()[-1])
    assert Path(page["main"]).resolve().is_relative_to(installed.venv.resolve())
    assert page["errors"] == []
    assert "Gross volume" in page["metrics"]
