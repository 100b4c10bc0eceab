"""A tool call's arguments from its bindings, and a tool's return value as state updates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from wfe.errors import ExpressionError, RunError
from wfe.expr.template import MAX_CALL_TEXT
from wfe.graph.model import GraphNode, Source
from wfe.state.schema import State, describe_value
from wfe.state.view import StateView
from wfe.tools.registry import STATE_PARAM


class _Run(Protocol):
    state: State
    visits: dict[str, int]
    step: int
    inputs: dict[str, Any]


class Scope(Mapping[str, Any]):
    """The names an expression sees: state keys, `visits`, `step`, `inputs`."""

    __slots__ = ("_run",)

    def __init__(self, run: _Run) -> None:
        self._run = run

    def __getitem__(self, name: str) -> Any:
        run = self._run
        if name in run.state:
            return run.state[name]
        if name == "visits":
            return run.visits
        if name == "step":
            return run.step
        if name == "inputs":
            return run.inputs
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._run.state
        yield from ("visits", "step", "inputs")

    def __len__(self) -> int:
        return len(self._run.state) + 3


class ItemScope(Mapping[str, Any]):
    """The names a `map:` item's expressions see: its item, then the run's scope."""

    __slots__ = ("_name", "_scope", "_value")

    def __init__(self, scope: Mapping[str, Any], name: str, value: Any) -> None:
        self._scope, self._name, self._value = scope, name, value

    def __getitem__(self, name: str) -> Any:
        return self._value if name == self._name else self._scope[name]

    def __iter__(self) -> Iterator[str]:
        yield self._name
        yield from self._scope

    def __len__(self) -> int:
        return len(self._scope) + 1


def bind_arguments(node: GraphNode, state: State, scope: Mapping[str, Any],
                   item: Any = None) -> dict[str, Any]:
    """The keyword arguments of the node's tool (without `ctx`, which is per attempt)."""
    kwargs: dict[str, Any] = {}
    built = 0  # characters of text the templates built
    for binding in node.bindings:
        source = binding.source
        if source is Source.STATE:
            if binding.value in state:
                kwargs[binding.param] = state[binding.value]
            elif not _has_default(node, binding.param):
                raise RunError(f"tool parameter '{binding.param}' reads state key "
                               f"'{binding.value}', which is not set yet", node=node.name)
        elif source is Source.CONSTANT:
            kwargs[binding.param] = binding.value
        elif source is Source.TEMPLATE:
            template = binding.value
            try:
                kwargs[binding.param] = value = template.render(scope)
            except ExpressionError as error:
                raise ExpressionError(f"with.{binding.param}: {error}", node=node.name) from None
            if template.builds_text:
                built += len(value)
                if built > MAX_CALL_TEXT:
                    raise ExpressionError(f"with.{binding.param}: the templates of one call "
                                          f"would build over {MAX_CALL_TEXT} characters",
                                          node=node.name)
        elif source is Source.WHOLE_STATE:
            kwargs[binding.param] = StateView(state)
        elif source is Source.ITEM:
            kwargs[binding.param] = item
    return kwargs


def updates_of(node: GraphNode, kwargs: dict[str, Any], state: State, result: Any) -> Any:
    """The state updates a tool's return value stands for."""
    if not node.wants_state:  # the usual case, first
        if node.out is not None:
            return {node.out: result}
        if type(result) is dict:
            return result
        if result is None:
            return {}
    elif isinstance(result, StateView):
        result = result.copy()  # `return state`: every key, as the tool's copy had
    if node.out is not None:
        return {node.out: result}
    if type(result) is dict and not node.wants_state:
        return result
    whole = kwargs.get(STATE_PARAM) if node.wants_state else None
    if isinstance(whole, StateView):
        changes = whole.changes(state)
    else:  # the tool ran in another process, on a plain copy it sent back
        changes = _changes(state, whole) if isinstance(whole, dict) else {}
    if result is None:
        return changes
    if isinstance(result, dict):
        return {**changes, **result} if changes else result
    raise RunError(
        f"tool returned {describe_value(result)}; return a dict of state updates, None, "
        "or set `out:` to store the value under one key",
        node=node.name,
    )


def _has_default(node: GraphNode, param: str) -> bool:
    assert node.tool is not None
    return any(p.name == param and p.has_default for p in node.tool.params)


def _changes(before: State, after: dict[str, Any]) -> dict[str, Any]:
    """The keys a tool changed in its copy of the whole state."""
    return {k: v for k, v in after.items() if k not in before or before[k] != v}
