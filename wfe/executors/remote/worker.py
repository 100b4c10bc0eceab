"""What runs where a call was sent: one tool call, and the import check before a run.

The same code serves every executor that runs calls elsewhere: a cluster's task
(`run_call(payload) -> bytes`) and a worker process of `isolation: process`
(wfe.executors.isolation,
through `load_call`, `run_loaded` and `pack_outcome`). This module is imported on the workers
(the task function travels by reference), so it imports only wfe's light modules and the
standard library.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pickle
import socket
from collections.abc import Callable
from typing import Any

from wfe.engine.remote_error import report
from wfe.executors.remote.payload import Outcome, RemoteCall, dumps
from wfe.tools.context import StepInfo, reset_step, set_step
from wfe.tools.registry import CONTEXT_PARAM, STATE_PARAM


class Refused(Exception):
    """The call cannot run on this worker: the message says why."""


def run_call(payload: bytes) -> bytes:
    """One tool call, run as a cluster's task: always an Outcome, pickled here so that an answer
    that cannot travel is reported by key rather than by the cluster's own error. Log lines are
    kept and travel with the answer."""
    logs: list[tuple[Any, ...]] = []  # each a log line: (message,) or (message, annotation)
    where = worker_name()
    try:
        call, fn, kwargs = load_call(payload, where)
    except Refused as refused:
        return _pack(Outcome(logs, unsendable=str(refused)))
    step = StepInfo(call.step[0], lambda _node, *line: logs.append(line))
    outcome = run_loaded(call, fn, kwargs, step)
    return pack_outcome(call, Outcome(logs, outcome.result, outcome.state, outcome.error), where)


def load_call(payload: bytes, where: str) -> tuple[RemoteCall, Callable[..., Any], dict[str, Any]]:
    """The call, its tool and its arguments; Refused saying what cannot be loaded on `where`."""
    try:
        call: RemoteCall = pickle.loads(payload)
    except Exception as error:
        raise Refused(f"a call cannot be loaded on {where}: {_describe(error)}") from None
    return call, _function(call, where), _arguments(call, where)


def run_loaded(call: RemoteCall, fn: Callable[..., Any], kwargs: dict[str, Any],
               step: StepInfo) -> Outcome:
    """Run the tool with `step` as its step (its log lines go to the step's sink): an Outcome
    with its result and `state` as the tool left it, or its exception (no logs: the sink has
    them)."""
    step.node, step.step, step.visit, step.attempt = call.step[1:]
    if call.wants_context:
        kwargs[CONTEXT_PARAM] = step.context()
    token = set_step(step)
    try:
        if call.is_async or inspect.iscoroutinefunction(fn):
            result = asyncio.run(fn(**kwargs))
        else:
            result = fn(**kwargs)
    except Exception as error:
        return Outcome([], error=report(error, dumps))
    finally:
        reset_step(token)
    state = kwargs.get(STATE_PARAM)
    return Outcome([], result, state if isinstance(state, dict) else None)


def _function(call: RemoteCall, where: str) -> Callable[..., Any]:
    try:
        fn = pickle.loads(call.function)
    except Exception as error:
        raise Refused(f"node '{call.node}': {where} cannot import "
                      f"tool '{call.tool}' (module {call.module}): {_describe(error)}") from None
    if not callable(fn):
        raise Refused(f"node '{call.node}': tool '{call.tool}' is not callable on {where}")
    return fn  # type: ignore[no-any-return]


def _arguments(call: RemoteCall, where: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, packed in call.arguments.items():
        try:
            kwargs[name] = pickle.loads(packed)
        except Exception as error:
            raise Refused(f"node '{call.node}': argument '{name}' cannot be loaded on "
                          f"{where}: {_describe(error)}") from None
    return kwargs


def pack_outcome(call: RemoteCall, outcome: Outcome, where: str) -> bytes:
    """The pickled outcome, or one naming the part of the result that cannot travel."""
    try:
        return dumps(outcome)
    except Exception as error:
        part = _unsendable_part(outcome) or "result"
        return _pack(Outcome(outcome.logs, unsendable=(
            f"node '{call.node}': the {part} of tool '{call.tool}' cannot be serialised "
            f"to send it back from {where}: {_describe(error)}")))


def _unsendable_part(outcome: Outcome) -> str | None:
    """Which key of the result (or of the `state` the tool changed) does not pickle."""
    for label, value in (("result", outcome.result), ("state", outcome.state)):
        if isinstance(value, dict):
            for key, item in value.items():
                if not _sendable(item):
                    return f"{label} key '{key}'"
        elif not _sendable(value):
            return label
    return None


def _sendable(value: Any) -> bool:
    try:
        dumps(value)
    except Exception:
        return False
    return True


def _pack(outcome: Outcome) -> bytes:
    return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def worker_name() -> str:
    """`Dask worker ADDRESS` (the one cluster wfe knows today), else `worker HOSTNAME`."""
    try:
        # Imported here: distributed is the optional `dask` extra's.
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except Exception:  # not a Dask worker
        return f"worker {socket.gethostname()}"


# --- before a run ------------------------------------------------------------------------------

def check_imports(tools: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Run on every worker: (tool, module, why) for each (tool, module, qualname) that this
    worker cannot import."""
    failures: list[tuple[str, str, str]] = []
    for name, module, qualname in tools:
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except Exception as error:
            failures.append((name, module, _describe(error)))
    return failures
