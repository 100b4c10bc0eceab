"""Run inputs from the command line: `-i KEY=VALUE` (a YAML scalar), `-i KEY=@file`, `--inputs`."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.errors import UsageError
from wfe.spec._yaml_text import read_regular_file
from wfe.spec.yaml_loader import load_yaml, read_source
from wfe.state.scalars import ScalarError, parse_scalar, typed_scalar

if TYPE_CHECKING:
    from wfe.state.types import TypeTree

#: The largest file `-i KEY=@FILE` reads: a value, not a data set.
MAX_FILE_VALUE_BYTES = 10 * 1024 * 1024

__all__ = ["load_inputs_file", "parse_assignments", "parse_scalar"]


def parse_assignments(items: list[str],
                      types: Mapping[str, TypeTree] | None = None) -> dict[str, Any]:
    """`["n=3", "path=@notes.txt"]` -> `{"n": 3, "path": "<the file's text>"}`; with the keys'
    `types`, each value is read for its key (`wfe.state.scalars.typed_scalar`)."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-i expects KEY=VALUE or KEY=@FILE, got {item!r}")
        if raw == "@":
            raise UsageError(f"-i {key}=@ names no file: write -i {key}=@PATH")
        if raw.startswith("@"):
            values[key] = _read_text(Path(raw[1:]), key)
        else:
            try:
                values[key] = typed_scalar(raw, (types or {}).get(key))
            except ScalarError as error:
                raise UsageError(f"-i {key}: {error}") from None
    return values


def _read_text(path: Path, key: str) -> str:
    where = f"-i {key}=@{path}"
    try:
        data = read_regular_file(path, MAX_FILE_VALUE_BYTES)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file") from None
    except OSError as error:
        raise UsageError(f"{where}: cannot read it ({error.strerror or error})") from None
    if data is None:
        raise UsageError(f"{where}: not a regular file (a device, pipe or folder is never read)")
    if len(data) > MAX_FILE_VALUE_BYTES:
        raise UsageError(f"{where}: the file is larger than {MAX_FILE_VALUE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{where}: not UTF-8 text (byte {error.start})") from None


def load_inputs_file(path: Path) -> dict[str, Any]:
    """A YAML mapping of inputs, read with the same hardened loader as workflow files (a
    regular file only: a FIFO or a device is refused before it is opened)."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        regular = True  # missing or unreadable: read_source says which, with the path
    if not regular:
        raise UsageError(f"--inputs {path}: not a regular file (a device, pipe or folder is "
                         "never read)")
    document, _ = load_yaml(read_source(path, str(path)), str(path))
    if not isinstance(document, dict):
        raise UsageError(f"{path}: inputs file must be a mapping of state keys to values")
    return document
