"""`wfe runs`, `wfe show`, `wfe logs` and `wfe cancel`: the store, read from any terminal."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from wfe.cli.run_options import open_store
from wfe.engine.events import RunStatus
from wfe.errors import UsageError
from wfe.render import make_renderer
from wfe.render._format import safe_text
from wfe.store.run_documents import run_document, run_summary

if TYPE_CHECKING:
    from rich.console import Console

    from wfe.store import RunRecord, StepRecord

FOLLOW_POLL_SECONDS = 0.1
_TERMINAL = frozenset({"succeeded", "failed", "cancelled", "waiting", "interrupted"})


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(record: RunRecord) -> str:
    """Until the run ended or last paused; a running run's time so far."""
    running = record.status == "running"
    end = time.time() if running else record.finished_at or record.updated_at
    return f"{max(0.0, end - record.created_at):.2f} s"


def list_runs(status: str | None, limit: int, as_json: bool, store_path: Path | None) -> None:
    statuses: tuple[RunStatus, ...] = get_args(RunStatus)
    if status is not None and status not in statuses:
        raise UsageError(f"--status {status}: not one of {', '.join(statuses)}")
    if limit < 1:
        raise UsageError("--limit must be at least 1")
    with open_store(store_path, None) as store:
        records = store.list_runs(status=status, limit=limit)
    if as_json:
        rows = [run_summary(r) for r in records]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    # deferred: Rich (~20 ms) draws the table; --json goes without it
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("run", "workflow", "status", "started (UTC)", "duration", "steps",
                  box=None, pad_edge=False)
    for r in records:
        table.add_row(r.run_id, Text(safe_text(r.workflow)), r.status, _when(r.created_at),
                      _duration(r), str(r.step))
    console = Console()
    console.print(table if records else "no runs in this store yet")


def show_run(run: str, as_json: bool, store_path: Path | None) -> None:
    with open_store(store_path, None) as store:
        record = store.get_run(store.resolve(run))
        steps = store.steps(record.run_id)
    if as_json:
        document = run_document(record, steps)
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    _print_run(record, steps)


def _print_run(record: RunRecord, steps: list[StepRecord]) -> None:
    # deferred: Rich (~20 ms) draws the run; `wfe show --json` goes without it
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    # Rich's highlighter takes quadratic time in long unbroken text (20 KB: 4.5 s, 80 KB: 100 s).
    console = Console(highlight=False)
    console.print(f"run {record.run_id} · {escape(safe_text(record.workflow))} · "
                  f"[bold]{record.status}[/bold]")
    console.print(safe_text(f"file: {record.workflow_path}"), markup=False)
    console.print(f"started {_when(record.created_at)} UTC, {_duration(record)}")
    if record.parent_run_id:
        console.print(f"restarted from run {record.parent_run_id}")
    console.print(safe_text(f"inputs: {json.dumps(record.inputs, ensure_ascii=False)}"),
                  markup=False)
    table = Table("step", "node", "attempt", "duration", "outcome", "error", box=None,
                  pad_edge=False)
    traces = [(f"step {s.step} ({s.node})", s.error["traceback"]) for s in steps
              if s.error and s.error.get("traceback")]
    for s in steps:
        error = f"{s.error['type']}: {s.error['message']}" if s.error else ""
        table.add_row(str(s.step), Text(safe_text(s.node)), str(s.attempt),
                      f"{s.duration_ms:.1f} ms", s.outcome, Text(safe_text(error)))
    console.print(table)
    for s in steps:
        if s.items:
            counts = Counter(item.get("status", "?") for item in s.items)
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            console.print(safe_text(f"step {s.step} ({s.node}) items: {summary}"), markup=False)
            for item in s.items:
                if item.get("error"):
                    console.print(safe_text(f"  [{item['index']}] {item['error']['type']}: "
                                            f"{item['error']['message']}"), markup=False)
    if record.error:
        console.print(safe_text(f"error at node '{record.error.get('node')}': "
                                f"{record.error.get('type')}: {record.error.get('message')}"),
                      markup=False)
        if record.error.get("traceback"):
            traces.append(("the run's error", record.error["traceback"]))
    for where, trace in traces:
        console.print(safe_text(f"traceback of {where}:\n{trace.rstrip()}"), markup=False,
                      highlight=False)
    if record.waiting:
        console.print(safe_text(f"waiting at '{record.waiting['node']}' for "
                                f"{', '.join(record.waiting.get('expects') or {})}"), markup=False)
    console.print("state:")
    _print_state(console, record.state)


def _print_state(console: Console, state: dict[str, Any]) -> None:
    text = json.dumps(state, ensure_ascii=False)
    # JSON escapes control characters but not bidirectional ones: then show every non-ASCII one
    # escaped.
    console.print_json(text, ensure_ascii=safe_text(text) != text)


def show_logs(run: str, follow: bool, as_json: bool, store_path: Path | None) -> None:
    """Replay the stored events, then (with --follow) stream new ones until the run ends."""
    renderer = make_renderer("json" if as_json else "plain", stream=sys.stdout)
    with open_store(store_path, None) as store:
        run_id = store.resolve(run)
        seq = 0
        while True:
            events = store.events(run_id, after_seq=seq)
            for event in events:
                renderer(event)
                seq = event["seq"]
            if not follow:
                return
            # A resumed run's replay holds the run_finished of its earlier pause: stop only
            # once the run is no longer running.
            ended = any(e["event"] == "run_finished" for e in events)
            if (ended or not events) and store.get_run(run_id).status in _TERMINAL:
                return
            time.sleep(FOLLOW_POLL_SECONDS)


def cancel_run(run: str, store_path: Path | None) -> None:
    with open_store(store_path, None) as store:
        run_id = store.resolve(run)
        ended = store.request_cancel(run_id)
    sys.stderr.write(f"run {run_id} cancelled\n" if ended
                     else f"run {run_id} will stop at its next step boundary\n")
