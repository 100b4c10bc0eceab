"""The workflow file format (SPEC section 1): each section a frozen record whose attributes are
declared with the rule that checks them (`wfe.spec.record`, `wfe.spec.rules`).

These check shapes and value ranges only; references between parts (edge targets, tools,
expression names) are checked when the spec is compiled into a graph (`wfe.graph.compiler`).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

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
#: The kind keys; `map` takes its per-item `tool` beside it. Each is a module of wfe.nodes.
KindName = Literal["tool", "parallel", "map", "workflow", "interrupt", "wait", "fail"]
NODE_KINDS: tuple[KindName, ...] = get_args(KindName)
#: Which node keys belong to which kind: the one table a node's keys are checked against.
#: Every node takes COMMON_NODE_KEYS; a `map:` node also takes the keys of what it runs per
#: item (a `tool:` or a `workflow:`), but `out` (its results go to `collect`).
COMMON_NODE_KEYS = frozenset({"next", "description", "max_visits", "on_exhausted", "if", "pool"})
KIND_KEYS: dict[KindName, frozenset[str]] = {
    "tool": frozenset({"tool", "with", "out", "retry", "timeout", "on_error", "cache",
                       "isolation"}),
    "parallel": frozenset({"parallel", "join", "retry", "timeout", "on_error", "isolation",
                           "tolerate", "errors"}),
    "map": frozenset({"map", "as", "concurrency", "collect", "on_error", "tolerate", "errors"}),
    "workflow": frozenset({"workflow", "inputs", "outputs", "on_error"}),
    "interrupt": frozenset({"interrupt"}),
    "wait": frozenset({"wait"}),
    "fail": frozenset({"fail"}),
}
_MAP_ITEM_KEYS = (KIND_KEYS["tool"] | KIND_KEYS["workflow"]) - {"out"}

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


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("a fail node needs a message saying why the run fails")
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


def _is_expression(value: Any) -> bool:
    return type(value) is str and value.lstrip().startswith("${")


#: `wait:` seconds (`10`, `5m`), or a `"${ expr }"` giving them when the node runs.
WAIT = Either(lambda value: TEXT if _is_expression(value) else Duration(ge=0, le=MAX_DURATION),
              [Duration(ge=0, le=MAX_DURATION), TEXT])


def _short_or_long(short: Rule, long: Rule, long_type: type) -> Either:
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


class Interrupt(Record):
    """Pause the run until a person supplies `expects` (state key -> type)."""

    message: str = field(TEXT, default="")
    expects: dict[str, str] = field(MapOf(STATE_KEY, TEXT), default_factory=dict)
    timeout: float | None = field(POSITIVE_DURATION, default=None,
                                  doc="how long to wait for the values")
    on_timeout: str | None = field(NODE_NAME, default=None,
                                   doc="where the run goes once `timeout` has passed "
                                       "(without it, the run fails)")


class CacheSpec(Record):
    """`cache: {ttl: 1h}`: reuse a result for at most this long."""

    ttl: float | None = field(POSITIVE_DURATION, default=None)


class ParallelBranch(Record):
    """One branch of a `parallel:` node: a tool call of its own, or a whole sub-flow (a
    `workflow:` with its `inputs` and `outputs`)."""

    tool: str | None = field(TEXT, default=None)
    workflow: str | None = field(Text(refine=_file_name), default=None)
    inputs: dict[str, Any] | None = field(MapOf(STATE_KEY, Anything()), default=None)
    outputs: dict[str, str] | None = field(MapOf(STATE_KEY, STATE_KEY), default=None)
    with_: dict[str, Any] = field(MapOf(TEXT, Anything()), default_factory=dict,
                                  key="with")
    out: str | None = field(TEXT, default=None)
    retry: Retry | None = field(Section(Retry), default=None)
    timeout: float | None = field(POSITIVE_DURATION, default=None)
    isolation: Literal["thread", "process"] | None = field(ISOLATION, default=None)
    description: str = field(TEXT, default="")


class JoinAtLeast(Record):
    """`join: {at_least: N}`: the parallel node succeeds once N branches have."""

    at_least: int = field(Whole(ge=1))


def _percent(value: str) -> str:
    if not 0 <= float(value[:-1]) <= 100:
        raise ValueError(f"tolerate: '{value}' is not a percentage from 0% to 100%")
    return value


PERCENT = Text(pattern=r"^[0-9]+(\.[0-9]+)?%$", name="tolerate",
               shape="must be a count (3) or a percentage (\"10%\")", refine=_percent)
#: `tolerate:` how many items or branches may fail: a count, or a percentage of them.
TOLERATE = Either(lambda value: PERCENT if type(value) is str else Whole(ge=0),
                  [Whole(ge=0), PERCENT])
NEXT = _short_or_long(NODE_NAME, ListOf(Section(Branch)), list)
ON_ERROR = _short_or_long(NODE_NAME, ListOf(Section(ErrorRoute)), list)
JOIN = _short_or_long(Choice("all", "any"), Section(JoinAtLeast), dict)
CACHE = _short_or_long(Flag(), Section(CacheSpec), dict)


class Node(Record):
    """One node of the graph: exactly one kind (`tool`, `parallel`, `map`, `workflow`,
    `interrupt`, `wait` or `fail`)."""

    tool: str | None = field(TEXT, default=None)
    interrupt: Interrupt | None = field(Section(Interrupt), default=None)
    parallel: dict[str, ParallelBranch] | None = field(
        MapOf(NODE_NAME, Section(ParallelBranch)), default=None)
    join: Literal["all", "any"] | JoinAtLeast | None = field(JOIN, default=None)
    map: str | None = field(TEXT, default=None, doc="an expression giving the list to map over")
    as_: str | None = field(STATE_KEY, default=None, key="as")
    concurrency: int | None = field(Whole(ge=1, le=100_000), default=None)
    collect: str | None = field(TEXT, default=None)
    tolerate: int | str | None = field(
        TOLERATE, default=None,
        doc="how many items or branches may fail without failing the node: N or \"P%\"")
    errors: str | None = field(TEXT, default=None,
                               doc="a list state key the tolerated failures are appended to")
    workflow: str | None = field(Text(refine=_file_name), default=None)
    inputs: dict[str, Any] | None = field(MapOf(STATE_KEY, Anything()), default=None)
    outputs: dict[str, str] | None = field(MapOf(STATE_KEY, STATE_KEY), default=None)
    wait: float | str | None = field(WAIT, default=None,
                                     doc="seconds, or a \"${ expr }\" giving them")
    fail: str | None = field(Text(refine=_reason), default=None,
                             doc="end the run failed with this message (\"${ }\" allowed)")
    description: str = field(TEXT, default="")
    if_: str | None = field(TEXT, default=None, key="if",
                            doc="an expression: when it is false the node is skipped")
    next: str | list[Branch] | None = field(NEXT, default=None)
    with_: dict[str, Any] = field(MapOf(TEXT, Anything()), default_factory=dict,
                                  key="with")
    out: str | None = field(TEXT, default=None)
    retry: Retry | None = field(Section(Retry), default=None)
    timeout: float | None = field(POSITIVE_DURATION, default=None)
    on_error: str | list[ErrorRoute] | None = field(ON_ERROR, default=None)
    max_visits: int | None = field(Whole(ge=1), default=None)
    on_exhausted: str | None = field(NODE_NAME, default=None)
    cache: bool | CacheSpec | None = field(CACHE, default=None)
    isolation: Literal["thread", "process"] | None = field(ISOLATION, default=None)
    pool: str | None = field(TEXT, default=None,
                             doc="a pool declared in [tool.wfe.pools] of pyproject.toml: at most "
                                 "its size of nodes in it run at once")

    @property
    def kinds(self) -> list[KindName]:
        kinds = [kind for kind in NODE_KINDS if getattr(self, kind) is not None]
        # A map runs its per-item `tool:` or `workflow:`; it is the node's one kind.
        return [k for k in kinds if k not in ("tool", "workflow")] if "map" in kinds else kinds

    @property
    def kind(self) -> KindName:
        kinds = self.kinds
        return kinds[0] if kinds else "tool"

    def foreign_keys(self) -> list[tuple[str, str]]:
        """The keys given that do not belong to this node's kind, each with a sentence saying
        which kind it is and which kinds it belongs to."""
        kind = self.kind
        allowed = COMMON_NODE_KEYS | KIND_KEYS[kind]
        what = f"{'an' if kind == 'interrupt' else 'a'} {kind} node"
        if kind == "map":
            item: KindName = "workflow" if self.workflow is not None else "tool"
            allowed |= KIND_KEYS[item] - {"out"}
            what = f"a map node that runs a {item} per item"
        foreign = []
        for key in map(_NODE_KEY_OF.__getitem__, self.given):
            if key not in allowed:
                text = f"`{key}` does not belong to {what}; it belongs to {_owners(key)}"
                if kind == "parallel" and key in ParallelBranch.fields:
                    text += " (for a branch, set it inside the branch under `parallel:`)"
                foreign.append((key, text))
        return foreign


#: A node's attribute name -> its key in the file (`with_` -> `with`).
_NODE_KEY_OF = {spec.name: spec.key for spec in Node.fields.values()}


def _owners(key: str) -> str:
    kinds = [kind for kind in NODE_KINDS if key in KIND_KEYS[kind]]
    if key in _MAP_ITEM_KEYS and "map" not in kinds:
        kinds.append("map")
    names = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
    return f"{names} nodes"


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
    nodes: dict[str, Node] = field(MapOf(NODE_NAME, Section(Node)))
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


def json_schema() -> dict[str, Any]:
    """The format as JSON Schema (draft 2020-12), for editors (`wfe schema`)."""
    defs: dict[str, Schema] = {}
    WorkflowSpec.schema(defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "wfe workflow",
            **defs.pop(WorkflowSpec.__name__), "$defs": defs}
