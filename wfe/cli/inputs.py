"""Run inputs from the command line: `-i KEY=VALUE` (a YAML scalar), `-i KEY=@file`, `--inputs`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.errors import UsageError
from wfe.scalars import ScalarError, parse_scalar, typed_scalar
from wfe.yamlsafe import load_yaml, read_source

if TYPE_CHECKING:
    from wfe.types import TypeTree

__all__ = ["load_inputs_file", "parse_assignments", "parse_scalar"]

def parse_assignments(items: list[str],
                      types: Mapping[str, TypeTree] | None = None) -> dict[str, Any]:
    """`["n=3", "path=@notes.txt"]` -> `{"n": 3, "path": "<the file's text>"}`; with the keys'
    `types`, each value is read for its key (`wfe.scalars.typed_scalar`)."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-i expects KEY=VALUE or KEY=@FILE, got {item!r}")
        if raw.startswith("@"):
            values[key] = _read_text(Path(raw[1:]), key)
        else:
            try:
                values[key] = typed_scalar(raw, (types or {}).get(key))
            except ScalarError as error:
                raise UsageError(f"-i {key}: {error}") from None
    return values


def _read_text(path: Path, key: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"-i {key}=@{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"-i {key}=@{path}: cannot read it ({error})") from None


def load_inputs_file(path: Path) -> dict[str, Any]:
    """A YAML mapping of inputs, read with the same hardened loader as workflow files."""
    document, _ = load_yaml(read_source(path, str(path)), str(path))
    if not isinstance(document, dict):
        raise UsageError(f"{path}: inputs file must be a mapping of state keys to values")
    return document
