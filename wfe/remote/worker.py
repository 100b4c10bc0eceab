"""What runs on a cluster's worker: one tool call, and the import check before a run.

This module is imported on the workers (the task function travels by reference), so it imports
only wfe's light modules and the standard library.
"""

from __future__ import annotations

import asyncio
import importlib
import pickle
from collections.abc import Callable
from typing import Any

from wfe.context import StepInfo, reset_step, set_step
from wfe.registry import CONTEXT_PARAM, STATE_PARAM
from wfe.remote.payload import Outcome, RemoteCall, dumps
from wfe.remote_error import report


class _Refused(Exception):
    """The call cannot run on this worker: the message says why."""


def run_call(payload: bytes) -> bytes:
    """One tool call, run as a cluster's task: always an Outcome, pickled here so that an answer
    that cannot travel is reported by key rather than by the cluster's own error."""
    logs: list[tuple[Any, ...]] = []  # each a log line: (message,) or (message, annotation)
    try:
        call: RemoteCall = pickle.loads(payload)
    except Exception as error:
        return _pack(Outcome(logs, unsendable=f"a call cannot be loaded on "
                                              f"{worker_name()}: {_describe(error)}"))
    try:
        fn = _function(call)
        kwargs = _arguments(call)
    except _Refused as refused:
        return _pack(Outcome(logs, unsendable=str(refused)))
    step = StepInfo(call.step[0], lambda _node, *line: logs.append(line))
    step.node, step.step, step.visit, step.attempt = call.step[1:]
    if call.wants_context:
        kwargs[CONTEXT_PARAM] = step.context()
    token = set_step(step)
    try:
        result = asyncio.run(fn(**kwargs)) if call.is_async else fn(**kwargs)
    except Exception as error:
        return _pack(_failure(error, logs))
    finally:
        reset_step(token)
    state = kwargs.get(STATE_PARAM)
    return _answer(call, Outcome(logs, result, state if isinstance(state, dict) else None))


def _function(call: RemoteCall) -> Callable[..., Any]:
    try:
        fn = pickle.loads(call.function)
    except Exception as error:
        raise _Refused(f"node '{call.node}': {worker_name()} cannot import "
                       f"tool '{call.tool}' (module {call.module}): {_describe(error)}") from None
    if not callable(fn):
        raise _Refused(f"node '{call.node}': tool '{call.tool}' is not callable on "
                       f"{worker_name()}")
    return fn  # type: ignore[no-any-return]


def _arguments(call: RemoteCall) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, packed in call.arguments.items():
        try:
            kwargs[name] = pickle.loads(packed)
        except Exception as error:
            raise _Refused(f"node '{call.node}': argument '{name}' cannot be loaded on "
                           f"{worker_name()}: {_describe(error)}") from None
    return kwargs


def _failure(error: Exception, logs: list[tuple[Any, ...]]) -> Outcome:
    return Outcome(logs, error=report(error, dumps))


def _answer(call: RemoteCall, outcome: Outcome) -> bytes:
    """The pickled outcome, or one naming the part of the result that cannot travel."""
    try:
        return dumps(outcome)
    except Exception as error:
        where = _unsendable_part(outcome) or "result"
        return _pack(Outcome(outcome.logs, unsendable=(
            f"node '{call.node}': the {where} of tool '{call.tool}' cannot be serialised "
            f"to send it back from {worker_name()}: {_describe(error)}")))


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
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except Exception:  # not a Dask worker
        import socket

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
