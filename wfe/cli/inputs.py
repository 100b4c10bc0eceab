"""Run inputs from the command line: `-i KEY=VALUE` (a YAML scalar), `-i KEY=@file`, `--inputs`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from wfe.errors import SpecError, UsageError
from wfe.yamlsafe import load_yaml, read_source

_NULL = re.compile(r"^(?:~|null|Null|NULL)?$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]{1,18}$|^0o[0-7]{1,18}$|^0x[0-9a-fA-F]{1,16}$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


def parse_scalar(text: str) -> Any:
    """A value as YAML 1.2 core reads a plain scalar: `3` is an int, `yes` stays a string."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text[2:], 16) if text.startswith("0x") else int(text)
    if _FLOAT.match(text):
        return float(text)
    if text[:1] in "[{":
        data, _ = _load_flow(text)
        return data
    return text


def _load_flow(text: str) -> tuple[Any, Any]:
    try:
        document, positions = load_yaml(f"value: {text}\n".encode(), "-i")
    except SpecError as error:
        reason = error.errors[0].message
        raise UsageError(f"cannot read {text!r} as a YAML value: {reason}") from None
    return document["value"], positions


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """`["n=3", "path=@notes.txt"]` -> `{"n": 3, "path": "<the file's text>"}`."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-i expects KEY=VALUE or KEY=@FILE, got {item!r}")
        if raw.startswith("@"):
            values[key] = _read_text(Path(raw[1:]), key)
        else:
            values[key] = parse_scalar(raw)
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
