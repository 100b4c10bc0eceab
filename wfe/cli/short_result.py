"""What `wfe run` prints on a terminal instead of the whole state: the status, the run id, the
keys the run changed (a few short values) and where to read the whole state.

The state of a real run can be thousands of lines of JSON; on a terminal it would scroll the live
view and what the tools printed out of sight, so it goes to stdout only when stdout is not a
terminal (`wfe run x.yaml > state.json`) or to `--output FILE`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wfe.engine.result import RunResult
from wfe.render._format import format_duration, safe_text

#: At most this many changed keys are named; the rest are counted.
KEYS_SHOWN = 8
#: A value is shown when its JSON is at most this long; else its size is.
VALUE_WIDTH = 40


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The keys whose value the run set or changed, in the state's order."""
    return [key for key, value in after.items() if key not in before or before[key] != value]


def short_value(value: Any) -> str:
    """A value as it fits on a line: itself when short, else its size."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= VALUE_WIDTH:
        return text
    if isinstance(value, list):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    if isinstance(value, dict):
        return f"{{{len(value)} key{'s' if len(value) != 1 else ''}}}"
    return text[: VALUE_WIDTH - 1] + "…"


def short_result(result: RunResult, before: Mapping[str, Any], after: Mapping[str, Any], *,
                 show: str) -> str:
    """The lines printed on a terminal when a run ends (secrets already masked in the states);
    `show` says where the whole state is (a command or a file)."""
    steps = f"{result.steps} step{'s' if result.steps != 1 else ''}"
    lines = [f"{result.status} · run {result.run_id} · {steps} · "
             f"{format_duration(result.duration_ms)}"]
    changed = changed_keys(before, after)
    width = max((len(key) for key in changed[:KEYS_SHOWN]), default=0)
    lines.append("changed:" if changed else "changed: nothing")
    lines.extend(f"  {key:<{width}}  {short_value(after[key])}" for key in changed[:KEYS_SHOWN])
    if len(changed) > KEYS_SHOWN:
        lines.append(f"  and {len(changed) - KEYS_SHOWN} more")
    lines.append(f"the whole state: {show}")
    return safe_text("\n".join(lines)) + "\n"


def where_to_see(run_id: str, *, stored: bool, store: Path | None, output: Path | None) -> str:
    """The command (or file) that shows the whole state of the run."""
    if output is not None:
        return str(output)
    if not stored:
        return "not stored; run again with --output FILE, or with stdout redirected"
    where = f" --store {store}" if store is not None else ""
    return f"wfe show {run_id}{where}"
