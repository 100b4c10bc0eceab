"""What a tool's failure leads to: another attempt, the node's `on_error` route, or the run
failing with the node named."""

from __future__ import annotations

from wfe.engine.remote_error import RemoteToolError
from wfe.engine.tool_trace import tool_traceback
from wfe.errors import NodeFailed, RunError
from wfe.graph.model import GraphNode
from wfe.redact import cut
from wfe.state.schema import State, StateSchema


class ToolFailure(Exception):
    """A tool raised on its last attempt; on_error may still route it."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts
        #: The map item that failed (`m[12]`), when the node is a map.
        self.item: str | None = None

    def traceback(self, schema: StateSchema, state: State) -> str:
        """The tool's traceback as stored (wfe.engine.tool_trace), the state's secret values
        masked."""
        secrets = schema.secret_keys
        return tool_traceback(self.error, (str(v) for k, v in state.items() if k in secrets))


def type_names(error: BaseException) -> set[str]:
    """The names of the error's class and its bases: what `retry on:` and `on_error` match
    (for a stand-in of an exception raised elsewhere, those of the original)."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if isinstance(error, RemoteToolError):
        names |= error.type_names
    return names


def retryable(error: BaseException, on: frozenset[str] | None) -> bool:
    return on is None or bool(on & type_names(error))


def error_message(error: BaseException) -> str:
    """The message of a tool's exception as it is shown and stored: at most 4 KB (a RunError's
    without the node its event names already)."""
    if isinstance(error, RunError):
        return cut(error.message)
    return cut(str(error) or type(error).__name__)


def error_route(node: GraphNode, failure: ToolFailure, schema: StateSchema, state: State) -> str:
    """The node the failure is routed to; NodeFailed (with the tool's traceback, the state's
    secrets masked) when no `on_error` route takes it."""
    names = type_names(failure.error)
    for route in node.on_error:
        if route.errors is None or route.errors & names:
            return route.target
    failed = NodeFailed(node.name, type(failure.error).__name__, error_message(failure.error),
                        failure.attempts, item=failure.item)
    failed.traceback = failure.traceback(schema, state)
    raise failed
