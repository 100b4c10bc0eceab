"""What travels between wfe and a worker for one tool call, and how each side packs it: the one
codec of every executor that runs a call elsewhere (a worker process, a cluster's worker).

wfe pickles each argument on its own (plain pickle first: state values are JSON and pickle them
fastest; cloudpickle, when installed, for anything else), so a value that cannot travel is named
by its key at no extra cost. The tool travels by reference (its module and qualified name) when
plain pickle can name it, else as cloudpickle makes it (the code itself, for a script's
`__main__` sent to a cluster). `ctx` does not travel: the worker makes it again from the step.
The worker answers with an Outcome, pickled by itself (wfe.executors.remote.worker), so an answer
that
cannot travel back is reported by key too; a tool's exception travels as a
wfe.engine.remote_error.ErrorReport. Standard library only, apart from cloudpickle's fallback:
worker
processes import this module.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

from wfe.engine.remote_error import ErrorReport, rebuild
from wfe.tools.context import StepInfo
from wfe.tools.registry import CONTEXT_PARAM, STATE_PARAM, ToolDef

PROTOCOL = pickle.HIGHEST_PROTOCOL


class SerialisationError(TypeError):
    """A tool's argument or result cannot be serialised to or from where the call runs."""


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteCall:
    """One call, as the worker receives it."""

    tool: str
    module: str
    function: bytes
    arguments: dict[str, bytes]
    wants_context: bool
    is_async: bool
    step: tuple[str, str, int, int, int]  # run_id, node (its label), step, visit, attempt

    @property
    def node(self) -> str:
        return self.step[1]


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """The worker's answer: a result (with the `state` argument as the tool left it, when it
    took one), an exception, or why the call or its answer could not travel. `logs`: the lines
    the tool logged, when they were not sent as they came."""

    logs: list[tuple[Any, ...]]
    result: Any = None
    state: dict[str, Any] | None = None
    error: ErrorReport | None = None
    unsendable: str = ""


def dumps(value: Any) -> bytes:
    """Plain pickle when it can (fast for JSON values), else cloudpickle; raises on neither."""
    try:
        return pickle.dumps(value, PROTOCOL)
    except Exception:
        try:
            import cloudpickle  # the `dask` extra brings it; the core install does without
        except ImportError:
            raise
        return cloudpickle.dumps(value, PROTOCOL)  # type: ignore[no-any-return]


def pickled_function(tool: ToolDef, destination: str, *, main_by_value: bool) -> bytes:
    """The tool as it travels; SerialisationError naming it when it cannot. `main_by_value`:
    the worker cannot import this program's `__main__` (a cluster's can't; a worker process
    runs the main script again, so it can), so a tool defined there travels as code."""
    try:
        if main_by_value:
            # Imported here: cloudpickle is the optional `dask` extra's (see `dumps`).
            import cloudpickle

            return cloudpickle.dumps(tool.fn, PROTOCOL)  # type: ignore[no-any-return]
        return pickle.dumps(tool.fn, PROTOCOL)
    except Exception as error:
        raise SerialisationError(f"tool '{tool.name}' cannot be sent to {destination}: "
                                 f"{type(error).__name__}: {error}") from None


def pack_call(tool: ToolDef, function: bytes, kwargs: dict[str, Any], step: StepInfo,
              destination: str) -> bytes:
    """The call for the worker; SerialisationError naming the node and the argument at fault."""
    arguments: dict[str, bytes] = {}
    for name, value in kwargs.items():
        if name == CONTEXT_PARAM:
            continue  # rebuilt on the worker: the engine's own log sink must not travel
        try:
            arguments[name] = dumps(value)
        except Exception as error:
            raise SerialisationError(
                f"node '{step.node}': argument '{name}' of tool '{tool.name}' cannot be "
                f"serialised for {destination}: {type(error).__name__}: {error}") from None
    call = RemoteCall(tool.name, tool.module, function, arguments, CONTEXT_PARAM in kwargs,
                      tool.is_async, (step.run_id, step.node, step.step, step.visit, step.attempt))
    return pickle.dumps(call, PROTOCOL)


def unpack_outcome(packed: bytes, kwargs: dict[str, Any], step: StepInfo) -> Any:
    """The tool's result (its log lines emitted first), or its exception raised here."""
    try:
        outcome: Outcome = pickle.loads(packed)
    except Exception as error:
        raise SerialisationError(
            f"node '{step.node}': the result cannot be loaded in the wfe process: "
            f"{type(error).__name__}: {error}") from None
    for line in outcome.logs:
        step.log(*line)
    if outcome.unsendable:
        raise SerialisationError(outcome.unsendable)
    if outcome.error is not None:
        raise rebuild(outcome.error)
    if outcome.state is not None and STATE_PARAM in kwargs:
        kwargs[STATE_PARAM] = outcome.state  # the engine reads the tool's changes from its copy
    return outcome.result
