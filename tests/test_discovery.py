"""Tools from installed distributions' `wfe.tools` entry points, and the cheap look that skips
importlib.metadata's full scan when no distribution can declare any."""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Iterator
from importlib.machinery import BuiltinImporter, FrozenImporter, PathFinder
from pathlib import Path

import pytest

from wfe.tools import discovery
from wfe.tools.registry import Registry

TOOLS = """from wfe import tool


@tool
def shout(text: str) -> dict:
    return {"text": text.upper()}
"""


@pytest.fixture(autouse=True)
def fresh_scan() -> Iterator[None]:
    discovery._entry_point_objects.cache_clear()
    yield
    discovery._entry_point_objects.cache_clear()


@pytest.fixture
def standard_finders(monkeypatch: pytest.MonkeyPatch) -> None:
    # Importing importlib_metadata (as Dask does) adds a finder of its own, and the look then
    # rightly leaves the decision to importlib.metadata: these tests start from Python's finders.
    monkeypatch.setattr(sys, "meta_path", [BuiltinImporter, FrozenImporter, PathFinder])


def _distribution(folder: Path, name: str, entry_points: str | None) -> None:
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_a_declared_group_is_found_and_its_tools_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shouting_tools.py").write_text(TOOLS)
    _distribution(tmp_path, "shouting", "[console_scripts]\nx = y:z\n\n"
                                        "[wfe.tools]\nshouting = shouting_tools\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shouting_tools", raising=False)
    assert discovery._any_may_declare_tools()
    registry = Registry()
    assert discovery.register_entry_points(registry) == []
    assert "shout" in registry


@pytest.mark.usefixtures("standard_finders")
def test_distributions_without_the_group_skip_the_full_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _distribution(tmp_path, "plain", "[console_scripts]\nplain = plain:main\n")
    _distribution(tmp_path, "bare", None)
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing")])
    assert not discovery._any_may_declare_tools()
    assert discovery._entry_point_objects() == ()


def test_a_zip_file_on_the_path_leaves_it_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped-1.0.dist-info/entry_points.txt", "[wfe.tools]\nz = zipped\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert discovery._any_may_declare_tools()


@pytest.mark.usefixtures("standard_finders")
def test_another_distribution_finder_leaves_it_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Finder:
        @staticmethod
        def find_distributions(context: object = None) -> list[object]:
            return []

    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    assert not discovery._any_may_declare_tools()
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    assert discovery._any_may_declare_tools()
