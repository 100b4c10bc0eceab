"""wfe: run YAML workflow graphs of Python tools, locally, durably, from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wfe.errors import (
    ExpressionError,
    LoopLimitExceeded,
    NodeFailed,
    RunError,
    RunTimeout,
    SpecError,
    StateError,
    StepLimitExceeded,
    UsageError,
    WfeError,
)
from wfe.tools.context import ToolContext, annotate, console, log
from wfe.tools.registry import tool

if TYPE_CHECKING:
    from wfe.api import RunResult, Workflow

__all__ = [
    "ExpressionError",
    "LoopLimitExceeded",
    "NodeFailed",
    "RunError",
    "RunResult",
    "RunTimeout",
    "SpecError",
    "StateError",
    "StepLimitExceeded",
    "ToolContext",
    "UsageError",
    "WfeError",
    "Workflow",
    "annotate",
    "console",
    "log",
    "tool",
]


def __getattr__(name: str) -> Any:
    if name in ("Workflow", "RunResult"):
        # deferred: the loader and compiler (PyYAML, simpleeval, asyncio: ~70 ms) load only when
        # a workflow is used, so `import wfe` in a tool module stays cheap
        from wfe import api

        return getattr(api, name)
    if name == "__version__":  # the installed package's
        # deferred: importlib.metadata (~15 ms) loads only when the version is asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("wfe")
        except PackageNotFoundError:
            return "0+unknown"
    raise AttributeError(f"module 'wfe' has no attribute {name!r}")
