"""How each value of a workflow file is checked: small rules that the sections of the format
(`wfe.spec.models`) are built from. A rule reports every problem it finds at the position of the
YAML node at fault, and describes itself as JSON Schema for `wfe schema`.

The loader (`wfe.spec.yaml_loader`) has already made every value plain JSON: string keys, finite
floats,
bounded integers. Checks are strict: nothing is converted, except a duration's text to seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from wfe.errors import Problem
from wfe.spec.yaml_loader import Positions, YamlPath, dotted_path

#: What a check returns for a value it refused (the problem is already reported).
INVALID: Final[Any] = object()

MAX_DURATION = 7 * 24 * 3600.0
_DURATION_TEXT = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$"
_DURATION = re.compile(_DURATION_TEXT)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

Schema = dict[str, Any]


class Report:
    """The problems found in one file, each at the position of the YAML node at fault."""

    def __init__(self, positions: Positions, file: str) -> None:
        self.positions = positions
        self.file = file
        self.problems: list[Problem] = []

    def add(self, code: str, message: str, path: YamlPath, *, at_key: bool = False) -> None:
        location = self.positions.location(self.file, path, at_key=at_key and bool(path))
        self.problems.append(Problem(code, message, location))

    def wrong(self, path: YamlPath, text: str, *, at_key: bool = False) -> Any:
        """A value of the right type that breaks a rule; returns INVALID."""
        self.add("WFE011", f"{subject(path)}: {text}", path, at_key=at_key)
        return INVALID

    def wrong_type(self, path: YamlPath, words: str, value: Any) -> Any:
        """A value of the wrong type; returns INVALID."""
        # An empty value has no position of its own: point at its key.
        self.add("WFE011", f"{subject(path)} must be {words}, got {describe(value)}", path,
                 at_key=value is None)
        return INVALID


def subject(path: YamlPath) -> str:
    return dotted_path(path) or "(top level)"


def describe(value: Any) -> str:
    """A value as a message names it: `int 5`, `boolean true`, `a mapping`."""
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {shortened(repr(value))}"


def shortened(text: str, limit: int = 40) -> str:
    return text if len(text) < limit else text[:limit - 3] + "..."


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Rule:
    """How one value is checked; subclasses say how, and what JSON Schema describes it."""

    #: Whether an explicit empty value (`key:`) is a value here rather than a mistake.
    accepts_null = False

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        raise NotImplementedError

    def schema(self, defs: dict[str, Schema]) -> Schema:
        raise NotImplementedError


class Anything(Rule):
    """Any value the file can hold (a state default, a tool's `with:` value)."""

    def __init__(self, *, accepts_null: bool = False) -> None:
        self.accepts_null = accepts_null

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        return value

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {}


class Text(Rule):
    """A string; with `name`, one that matches a pattern (`node name`, `state key`)."""

    def __init__(self, *, pattern: str | None = None, name: str = "", shape: str = "",
                 refine: Callable[[str], str] | None = None) -> None:
        self.pattern = pattern
        self.compiled = re.compile(pattern) if pattern is not None else None
        self.name = name
        self.shape = shape
        self.refine = refine

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is not str:
            return report.wrong_type(path, "a string", value)
        if self.compiled is not None and self.compiled.fullmatch(value) is None:
            return report.wrong(path, self.misnamed(value))
        if self.refine is not None:
            try:
                return self.refine(value)
            except ValueError as error:
                return report.wrong(path, str(error))
        return value

    def misnamed(self, value: str) -> str:
        return f"{self.name} '{shortened(value, 70)}' {self.shape}"

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "string"} | ({"pattern": self.pattern} if self.pattern else {})


class Whole(Rule):
    """An integer (never a boolean), within bounds."""

    def __init__(self, *, ge: int | None = None, le: int | None = None) -> None:
        self.ge = ge
        self.le = le

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is not int:
            return report.wrong_type(path, "an integer", value)
        return _in_bounds(value, path, report, ge=self.ge, le=self.le)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "integer", **_bounds_schema(self.ge, None, self.le)}


class Number(Rule):
    """A number (an integer is taken as a float; never a boolean), within bounds."""

    def __init__(self, *, ge: float | None = None, gt: float | None = None,
                 le: float | None = None) -> None:
        self.ge, self.gt, self.le = ge, gt, le

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) not in (int, float):
            return report.wrong_type(path, "a number", value)
        return self.bounded(float(value), path, report)

    def bounded(self, value: float, path: YamlPath, report: Report) -> Any:
        if not math.isfinite(value):
            return report.wrong(path, "input should be a finite number")
        return _in_bounds(value, path, report, ge=self.ge, gt=self.gt, le=self.le)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "number", **_bounds_schema(self.ge, self.gt, self.le)}


def parse_duration(text: str) -> float:
    """"10" -> 10.0, "10s" -> 10.0, "2m" -> 120.0, "500ms" -> 0.5; raises ValueError."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"'{shortened(text, 70)}' is not a number of seconds or a duration "
                         "such as 10s or 2m")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class Duration(Number):
    """Seconds, as a number or a text with a unit: `10`, `1.5`, `10s`, `500ms`, `2m`, `1h`.
    `positive`: more than 0 and at most 7 days (a timeout or a lifetime)."""

    def __init__(self, *, positive: bool = False, ge: float | None = None,
                 gt: float | None = None, le: float | None = None) -> None:
        super().__init__(ge=ge, gt=gt, le=le)
        self.positive = positive

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is str:
            try:
                value = parse_duration(value)
            except ValueError as error:
                return report.wrong(path, str(error))
        elif type(value) not in (int, float):
            return report.wrong_type(path, "a number", value)
        if not self.positive:
            return self.bounded(float(value), path, report)
        if not math.isfinite(value) or value <= 0:
            return report.wrong(path, "must be a finite number > 0")
        if value > MAX_DURATION:
            return report.wrong(path, f"must be at most {MAX_DURATION:.0f} seconds (7 days)")
        return float(value)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        number: Schema = {"type": "number"}
        number |= ({"exclusiveMinimum": 0, "maximum": MAX_DURATION} if self.positive
                   else _bounds_schema(self.ge, self.gt, self.le))
        return {"anyOf": [number, {"type": "string", "pattern": _DURATION_TEXT}]}


class Flag(Rule):
    """`true` or `false`."""

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        return value if type(value) is bool else report.wrong_type(path, "true or false", value)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "boolean"}


class Choice(Rule):
    """One of a few words."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is str and value in self.words:
            return value
        quoted = [repr(word) for word in self.words]
        return report.wrong(path, f"input should be {', '.join(quoted[:-1])} or {quoted[-1]}")

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"enum": list(self.words)}


class ListOf(Rule):
    """A list whose every item follows `item`."""

    def __init__(self, item: Rule) -> None:
        self.item = item

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is not list:
            return report.wrong_type(path, "a list", value)
        checked = [self.item.check(item, (*path, index), report)
                   for index, item in enumerate(value)]
        return INVALID if any(item is INVALID for item in checked) else checked

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "array", "items": self.item.schema(defs)}


class MapOf(Rule):
    """A mapping whose keys follow `key` (a Text rule) and whose values follow `value`."""

    def __init__(self, key: Text, value: Rule) -> None:
        self.key = key
        self.value = value

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is not dict:
            return report.wrong_type(path, "a mapping", value)
        checked: dict[str, Any] = {}
        pattern = self.key.compiled
        valid = True
        for key, item in value.items():
            where = (*path, key)
            if pattern is not None and pattern.fullmatch(key) is None:
                report.add("WFE011", self.key.misnamed(key), where, at_key=True)
                valid = False
            checked[key] = self.value.check(item, where, report)
            valid = valid and checked[key] is not INVALID
        return checked if valid else INVALID

    def schema(self, defs: dict[str, Schema]) -> Schema:
        schema: Schema = {"type": "object", "additionalProperties": self.value.schema(defs)}
        if self.key.pattern is not None:
            schema["propertyNames"] = {"pattern": self.key.pattern}
        return schema


class Either(Rule):
    """One of several rules, chosen by the value's type (never by trying each in turn)."""

    def __init__(self, choose: Callable[[Any], Rule], options: Sequence[Rule]) -> None:
        self.choose = choose
        self.options = options

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        return self.choose(value).check(value, path, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"anyOf": [option.schema(defs) for option in self.options]}


def _in_bounds(value: Any, path: YamlPath, report: Report, *, ge: float | None = None,
               gt: float | None = None, le: float | None = None) -> Any:
    if ge is not None and value < ge:
        return report.wrong(path, f"input should be greater than or equal to {number_text(ge)}")
    if gt is not None and value <= gt:
        return report.wrong(path, f"input should be greater than {number_text(gt)}")
    if le is not None and value > le:
        return report.wrong(path, f"input should be less than or equal to {number_text(le)}")
    return value


def _bounds_schema(ge: float | None, gt: float | None, le: float | None) -> Schema:
    bounds = {"minimum": ge, "exclusiveMinimum": gt, "maximum": le}
    return {key: bound for key, bound in bounds.items() if bound is not None}
