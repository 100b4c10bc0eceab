"""`wfe history RUN`: the state after every step and what the step changed.

On a terminal (or any text output): a line per step (number, node, outcome, duration, the node
that followed) and a line per key the step added (`+`), changed (`~`, old -> new) or removed
(`-`), values shortened (a long list by its ends and length). With `--json`: JSON lines, one
object per step with the whole state after it, the first for the run's start (`node` null, its
initial state).
"""

from __future__ import annotations

import json
import reprlib
import sys
from pathlib import Path
from typing import Any

from wfe.cli.run_options import open_store
from wfe.store.run_documents import history_documents

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel = 3


def show_history(run: str, as_json: bool, store_path: Path | None) -> None:
    with open_store(store_path, None) as store:
        run_id = store.resolve(run)
        write = sys.stdout.write
        if as_json:
            for document in history_documents(store, run_id):
                write(_json_line(document))
            return
        step, start, initial = store.start_of(run_id)
        shown: dict[str, str] = {}
        write(f"step {step}  start  -> {start}\n")
        write(_changes(shown, initial, initial))
        for record, state in store.history(run_id):
            took = f"{record.duration_ms:.1f} ms"
            write(f"step {record.step}  {record.node}  {record.outcome}  {took}  -> "
                  f"{record.next_node}\n")
            write(_changes(shown, state, record.updates))


def _json_line(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False) + "\n"


def _brief(value: Any) -> str:
    """A value in a few dozen characters; a long list shows its ends and its length."""
    if isinstance(value, list) and len(value) > _SHORT.maxlist:
        return f"[{_SHORT.repr(value[0])}, ..., {_SHORT.repr(value[-1])}] ({len(value)} items)"
    if isinstance(value, dict) and len(value) > _SHORT.maxdict:
        return f"{_SHORT.repr(value)} ({len(value)} keys)"
    return _SHORT.repr(value)


def _changes(shown: dict[str, str], state: dict[str, Any], updated: dict[str, Any]) -> str:
    """The lines of the keys a step added, changed or removed; `shown` holds the text of each
    key's value before it, and is brought up to date."""
    lines = []
    for key in updated:
        if key not in state:
            continue  # a secret key: never stored
        text, before = _brief(state[key]), shown.get(key)
        if before is None:
            lines.append(f"  + {key}: {text}\n")
        elif before != text:
            lines.append(f"  ~ {key}: {before} -> {text}\n")
        shown[key] = text
    if len(shown) != len(state) or any(k not in state for k in shown):
        for key in [k for k in state if k not in shown]:  # written by a snapshot alone
            shown[key] = _brief(state[key])
            lines.append(f"  + {key}: {shown[key]}\n")
        for key in [k for k in shown if k not in state]:
            del shown[key]
            lines.append(f"  - {key}\n")
    return "".join(lines)
