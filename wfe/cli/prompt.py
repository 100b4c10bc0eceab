"""Asking a person at a terminal for an interrupt node's values."""

from __future__ import annotations

import select
import sys
import time
from typing import Any

from wfe.engine.events import iso_timestamp
from wfe.engine.interrupts import answer_by
from wfe.errors import WfeError
from wfe.render._format import safe_text
from wfe.state.scalars import ScalarError, typed_scalar
from wfe.state.types import parse_type
from wfe.store.journal import check_answers


def prompt_for(node: str, message: str, expects: dict[str, str]) -> dict[str, Any] | None:
    """Each expected key, read as a YAML scalar and checked; None when input ends (Ctrl-D) or
    the interrupt's timeout passes first."""
    deadline = answer_by.get()
    until = f" (until {iso_timestamp(deadline)})" if deadline is not None else ""
    sys.stderr.write(safe_text(f"\n⏸ {node}: {message or 'input needed'}{until}\n"))
    values: dict[str, Any] = {}
    for key, type_text in expects.items():
        while True:
            try:
                raw = _read_line(f"  {key} ({type_text}): ", deadline)
            except EOFError:
                sys.stderr.write("\n")
                return None
            except TimeoutError:
                sys.stderr.write("\n  no answer in time\n")
                return None
            try:
                value = typed_scalar(raw.strip(), parse_type(type_text))
                check_answers({key: type_text}, {key: value})
            except (WfeError, ScalarError) as error:
                sys.stderr.write(f"  {error}\n")
                continue
            values[key] = value
            break
    return values


def _read_line(prompt: str, deadline: float | None) -> str:
    """A line typed at the terminal; TimeoutError once `deadline` (time.time()) passes."""
    if deadline is None:
        return input(prompt)
    sys.stdout.write(prompt)
    sys.stdout.flush()
    left = deadline - time.time()
    if left <= 0 or not select.select([sys.stdin], [], [], left)[0]:
        raise TimeoutError
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")
