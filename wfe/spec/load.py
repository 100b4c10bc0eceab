"""Text -> WorkflowSpec: read safely, parse YAML with positions, validate, report file:line:col."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from wfe.errors import Location, Problem, SpecError, did_you_mean
from wfe.spec.models import (
    Branch,
    CacheSpec,
    Defaults,
    ErrorRoute,
    Interrupt,
    JoinAtLeast,
    Limits,
    Node,
    ParallelBranch,
    Retry,
    StateField,
    WorkflowSpec,
)
from wfe.yamlsafe import Positions, YamlPath, load_yaml, read_source


@dataclass(frozen=True)
class LoadedSpec:
    """A validated workflow file with what later stages need to point back into it."""

    spec: WorkflowSpec
    positions: Positions
    path: Path
    display_path: str
    source: bytes

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def location(self, path: YamlPath, *, at_key: bool = False) -> Location:
        return self.positions.location(self.display_path, path, at_key=at_key)


def load_spec_file(path: Path | str, display_path: str | None = None) -> LoadedSpec:
    """Read, parse and validate one workflow file; raises SpecError with every problem found."""
    path = Path(path)
    shown = display_path if display_path is not None else str(path)
    source = read_source(path, shown)
    return load_spec_bytes(source, shown, path)


def load_spec_bytes(source: bytes, display_path: str, path: Path | None = None) -> LoadedSpec:
    data, positions = load_yaml(source, display_path)
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as error:
        problems = [_problem(e, positions, display_path) for e in error.errors()]
        raise SpecError(sorted(problems, key=Problem.sort_key)) from None
    return LoadedSpec(spec, positions, path or Path(display_path), display_path, source)


# --- pydantic errors -> problems -------------------------------------------------------------

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _yaml_path(loc: tuple[int | str, ...], positions: Positions) -> tuple[YamlPath, str | None]:
    """The YAML path of a pydantic loc (tags and `[key]` dropped) and a trailing missing key."""
    path: YamlPath = ()
    for seg in loc:
        candidate = (*path, seg)
        if positions.value(candidate) is not None or positions.key(candidate) is not None:
            path = candidate
    trailing = loc[-1] if loc and isinstance(loc[-1], str) and loc[-1] != "[key]" else None
    missing = trailing if trailing is not None and path[-1:] != (trailing,) else None
    return path, missing


def _describe(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def _dotted(path: YamlPath) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
    return out or "(top level)"


def _problem(error: Any, positions: Positions, file: str) -> Problem:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    path, missing = _yaml_path(loc, positions)
    kind = error["type"]
    subject = _dotted(path)
    code, message, at_key = "WFE011", "", False
    if kind == "missing":
        code, message = "WFE012", f"{subject}: missing required key '{missing}'"
    elif kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        hint = did_you_mean(key, _allowed_keys(path[:-1]))
        code, message, at_key = "WFE010", f"unknown key '{key}'{hint}", True
    elif kind == "literal_error" and path == ("wfe",):
        code = "WFE013"
        message = f"unsupported format version {error['input']!r} (this wfe reads version 1)"
    elif loc and loc[-1] == "[key]":
        message, at_key = _bad_name_message(path, error["input"]), True
    elif kind in _TYPE_WORDS:
        message = f"{subject} must be {_TYPE_WORDS[kind]}, got {_describe(error['input'])}"
        at_key = error["input"] is None
    else:
        text = str(error["msg"]).removeprefix("Value error, ")
        message, at_key = f"{subject}: {text[0].lower()}{text[1:]}", error.get("input") is None
    location = positions.location(file, path, at_key=at_key and bool(path))
    return Problem(code, message, location)


def _bad_name_message(path: YamlPath, name: Any) -> str:
    if path[:1] == ("nodes",):
        return (
            f"node name '{name}' must start with a letter and hold only letters, digits, "
            "'_' and '-' (at most 64)"
        )
    return f"state key '{name}' must be an identifier: a letter, then letters, digits or '_'"


_CONTEXTS: list[tuple[tuple[str, ...], type[BaseModel]]] = [
    ((), WorkflowSpec),
    (("state", "*"), StateField),
    (("limits",), Limits),
    (("defaults",), Defaults),
    (("defaults", "retry"), Retry),
    (("nodes", "*"), Node),
    (("nodes", "*", "retry"), Retry),
    (("nodes", "*", "interrupt"), Interrupt),
    (("nodes", "*", "parallel", "*"), ParallelBranch),
    (("nodes", "*", "parallel", "*", "retry"), Retry),
    (("nodes", "*", "join"), JoinAtLeast),
    (("nodes", "*", "cache"), CacheSpec),
    (("nodes", "*", "next", "#"), Branch),
    (("nodes", "*", "on_error", "#"), ErrorRoute),
]


def _allowed_keys(path: YamlPath) -> list[str]:
    """The keys the model at path accepts (for did-you-mean); [] when not a known model."""
    for pattern, model in _CONTEXTS:
        if len(pattern) == len(path) and all(
            (p == "*" and isinstance(s, str)) or (p == "#" and isinstance(s, int)) or p == s
            for p, s in zip(pattern, path, strict=True)
        ):
            return [field.alias or name for name, field in model.model_fields.items()]
    return []
