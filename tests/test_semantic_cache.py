"""The parse cache of the packaged catalog and semantic model: hits, misses, damage, no disk."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.semantic import cache, catalog, load

LOADERS = {
    "catalog": (catalog.warehouse_catalog, catalog.load_catalog),
    "semantic": (load.semantic_model, load.load_semantic_model),
}
A_LABEL = {"catalog": "Merchant accounts", "semantic": "Gross volume"}  # text in each source


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache directory, with the in-process memo of both loaders cleared around it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for packaged, _ in LOADERS.values():
        packaged.cache_clear()
    yield tmp_path / "ledgerlens"
    for packaged, _ in LOADERS.values():
        packaged.cache_clear()


def entry(folder: Path, kind: str) -> Path:
    (found,) = folder.glob(f"{kind}-*.json")
    return found


@pytest.mark.parametrize("kind", LOADERS)
def test_a_miss_parses_and_writes_an_entry_that_later_runs_read(
    cache_home: Path, kind: str
) -> None:
    packaged, parse = LOADERS[kind]
    first = packaged()
    assert first == parse()
    path = entry(cache_home, kind)
    assert A_LABEL[kind] in path.read_text()
    path.write_text(path.read_text().replace(A_LABEL[kind], "Edited in the cache"))
    packaged.cache_clear()
    assert "Edited in the cache" in repr(packaged())  # served from the entry, not parsed again


@pytest.mark.parametrize("kind", LOADERS)
def test_a_damaged_entry_is_a_miss_and_is_rewritten(cache_home: Path, kind: str) -> None:
    packaged, parse = LOADERS[kind]
    packaged()
    path = entry(cache_home, kind)
    path.write_text('{"not": "what was written"')
    packaged.cache_clear()
    assert packaged() == parse()
    assert entry(cache_home, kind).read_text() != '{"not": "what was written"'


@pytest.mark.parametrize("kind", LOADERS)
def test_an_unwritable_cache_directory_only_costs_the_parse(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    blocker = cache_home.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    packaged, parse = LOADERS[kind]
    assert packaged() == parse()


def test_a_changed_input_is_a_new_entry_and_the_old_one_goes(cache_home: Path) -> None:
    cache.write_cached("catalog", "old", "[]")
    catalog.warehouse_catalog()
    assert [p.name for p in cache_home.glob("catalog-*.json")] != ["catalog-old.json"]
    assert not (cache_home / "catalog-old.json").exists()


def test_cache_keys_depend_on_every_part_and_its_boundaries() -> None:
    assert cache.cache_key([b"ab", b"c"]) != cache.cache_key([b"a", b"bc"])
    assert cache.cache_key([b"a"]) != cache.cache_key([b"a", b""])
    assert cache.cache_key([b"a", b"b"]) == cache.cache_key([b"a", b"b"])
