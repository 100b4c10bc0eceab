"""The workflow file format (SPEC section 1): each section a frozen record whose attributes are
declared with the rule that checks them (`wfe.spec.record`, `wfe.spec.rules`).

These check shapes and value ranges only; references between parts (edge targets, tools,
expression names) are checked when the spec is compiled into a graph (`wfe.graph.compiler`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from wfe.spec.record import Record, Section, field
from wfe.spec.rules import (
    INVALID,
    MAX_DURATION,
    Anything,
    Choice,
    Duration,
    Either,
    Flag,
    ListOf,
    MapOf,
    Number,
    Report,
    Rule,
    Schema,
    Text,
    Whole,
)
from wfe.spec.schedule import SCHEDULES, Schedule
from wfe.spec.yaml_loader import YamlPath

END = "end"
NODE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
STATE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
FORMAT_VERSION = 1
REDUCERS = ("replace", "append", "extend", "merge", "add")

NODE_NAME = Text(pattern=NODE_NAME_PATTERN, name="node name",
                 shape="must start with a letter and hold only letters, digits, '_' and '-' "
                       "(at most 64)")
STATE_KEY = Text(pattern=STATE_KEY_PATTERN, name="state key",
                 shape="must be an identifier: a letter, then letters, digits or '_'")
TEXT = Text()
POSITIVE_DURATION = Duration(positive=True)
ISOLATION = Choice("thread", "process")


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


class FormatVersion(Rule):
    """`wfe: 1`, the only version of the format there is."""

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is int and value == FORMAT_VERSION:
            return value
        report.add("WFE013", f"unsupported format version {value!r} (this wfe reads version "
                             f"{FORMAT_VERSION})", path)
        return INVALID

    def schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"const": FORMAT_VERSION}


def short_or_long(short: Rule, long: Rule, long_type: type) -> Either:
    """A key that takes a short form (a name, a word, a flag) or a long one of `long_type`."""
    return Either(lambda value: long if type(value) is long_type else short, [short, long])


class StateField(Record):
    """One state key: its type, default, reducer, and where else its value may come from."""

    type: str = field(TEXT, default="any", doc="str, int, float, bool, list[...], dict[str, "
                                               "...], any, or a union such as int | None")
    default: Any = field(Anything(accepts_null=True), default=None)
    description: str = field(TEXT, default="")
    reduce: str = field(TEXT, default="replace",
                        doc="replace, append, extend, merge, add, or a tool's name")
    required: bool = field(Flag(), default=False)
    env: str | None = field(TEXT, default=None, doc="an environment variable to read")
    secret: bool = field(Flag(), default=False, doc="masked in output, events and logs")

    @property
    def has_default(self) -> bool:
        return "default" in self.given


FULL_STATE_ENTRY = Section(StateField)
#: A state key's entry: its type alone, or the full form (anything but a string is checked as one).
STATE_ENTRY = Either(lambda value: TEXT if type(value) is str else FULL_STATE_ENTRY,
                     [TEXT, FULL_STATE_ENTRY])


class Retry(Record):
    """How often and how patiently a node's tool is retried."""

    attempts: int = field(Whole(ge=1, le=1000), default=1)
    delay: float = field(Duration(ge=0, le=MAX_DURATION), default=1.0)
    backoff: float = field(Number(ge=1, le=100), default=2.0)
    max_delay: float = field(Duration(gt=0, le=MAX_DURATION), default=60.0)
    jitter: bool = field(Flag(), default=False)
    on: list[str] | None = field(ListOf(TEXT), default=None,
                                 doc="the error type names to retry (default: all)")


class Branch(Record):
    """One conditional edge: `{when: EXPR, then: NODE}`; no `when` is the default."""

    when: str | None = field(TEXT, default=None)
    then: str = field(NODE_NAME)


class ErrorRoute(Record):
    """One `on_error` route: `{errors: [TypeName, ...], then: NODE}`; no `errors` matches all."""

    errors: list[str] | None = field(ListOf(TEXT), default=None)
    then: str = field(NODE_NAME)


class OnEnd(Record):
    """`on_end:` run handlers: the node each outcome runs once the run has ended (`always`
    after the outcome's own)."""

    succeeded: str | None = field(NODE_NAME, default=None)
    failed: str | None = field(NODE_NAME, default=None)
    cancelled: str | None = field(NODE_NAME, default=None)
    always: str | None = field(NODE_NAME, default=None)

    def starts(self) -> dict[str, str]:
        """{which: node} for each handler given, in the order they run."""
        given = {"succeeded": self.succeeded, "failed": self.failed,
                 "cancelled": self.cancelled, "always": self.always}
        return {which: node for which, node in given.items() if node is not None}


class Limits(Record):
    """Run-wide guards."""

    max_steps: int = field(Whole(ge=1, le=100_000_000), default=1000)
    timeout: float = field(POSITIVE_DURATION, default=600.0)


class Defaults(Record):
    """Node settings that apply wherever a node does not set its own."""

    timeout: float | None = field(POSITIVE_DURATION, default=None)
    retry: Retry | None = field(Section(Retry), default=None)
    max_visits: int | None = field(Whole(ge=1), default=None)


class CacheSpec(Record):
    """`cache: {ttl: 1h}`: reuse a result for at most this long."""

    ttl: float | None = field(POSITIVE_DURATION, default=None)


def _percent(value: str) -> str:
    if not 0 <= float(value[:-1]) <= 100:
        raise ValueError(f"tolerate: '{value}' is not a percentage from 0% to 100%")
    return value


PERCENT = Text(pattern=r"^[0-9]+(\.[0-9]+)?%$", name="tolerate",
               shape="must be a count (3) or a percentage (\"10%\")", refine=_percent)
#: `tolerate:` how many items or branches may fail: a count, or a percentage of them.
TOLERATE = Either(lambda value: PERCENT if type(value) is str else Whole(ge=0),
                  [Whole(ge=0), PERCENT])
NEXT = short_or_long(NODE_NAME, ListOf(Section(Branch)), list)
ON_ERROR = short_or_long(NODE_NAME, ListOf(Section(ErrorRoute)), list)
CACHE = short_or_long(Flag(), Section(CacheSpec), dict)


WORKFLOW_FILE = Text(refine=_file_name)


def with_key() -> Any:
    """`with:` a tool's arguments: parameter -> constant or "${ expr }"."""
    return field(MapOf(TEXT, Anything()), default_factory=dict, key="with")


def retry_key() -> Any:
    return field(Section(Retry), default=None)


def timeout_key() -> Any:
    return field(POSITIVE_DURATION, default=None)


def isolation_key() -> Any:
    return field(ISOLATION, default=None)


def on_error_key() -> Any:
    return field(ON_ERROR, default=None)


def inputs_key() -> Any:
    return field(MapOf(STATE_KEY, Anything()), default=None)


def outputs_key() -> Any:
    return field(MapOf(STATE_KEY, STATE_KEY), default=None)


def tolerate_key() -> Any:
    return field(TOLERATE, default=None,
                 doc="how many items or branches may fail without failing the node: N or \"P%\"")


def errors_key() -> Any:
    return field(TEXT, default=None, doc="a list state key the tolerated failures are appended to")


class NodeCommon(Record):
    """The keys every node takes, whatever its kind. Each kind's record (its module in
    wfe.nodes) extends this one with the kind's own keys."""

    description: str = field(TEXT, default="")
    if_: str | None = field(TEXT, default=None, key="if",
                            doc="an expression: when it is false the node is skipped")
    next: str | list[Branch] | None = field(NEXT, default=None)
    max_visits: int | None = field(Whole(ge=1), default=None)
    on_exhausted: str | None = field(NODE_NAME, default=None)
    pool: str | None = field(TEXT, default=None,
                             doc="a pool declared in [tool.wfe.pools] of pyproject.toml: at most "
                                 "its size of nodes in it run at once")
    #: Keys several kinds take, read by what compiles every node: the kinds that take one
    #: declare it as a field of their own; on the others it is None.
    out: str | None = None
    retry: Retry | None = None
    timeout: float | None = None
    on_error: str | list[ErrorRoute] | None = None
    cache: bool | CacheSpec | None = None
    isolation: Literal["thread", "process"] | None = None


class NodeMapping(Rule):
    """A node as the file gives it: a mapping, read by its kind's record once the kind is known
    (wfe.nodes.read_nodes: the kinds are above this layer)."""

    def check(self, value: Any, path: YamlPath, report: Report) -> Any:
        if type(value) is not dict:
            return report.wrong_type(path, "a mapping", value)
        return value

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"$ref": "#/$defs/Node"}  # json_schema adds it from the kinds' records


class WorkflowSpec(Record):
    """A wfe workflow file."""

    wfe: int = field(FormatVersion(), default=FORMAT_VERSION, doc="the format's version")
    name: str = field(TEXT, default="", doc="default: the file's name without its extension")
    description: str = field(TEXT, default="")
    imports: list[str] = field(ListOf(Text(refine=_module_name)), default_factory=list,
                               doc="modules whose @tool functions the nodes use")
    state: dict[str, str | StateField] = field(
        MapOf(STATE_KEY, STATE_ENTRY),
        default_factory=dict, doc="every key the nodes read or write: a type, or "
                                         "{type, default, ...}")
    start: str | None = field(NODE_NAME, default=None, doc="default: the first node")
    limits: Limits = field(Section(Limits), default_factory=Limits)
    defaults: Defaults = field(Section(Defaults), default_factory=Defaults)
    nodes: dict[str, dict[str, Any]] = field(MapOf(NODE_NAME, NodeMapping()),
                                             doc="each node: exactly one kind and its keys")
    on_end: OnEnd = field(Section(OnEnd), default_factory=OnEnd,
                          doc="run handlers: nodes run once the run has ended")
    schedule: Schedule | list[Schedule] | None = field(
        SCHEDULES, default=None, doc="when `wfe schedule` and `wfe serve --schedule` start "
                                     "this workflow: one schedule or a list")

    @classmethod
    def check_whole(cls, values: dict[str, Any], path: YamlPath, report: Report) -> bool:
        if values.get("nodes") == {}:
            report.wrong(("nodes",), "a workflow needs at least one node")
            return False
        return True

    def state_fields(self) -> dict[str, StateField]:
        """The state schema with shorthand entries expanded."""
        return {
            key: StateField(type=entry) if isinstance(entry, str) else entry
            for key, entry in self.state.items()
        }

    @property
    def start_node(self) -> str:
        return self.start if self.start is not None else next(iter(self.nodes))


def json_schema(node_records: Sequence[type[NodeCommon]]) -> dict[str, Any]:
    """The format as JSON Schema (draft 2020-12), for editors (`wfe schema`): a node is one of
    the kinds' records (wfe.nodes.RECORDS)."""
    defs: dict[str, Schema] = {}
    WorkflowSpec.schema(defs)
    defs["Node"] = {"description": "a node: exactly one kind and its keys",
                    "oneOf": [record.schema(defs) for record in node_records]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "wfe workflow",
            **defs.pop(WorkflowSpec.__name__), "$defs": defs}
