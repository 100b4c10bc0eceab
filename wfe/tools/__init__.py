"""Tools: the @tool registry, discovery (imports, entry points), binding and ctx.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.tools.context import LogSink as LogSink
    from wfe.tools.context import StepInfo as StepInfo
    from wfe.tools.context import ToolContext as ToolContext
    from wfe.tools.context import ToolOutput as ToolOutput
    from wfe.tools.context import annotate as annotate
    from wfe.tools.context import call_tool as call_tool
    from wfe.tools.context import capture_output as capture_output
    from wfe.tools.context import console as console
    from wfe.tools.context import current_context as current_context
    from wfe.tools.context import end_output as end_output
    from wfe.tools.context import log as log
    from wfe.tools.context import reset_step as reset_step
    from wfe.tools.context import set_step as set_step
    from wfe.tools.context import show_tool_output_on as show_tool_output_on
    from wfe.tools.context import terminal_stream as terminal_stream
    from wfe.tools.discovery import any_may_declare as any_may_declare
    from wfe.tools.discovery import build_registry as build_registry
    from wfe.tools.discovery import import_module as import_module
    from wfe.tools.discovery import import_workflow_module as import_workflow_module
    from wfe.tools.discovery import is_declared as is_declared
    from wfe.tools.discovery import register_entry_points as register_entry_points
    from wfe.tools.discovery import register_modules as register_modules
    from wfe.tools.registry import Param as Param
    from wfe.tools.registry import Registry as Registry
    from wfe.tools.registry import ToolDef as ToolDef
    from wfe.tools.registry import ToolMark as ToolMark
    from wfe.tools.registry import tool as tool

__all__ = [
    "LogSink",
    "Param",
    "Registry",
    "StepInfo",
    "ToolContext",
    "ToolDef",
    "ToolMark",
    "ToolOutput",
    "annotate",
    "any_may_declare",
    "build_registry",
    "call_tool",
    "capture_output",
    "console",
    "current_context",
    "end_output",
    "import_module",
    "import_workflow_module",
    "is_declared",
    "log",
    "register_entry_points",
    "register_modules",
    "reset_step",
    "set_step",
    "show_tool_output_on",
    "terminal_stream",
    "tool",
]

_WHERE = {
    "annotate": "wfe.tools.context",
    "any_may_declare": "wfe.tools.discovery",
    "build_registry": "wfe.tools.discovery",
    "call_tool": "wfe.tools.context",
    "capture_output": "wfe.tools.context",
    "console": "wfe.tools.context",
    "current_context": "wfe.tools.context",
    "end_output": "wfe.tools.context",
    "import_module": "wfe.tools.discovery",
    "import_workflow_module": "wfe.tools.discovery",
    "is_declared": "wfe.tools.discovery",
    "log": "wfe.tools.context",
    "LogSink": "wfe.tools.context",
    "Param": "wfe.tools.registry",
    "register_entry_points": "wfe.tools.discovery",
    "register_modules": "wfe.tools.discovery",
    "Registry": "wfe.tools.registry",
    "reset_step": "wfe.tools.context",
    "set_step": "wfe.tools.context",
    "show_tool_output_on": "wfe.tools.context",
    "StepInfo": "wfe.tools.context",
    "terminal_stream": "wfe.tools.context",
    "tool": "wfe.tools.registry",
    "ToolContext": "wfe.tools.context",
    "ToolDef": "wfe.tools.registry",
    "ToolMark": "wfe.tools.registry",
    "ToolOutput": "wfe.tools.context",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
