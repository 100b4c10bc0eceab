"""Each package's `__all__` is its public face: every name in it exists, none is left out."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import wfe


def _packages() -> list[str]:
    found = ["wfe"]
    for info in pkgutil.walk_packages(wfe.__path__, "wfe."):
        if info.ispkg:
            found.append(info.name)
    return found


def _declared(name: str) -> ModuleType:
    package = importlib.import_module(name)
    if not hasattr(package, "__all__"):
        pytest.skip(f"{name} declares no __all__")
    return package


@pytest.mark.parametrize("name", _packages())
def test_all_names_each_export_once(name):
    # Its order is ruff's (RUF022), checked with the rest of the lint.
    names = list(_declared(name).__all__)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", _packages())
def test_every_name_in_all_exists(name):
    package = _declared(name)
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert not missing, f"{name}.__all__ names {missing}, which it does not export"


@pytest.mark.parametrize("name", _packages())
def test_nothing_public_is_left_out_of_all(name):
    package = _declared(name)
    public = {n for n, value in vars(package).items()
              if not n.startswith("_") and not isinstance(value, ModuleType)
              and getattr(value, "__module__", "wfe").startswith("wfe")
              and n not in {"annotations", "TYPE_CHECKING"}}
    assert public <= set(package.__all__), f"{name} exports {sorted(public - set(package.__all__))}"
