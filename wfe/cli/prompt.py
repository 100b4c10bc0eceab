"""Asking a person at a terminal for an interrupt node's values."""

from __future__ import annotations

import sys
from typing import Any

from wfe.durable import check_answers
from wfe.errors import WfeError
from wfe.render._format import safe_text
from wfe.scalars import ScalarError, typed_scalar
from wfe.types import parse_type


def prompt_for(node: str, message: str, expects: dict[str, str]) -> dict[str, Any] | None:
    """Each expected key, read as a YAML scalar and checked; None when input ends (Ctrl-D)."""
    sys.stderr.write(safe_text(f"\n⏸ {node}: {message or 'input needed'}\n"))
    values: dict[str, Any] = {}
    for key, type_text in expects.items():
        while True:
            try:
                raw = input(f"  {key} ({type_text}): ")
            except EOFError:
                sys.stderr.write("\n")
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
