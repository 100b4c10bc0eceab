"""A section of the workflow file as a frozen record, declared once: each attribute names its
key, its rule (`wfe.spec.rules`) and its default. The same declaration checks a mapping from
the file, builds the record, and describes the section as JSON Schema.

    class Retry(Record):
        attempts: int = field(Whole(ge=1, le=1000), default=1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, dataclass_transform

from wfe.errors import did_you_mean
from wfe.spec.rules import INVALID, Report, Rule, Schema, subject
from wfe.spec.yaml_loader import YamlPath

_REQUIRED: Any = object()
_EMPTY_VALUE = "empty value (leave the key out to use the default)"


class Field:
    """One key of a section: its rule, its default, its key in the file and what it means."""

    __slots__ = ("default", "default_factory", "doc", "key", "name", "rule")

    def __init__(self, rule: Rule, default: Any, default_factory: Callable[[], Any] | None,
                 key: str | None, doc: str) -> None:
        self.rule = rule
        self.default = default
        self.default_factory = default_factory
        #: The key in the file; the attribute's name unless given (set when the class is made).
        self.key = key or ""
        self.doc = doc
        self.name = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and self.default_factory is None


def field(rule: Rule, *, default: Any = _REQUIRED,
          default_factory: Callable[[], Any] | None = None, key: str | None = None,
          doc: str = "") -> Any:
    """Declare a section's key (`key` when the file's name is not an identifier: `with`)."""
    return Field(rule, default, default_factory, key, doc)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Record:
    """A checked section of a workflow file; frozen, compared by value."""

    #: The section's fields by their key in the file, in declaration order.
    fields: ClassVar[dict[str, Field]]
    _defaults: ClassVar[dict[str, Any]]
    _required: ClassVar[tuple[Field, ...]]
    _factories: ClassVar[tuple[Field, ...]]
    _names: ClassVar[frozenset[str]]
    #: The keys present in the file (the others hold their defaults).
    given: frozenset[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A record that extends another takes its keys first (a node kind's the common ones).
        cls.fields = {key: spec for base in reversed(cls.__mro__[1:])
                      if issubclass(base, Record) and base is not Record
                      for key, spec in base.fields.items()}
        for name, value in list(vars(cls).items()):
            if isinstance(value, Field):
                value.name = name
                value.key = value.key or name
                cls.fields[value.key] = value
                delattr(cls, name)
        cls._defaults = {f.name: f.default for f in cls.fields.values()
                         if f.default is not _REQUIRED}
        cls._required = tuple(f for f in cls.fields.values() if f.required)
        cls._factories = tuple(f for f in cls.fields.values() if f.default_factory is not None)
        cls._names = frozenset(f.name for f in cls.fields.values())

    def __init__(self, **values: Any) -> None:
        unknown = [name for name in values if name not in self._names]
        missing = [spec.name for spec in self._required if spec.name not in values]
        if unknown or missing:
            raise TypeError(f"{type(self).__name__}: unknown {unknown}, missing {missing}")
        self._fill(values)

    def _fill(self, values: dict[str, Any]) -> None:
        attributes = vars(self)
        attributes.update(self._defaults)
        for spec in self._factories:
            if spec.name not in values:
                attributes[spec.name] = spec.default_factory()  # type: ignore[misc]
        attributes.update(values)
        attributes["given"] = frozenset(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, spec.name) for spec in self.fields.values())

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{spec.name}={getattr(self, spec.name)!r}"
                          for spec in self.fields.values())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def check(cls, value: Any, path: YamlPath, report: Report) -> Self | Any:
        """The record for a mapping from the file, or INVALID with every problem reported."""
        if type(value) is not dict:
            return report.wrong_type(path, "a mapping", value)
        values: dict[str, Any] = {}
        valid = True
        for key, item in value.items():
            spec = cls.fields.get(key)
            where = (*path, key)
            if spec is None:
                hint = did_you_mean(key, cls.fields)
                report.add("WFE010", f"unknown key '{key}'{hint}", where, at_key=True)
                valid = False
            elif item is None and not spec.rule.accepts_null:
                report.wrong(where, _EMPTY_VALUE, at_key=True)
                valid = False
            else:
                values[spec.name] = checked = spec.rule.check(item, where, report)
                valid = valid and checked is not INVALID
        for spec in cls._required:
            if spec.key not in value:
                report.add("WFE012", f"{subject(path)}: missing required key '{spec.key}'",
                           path)
                valid = False
        valid = cls.check_whole(values, path, report) and valid
        if not valid:
            return INVALID
        record = cls.__new__(cls)  # the keys are known to be right: no need to check them again
        record._fill(values)
        return record

    @classmethod
    def check_whole(cls, values: dict[str, Any], path: YamlPath, report: Report) -> bool:
        """Rules across keys, for sections that have them; False when one is broken."""
        return True

    @classmethod
    def schema(cls, defs: dict[str, Schema]) -> Schema:
        """A `$ref` to this section's JSON Schema, which is added to `defs` once."""
        name = cls.__name__
        if name not in defs:
            defs[name] = {}  # placed first: a section may contain itself
            defs[name] = {
                "type": "object",
                "description": " ".join((cls.__doc__ or "").split()),
                "properties": {key: _field_schema(spec, defs)
                               for key, spec in cls.fields.items()},
                "required": [spec.key for spec in cls._required],
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}


class Section(Rule):
    """A nested section: a mapping checked by a Record class."""

    def __init__(self, record: type[Record]) -> None:
        self.record = record

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        return self.record.check(value, path, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return self.record.schema(defs)


def _field_schema(spec: Field, defs: dict[str, Schema]) -> Schema:
    schema = spec.rule.schema(defs)
    if spec.doc:
        schema = {**schema, "description": spec.doc}
    if spec.default_factory is not None:
        default = spec.default_factory()
        if not isinstance(default, Record):
            schema = {**schema, "default": default}
    elif spec.default is not _REQUIRED and spec.default is not None:
        schema = {**schema, "default": spec.default}
    return schema
