"""The `[tool.wfe]` table of pyproject.toml: where the store lives, how durable it is, where
fan-out runs, the tool modules `wfe serve` allows, the pools and how long runs are kept; each
setting taken from the flag, then the environment, then pyproject.toml, then its default.

`[tool.wfe]` is read from the nearest pyproject.toml at or above the current folder; a relative
`store` there is relative to that file's folder.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from wfe.errors import UsageError

#: `--durability`: "full" makes every commit survive power loss too (SPEC section 5).
Durability = Literal["normal", "full"]

DEFAULT_STORE = Path(".wfe") / "wfe.db"
STORE_VARIABLE = "WFE_STORE"
DURABILITY_VARIABLE = "WFE_DURABILITY"
EXECUTOR_VARIABLE = "WFE_EXECUTOR"
_DURABILITIES: tuple[Durability, ...] = ("normal", "full")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")


def store_path(explicit: Path | None, *, cwd: Path | None = None,
               environ: Mapping[str, str] | None = None) -> Path:
    """The store file: `--store`, then WFE_STORE, then `[tool.wfe] store`, then .wfe/wfe.db."""
    here = Path.cwd() if cwd is None else cwd
    env = os.environ if environ is None else environ
    if explicit is not None:
        return _under(here, explicit)
    if env.get(STORE_VARIABLE):
        return _under(here, Path(env[STORE_VARIABLE]))
    table, pyproject = _tool_wfe(here)
    value = table.get("store")
    if value is not None and pyproject is not None:
        if not isinstance(value, str) or not value:
            raise UsageError(f"{pyproject}: [tool.wfe] store must be a path (a string)")
        return _under(pyproject.parent, Path(value))
    return here / DEFAULT_STORE


def durability_setting(explicit: str | None, *, cwd: Path | None = None,
                       environ: Mapping[str, str] | None = None) -> Durability:
    """`--durability`, then WFE_DURABILITY, then `[tool.wfe] durability`, then "normal"."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return _durability(explicit, "--durability")
    if env.get(DURABILITY_VARIABLE):
        return _durability(env[DURABILITY_VARIABLE], DURABILITY_VARIABLE)
    table, pyproject = _tool_wfe(Path.cwd() if cwd is None else cwd)
    value = table.get("durability")
    if value is not None:
        return _durability(value, f"{pyproject}: [tool.wfe] durability")
    return "normal"


def configured_imports(*, cwd: Path | None = None) -> list[str]:
    """`[tool.wfe] imports`: tool modules named in pyproject.toml (`wfe serve` allows them)."""
    table, pyproject = _tool_wfe(Path.cwd() if cwd is None else cwd)
    value = table.get("imports", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{pyproject}: [tool.wfe] imports must be a list of module names")
    return list(value)


def configured_pools(*, cwd: Path | None = None) -> dict[str, int]:
    """`[tool.wfe.pools]`: each pool's size (`github = 2`), checked."""
    table, pyproject = _tool_wfe(Path.cwd() if cwd is None else cwd)
    pools = table.get("pools", {})
    if not isinstance(pools, dict):
        raise UsageError(f"{pyproject}: [tool.wfe.pools] must be a table of sizes (github = 2)")
    for name, size in pools.items():
        if type(size) is not int or size < 1:
            raise UsageError(f"{pyproject}: [tool.wfe.pools] {name} must be a whole number of "
                             f"slots, at least 1, not {size!r}")
    return dict(pools)


def configured_keep(*, cwd: Path | None = None) -> float | None:
    """`[tool.wfe] keep`: how long finished runs are kept (seconds), or None: for ever."""
    table, pyproject = _tool_wfe(Path.cwd() if cwd is None else cwd)
    value = table.get("keep")
    return None if value is None else parse_age(value, f"{pyproject}: [tool.wfe] keep")


def executor_setting(explicit: str | None, *, cwd: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(the executor URL, where it was set): `--executor`, then WFE_EXECUTOR, then
    `[tool.wfe] executor`, then "local". The URL itself is checked by wfe.executors.cluster."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return explicit, "--executor"
    if env.get(EXECUTOR_VARIABLE):
        return env[EXECUTOR_VARIABLE], EXECUTOR_VARIABLE
    table, pyproject = _tool_wfe(Path.cwd() if cwd is None else cwd)
    value = table.get("executor")
    if value is None:
        return "local", "the default"
    origin = f"{pyproject}: [tool.wfe] executor"
    if not isinstance(value, str):
        raise UsageError(f"{origin} must be a string such as 'dask://HOST:PORT', not {value!r}")
    return value, origin


def parse_age(text: str, origin: str) -> float:
    """Seconds of an age such as `30d`, `12h`, `90m`, `2w` or `45s`; UsageError otherwise."""
    match = _AGE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise UsageError(f"{origin}: {text!r} is not an age such as 30d, 12h, 90m, 2w or 45s")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _durability(value: object, origin: str) -> Durability:
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in _DURABILITIES:
        raise UsageError(f"{origin}: durability must be 'normal' or 'full', not {value!r}")
    return text


def _under(base: Path, path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def _tool_wfe(cwd: Path) -> tuple[dict[str, Any], Path | None]:
    """The `[tool.wfe]` table of the nearest pyproject.toml, and that file."""
    for folder in (cwd, *cwd.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            break
    else:
        return {}, None
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{pyproject}: cannot read [tool.wfe]: {error}") from None
    tool = data.get("tool")
    table = tool.get("wfe", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise UsageError(f"{pyproject}: [tool.wfe] must be a table")
    return table, pyproject
