"""The workflow file format (SPEC section 1) as typed, frozen pydantic models.

These models check shapes and value ranges only; references between parts (edge targets, tools,
expression names) are checked when the spec is compiled into a graph (`wfe.graph`).
Annotations are objects, not strings (no `from __future__ import annotations`), so that pydantic
need not evaluate each field's at every start. `wfe.spec` builds these models (see there).
"""

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

END = "end"
NODE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
STATE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
FORMAT_VERSIONS = (1,)
REDUCERS = ("replace", "append", "extend", "merge", "add")
MAX_DURATION = 7 * 24 * 3600.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: Any) -> Any:
    """10 -> 10.0, "10s" -> 10.0, "2m" -> 120.0; anything else is left for the type check."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"'{value}' is not a number of seconds or a duration such as 10s or 2m"
            )
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return value


def _finite_positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a finite number > 0")
    if value > MAX_DURATION:
        raise ValueError(f"must be at most {MAX_DURATION:.0f} seconds (7 days)")
    return value


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[
    float, BeforeValidator(lambda v: _finite_positive(parse_duration(v)) if _is_num(v) else v)
]
NodeName = Annotated[str, Field(pattern=NODE_NAME_PATTERN)]
StateKey = Annotated[str, Field(pattern=STATE_KEY_PATTERN)]


def _module_name(value: str) -> str:
    # Checked here so that a name the import system cannot even look up (`""`, `..`, a NUL, a
    # part too long for a file name) is a problem at its position, not an error while importing.
    parts = value.split(".")
    if not all(part.isidentifier() and len(part) <= 200 for part in parts):
        shown = repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
        raise ValueError(f"{shown} is not a module name (such as my_tools or package.tools)")
    return value


def _file_name(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a file name cannot contain a NUL character")
    return value


ModuleName = Annotated[str, AfterValidator(_module_name)]
FileName = Annotated[str, AfterValidator(_file_name)]


# Factories written in Python rather than `dict` and `list`: pydantic reads a factory's signature,
# and a builtin's is parsed from text with the tokenize module (milliseconds at every start).
def _empty_dict() -> dict[Any, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float | str) and not isinstance(value, bool)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _explicit_null_is_not_absent(cls, value: Any, info: ValidationInfo) -> Any:
        # `key:` with nothing after it is a mistake far more often than a wish for the default.
        if value is None and info.field_name not in _NULLABLE_FIELDS:
            raise ValueError("empty value (leave the key out to use the default)")
        return value


_NULLABLE_FIELDS = frozenset({"default"})


class StateField(_Model):
    """One state key: `{type, default, description, reduce, required, env, secret}`."""

    type: str = "any"
    default: Any = None
    description: str = ""
    reduce: str = "replace"
    required: bool = False
    env: str | None = None
    secret: bool = False

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


def _state_entry_kind(value: Any) -> str:
    return "short" if isinstance(value, str) else "full"


StateEntry = Annotated[
    Annotated[str, Tag("short")] | Annotated[StateField, Tag("full")],
    Discriminator(_state_entry_kind),
]


class Retry(_Model):
    """How often and how patiently a node's tool is retried."""

    attempts: int = Field(1, ge=1, le=1000)
    delay: Annotated[Duration, Field(ge=0, le=MAX_DURATION)] = 1.0
    backoff: float = Field(2.0, ge=1, le=100)
    max_delay: Annotated[Duration, Field(gt=0, le=MAX_DURATION)] = 60.0
    jitter: bool = False
    on: list[str] | None = None


class Branch(_Model):
    """One conditional edge: `{when: EXPR, then: NODE}`; no `when` is the default."""

    when: str | None = None
    then: NodeName


class ErrorRoute(_Model):
    """One `on_error` route: `{errors: [TypeName, ...], then: NODE}`; no `errors` matches all."""

    errors: list[str] | None = None
    then: NodeName


def _str_or_list(value: Any) -> str:
    return "list" if isinstance(value, list) else "name"


Next = Annotated[
    Annotated[NodeName, Tag("name")] | Annotated[list[Branch], Tag("list")],
    Discriminator(_str_or_list),
]
OnError = Annotated[
    Annotated[NodeName, Tag("name")] | Annotated[list[ErrorRoute], Tag("list")],
    Discriminator(_str_or_list),
]


class Limits(_Model):
    """Run-wide guards."""

    max_steps: int = Field(1000, ge=1, le=100_000_000)
    timeout: PositiveDuration = 600.0


class Defaults(_Model):
    """Node settings that apply wherever a node does not set its own."""

    timeout: PositiveDuration | None = None
    retry: Retry | None = None
    max_visits: int | None = Field(None, ge=1)


class Interrupt(_Model):
    """Pause the run until a person supplies `expects` (state key -> type)."""

    message: str = ""
    expects: dict[StateKey, str] = Field(default_factory=_empty_dict)


class CacheSpec(_Model):
    """`cache: {ttl: 1h}`: reuse a result for at most this long."""

    ttl: PositiveDuration | None = None


def _cache_kind(value: Any) -> str:
    return "rule" if isinstance(value, dict) else "flag"


Cache = Annotated[
    Annotated[bool, Tag("flag")] | Annotated[CacheSpec, Tag("rule")],
    Discriminator(_cache_kind),
]
Isolation = Literal["thread", "process"]


class ParallelBranch(_Model):
    """One branch of a `parallel:` node: a tool call of its own."""

    tool: str
    with_: dict[str, Any] = Field(default_factory=_empty_dict, alias="with")
    out: str | None = None
    retry: Retry | None = None
    timeout: PositiveDuration | None = None
    isolation: Literal["thread", "process"] | None = None
    description: str = ""


class JoinAtLeast(_Model):
    at_least: int = Field(ge=1)


def _join_kind(value: Any) -> str:
    return "rule" if isinstance(value, dict) else "word"


Join = Annotated[
    Annotated[Literal["all", "any"], Tag("word")] | Annotated[JoinAtLeast, Tag("rule")],
    Discriminator(_join_kind),
]

#: The kind keys; `map` takes its per-item `tool` beside it.
NODE_KINDS = ("tool", "parallel", "map", "workflow", "interrupt")


class Node(_Model):
    """One node of the graph: exactly one kind (`tool`, `parallel`, `map`, `workflow` or
    `interrupt`)."""

    tool: str | None = None
    interrupt: Interrupt | None = None
    parallel: dict[NodeName, ParallelBranch] | None = None
    join: Join | None = None
    map: str | None = None
    as_: StateKey | None = Field(None, alias="as")
    concurrency: int | None = Field(None, ge=1, le=100_000)
    collect: str | None = None
    workflow: FileName | None = None
    inputs: dict[StateKey, Any] | None = None
    outputs: dict[StateKey, StateKey] | None = None
    description: str = ""
    next: Next | None = None
    with_: dict[str, Any] = Field(default_factory=_empty_dict, alias="with")
    out: str | None = None
    retry: Retry | None = None
    timeout: PositiveDuration | None = None
    on_error: OnError | None = None
    max_visits: int | None = Field(None, ge=1)
    on_exhausted: NodeName | None = None
    cache: Cache | None = None
    isolation: Isolation | None = None

    @property
    def kinds(self) -> list[str]:
        kinds = [kind for kind in NODE_KINDS if getattr(self, kind) is not None]
        # A map runs its per-item `tool:` or `workflow:`; it is the node's one kind.
        return [k for k in kinds if k not in ("tool", "workflow")] if "map" in kinds else kinds

    @property
    def kind(self) -> str:
        kinds = self.kinds
        return kinds[0] if kinds else "tool"


class WorkflowSpec(_Model):
    """A whole workflow file."""

    wfe: Literal[1] = 1
    name: str = ""
    description: str = ""
    imports: list[ModuleName] = Field(default_factory=_empty_list)
    state: dict[StateKey, StateEntry] = Field(default_factory=_empty_dict)
    start: NodeName | None = None
    limits: Limits = Field(default_factory=Limits)
    defaults: Defaults = Field(default_factory=Defaults)
    nodes: dict[NodeName, Node]

    @model_validator(mode="after")
    def _has_nodes(self) -> "WorkflowSpec":
        if not self.nodes:
            raise ValueError("a workflow needs at least one node")
        return self

    def state_fields(self) -> dict[str, StateField]:
        """The state schema with shorthand entries expanded."""
        return {
            key: StateField(type=entry) if isinstance(entry, str) else entry
            for key, entry in self.state.items()
        }

    @property
    def start_node(self) -> str:
        return self.start if self.start is not None else next(iter(self.nodes))
