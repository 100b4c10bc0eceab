"""The one error hierarchy of wfe.

    WfeError                       exit code 1 unless the subclass says otherwise
    ├── SpecError                  an invalid workflow file: one or more Problems (exit 2)
    ├── UsageError                 bad command-line usage or inputs (exit 2)
    │   ├── InputError             an input that does not fit the state schema
    │   └── ExecutorError          the executor (a Dask cluster) cannot run this workflow's tools
    └── RunError                   a run that failed (exit 1); names the node where it can
        ├── NodeFailed             a tool raised (after its retries) and nothing routed it
        ├── StateError             an update or input broke the state schema
        ├── ExpressionError        an expression could not be evaluated at run time
        ├── LoopLimitExceeded      a node's max_visits was exceeded
        ├── StepLimitExceeded      limits.max_steps was exceeded
        ├── RunTimeout             limits.timeout passed
        ├── AnswerTimeout          an interrupt's timeout passed and it has no on_timeout
        └── DeliberateFailure      a `fail:` node ended the run

Every user-facing error carries where it came from: a Location (file, line, column, key path)
for load-time problems, the node name for run-time ones.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

Severity = Literal["error", "warning"]

#: Stable problem codes, documented in the README. Never renumber; add new ones at the end.
PROBLEM_CODES: dict[str, str] = {
    "WFE001": "file cannot be read: missing, unreadable, too large, empty or not UTF-8",
    "WFE002": "YAML syntax error",
    "WFE003": "YAML feature not allowed: tags, merge keys, non-string keys, several documents",
    "WFE004": "duplicate key",
    "WFE005": "document too deep or too large after alias expansion",
    "WFE006": "character not allowed: control, bidirectional or invisible",
    "WFE010": "unknown key",
    "WFE011": "wrong value type or value out of range",
    "WFE012": "missing required key",
    "WFE013": "unsupported format version",
    "WFE020": "unknown node (start, next, then, on_error, on_exhausted, on_timeout or on_end)",
    "WFE021": "default branch (no `when`) is not the last one",
    "WFE022": "node kind: none or more than one of tool/parallel/map/workflow/interrupt",
    "WFE023": "no path from a node reaches `end`",
    "WFE024": "a node key that does not belong to the node's kind",
    "WFE030": "unknown tool",
    "WFE031": "tool parameter that neither `with:` nor the state supplies",
    "WFE032": "`with:` key that the tool does not accept, or a constant of the wrong type",
    "WFE033": "tool module cannot be imported, or two tools share a name",
    "WFE034": "a tool's `return {...}` writes a state key that is not declared",
    "WFE040": "expression syntax error or construct not allowed",
    "WFE041": "unknown name or function in an expression",
    "WFE042": "an expression that fails whenever it is evaluated",
    "WFE050": "state schema: unknown type, bad default, reserved or undeclared key, a key two "
              "parallel branches write without a reducer",
    "WFE060": "unreachable node",
    "WFE061": "state key that nothing reads or writes",
    "WFE062": "a `next:` list without a default branch: the run ends when no `when` holds",
    "WFE070": "subgraph file missing, invalid or recursive",
    "WFE071": "a map item's workflow with an interrupt node",
    "WFE080": "a pool that [tool.wfe.pools] does not declare",
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is: a file, 1-based line and column (0 when unknown), and a key path."""

    file: str
    line: int = 0
    col: int = 0
    key: str = ""

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.col or 1}"
        return self.file


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a workflow file."""

    code: str
    message: str
    location: Location
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # Messages quote names and values from the file, which YAML escapes can fill with line
        # breaks and terminal control sequences: a problem must print as one plain line.
        object.__setattr__(self, "message", one_line(self.message))

    def format(self) -> str:
        return f"{self.location}: {self.severity}[{self.code}]: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.col, self.code)


@functools.cache
def _unprintable() -> re.Pattern[str]:
    # Compiled when first needed rather than at import: most starts of wfe report no problem.
    return re.compile(
        "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
    )


def one_line(text: str) -> str:
    """`text` with line breaks and control, bidirectional or invisible characters escaped
    (`\\n`, `\\x1b`, `\\u202e`)."""
    return _unprintable().sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix, or an empty string when nothing is close."""
    from difflib import get_close_matches  # only on the error path: difflib is slow to import

    matches = get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


class WfeError(Exception):
    """Base of every error wfe raises on purpose."""

    exit_code: ClassVar[int] = 1


class UsageError(WfeError):
    """The command line or the inputs given to a run are wrong."""

    exit_code = 2


class InputError(UsageError):
    """An input given to a run does not fit the state schema; names the key."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class ExecutorError(UsageError):
    """`--executor` names a cluster that cannot be reached, has no workers, or cannot import a
    tool; raised before the run starts, so nothing is recorded."""


@dataclass
class SpecError(WfeError):
    """A workflow file is invalid. Holds every problem found, not only the first."""

    problems: list[Problem] = field(default_factory=list)
    exit_code: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(p.format() for p in self.errors) or "invalid workflow"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @classmethod
    def single(cls, code: str, message: str, location: Location) -> SpecError:
        return cls([Problem(code, message, location)])


class RunError(WfeError):
    """A run failed. ``node`` names where, when a node is at fault."""

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node

    def __str__(self) -> str:
        return f"node '{self.node}': {self.message}" if self.node else self.message


class NodeFailed(RunError):
    """A tool raised and neither retry nor on_error handled it."""

    def __init__(self, node: str, error_type: str, message: str, attempts: int, *,
                 item: str | None = None) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        where = f"{item}: " if item else ""
        super().__init__(f"{where}{error_type}: {message}{tries}", node=node)
        self.error_type = error_type
        self.error_message = message
        self.attempts = attempts
        #: The tool's traceback (wfe.engine.tool_trace), stored with the run and shown by --debug.
        self.traceback: str | None = None


class StateError(RunError):
    """A value broke the state schema; names the key (and the node, for tool updates)."""

    def __init__(self, message: str, *, key: str, node: str | None = None) -> None:
        super().__init__(message, node=node)
        self.key = key


class ExpressionError(RunError):
    """An expression failed while being evaluated (an unset name, a bad operand, a limit)."""


class LoopLimitExceeded(RunError):
    """A node would run more often than its max_visits allows."""


class StepLimitExceeded(RunError):
    """The run took more steps than limits.max_steps."""


class RunTimeout(RunError):
    """The run took longer than limits.timeout."""


class AnswerTimeout(RunError):
    """An interrupt's `timeout` passed without an answer, and it has no `on_timeout`."""


class DeliberateFailure(RunError):
    """A `fail:` node ended the run."""
