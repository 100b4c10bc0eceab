"""How a finished (or paused) run is reported: the final state, a closing line, the exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import wfe.cli.failures as failures
from wfe.engine.events import iso_timestamp
from wfe.engine.result import RunResult
from wfe.errors import NodeFailed, UsageError
from wfe.redact import mask_text, shown_error
from wfe.render._format import safe_text

EXIT_OK, EXIT_FAILED, EXIT_WAITING, EXIT_INTERRUPTED = 0, 1, 3, 130

_EXIT_CODES = {"succeeded": EXIT_OK, "failed": EXIT_FAILED, "cancelled": EXIT_FAILED,
               "waiting": EXIT_WAITING, "interrupted": EXIT_INTERRUPTED}


def exit_code(result: RunResult) -> int:
    return _EXIT_CODES.get(result.status, EXIT_FAILED)


def report(result: RunResult, *, stored: bool) -> None:
    """One line on stderr for anything but success: what happened and what to do next."""
    if result.error is not None:
        trace = result.error.traceback if isinstance(result.error, NodeFailed) else None
        if failures.DEBUG and trace:
            trace = safe_text(mask_text(trace))
            sys.stderr.write(trace if trace.endswith("\n") else trace + "\n")
        sys.stderr.write(f"error: {shown_error(result.error)}\n")
        if stored:
            sys.stderr.write(f"after a fix: wfe resume {result.run_id}\n")
    elif result.status == "waiting" and result.waiting is not None:
        node, expects = result.waiting["node"], result.waiting.get("expects") or {}
        keys = " ".join(f"-i {k}=..." for k in expects)
        message = result.waiting.get("message") or "input needed"
        where = f"wfe resume {result.run_id} {keys}".rstrip() if stored else "not stored"
        sys.stderr.write(f"waiting at '{node}': {shown_error(message)}\nto continue: {where}\n")
        deadline = result.waiting.get("deadline")
        if isinstance(deadline, float | int):
            sys.stderr.write(f"times out at {iso_timestamp(deadline)}: then `wfe resume "
                             f"{result.run_id}` (or `wfe schedule`, `wfe serve --schedule`) "
                             "goes on without an answer\n")
    elif result.status == "cancelled":
        sys.stderr.write(f"run {result.run_id} was cancelled\n")


def write_output(path: Path, state: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--output {path}: cannot write it ({error.strerror})") from None


def print_state(state: dict[str, Any]) -> None:
    """The whole state as JSON, for a program reading stdout (a terminal gets a short result)."""
    sys.stdout.write(json.dumps(state, indent=2, ensure_ascii=False) + "\n")
