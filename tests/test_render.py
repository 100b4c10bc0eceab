"""Renderer tests: whole-output golden files for the plain, JSON-lines and live front ends.

Regenerate the golden files with `WFE_UPDATE_GOLDEN=1 pytest tests/test_render.py`, then review
the diff under tests/golden/render/ before committing it.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

import wfe
from wfe.engine.events import Event
from wfe.render import NullRenderer, make_renderer
from wfe.render.jsonl import JsonLinesRenderer
from wfe.render.live import LiveRenderer
from wfe.render.plain import PlainRenderer

GOLDEN = Path(__file__).parent / "golden" / "render"
UPDATE = os.environ.get("WFE_UPDATE_GOLDEN") == "1"
START = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
NODES = ["read", "evaluate", "improve", "report"]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with WFE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def make_events(run_id: str, steps: list[tuple[int, str, dict[str, Any]]]) -> list[Event]:
    """(milliseconds after START, event kind, fields) -> numbered, timestamped events."""
    events = []
    for seq, (offset_ms, kind, fields) in enumerate(steps, start=1):
        moment = START + timedelta(milliseconds=offset_ms)
        ts = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        events.append({"event": kind, "run_id": run_id, "ts": ts, "seq": seq, **fields})
    return events


def started(node: str, step: int, attempt: int = 1) -> tuple[str, dict[str, Any]]:
    return "node_started", {"node": node, "step": step, "attempt": attempt}


def finished(node: str, step: int, ms: float, **updates: Any) -> tuple[str, dict[str, Any]]:
    return "node_finished", {"node": node, "step": step, "duration_ms": ms, "updates": updates}


def failed(node: str, step: int, attempt: int, kind: str, message: str) -> tuple[str, Event]:
    error = {"type": kind, "message": message}
    return "node_failed", {"node": node, "step": step, "attempt": attempt, "error": error}


def edge(source: str, target: str, condition: str | None = None) -> tuple[str, Event]:
    return "edge", {"from": source, "to": target, "condition": condition}


def log(node: str, message: str) -> tuple[str, Event]:
    return "log", {"node": node, "message": message}


def succeeded_run() -> list[Event]:
    """A loop (evaluate twice), a retry after a failure, logs, a conditional edge, success."""
    final = {"quality_score": 7.5, "note": "naïve ✓"}
    return make_events(
        "01jd3xk9qz",
        [
            (0, "run_started", {"workflow": "code_review", "inputs": {"path": "src/"}}),
            (1, *started("read", 1)),
            (5, *log("read", "reading src/app.py")),
            (13, *finished("read", 1, 12, code="def f(): pass")),
            (13, *edge("read", "evaluate")),
            (14, *started("evaluate", 2)),
            (50, *finished("evaluate", 2, 35.6, quality_score=5.5)),
            (50, *edge("evaluate", "improve")),
            (51, *started("improve", 3)),
            (300, *failed("improve", 3, 1, "ConnectionError", "connection reset")),
            (800, *started("improve", 3, attempt=2)),
            (900, *log("improve", "2 suggestions\nsee the diff")),
            (2320, *finished("improve", 3, 1520, code="def f() -> None: pass")),
            (2320, *edge("improve", "evaluate")),
            (2321, *started("evaluate", 4)),
            (2349, *finished("evaluate", 4, 28, quality_score=7.5)),
            (2349, *edge("evaluate", "end", "quality_score >= threshold")),
            (2350, "run_finished", {"status": "succeeded", "duration_ms": 2350, "state": final}),
        ],
    )


def failed_run() -> list[Event]:
    error = {"node": "evaluate", "type": "ValueError", "message": "boom"}
    return make_events(
        "01jd3xm0ab",
        [
            (0, "run_started", {"workflow": "code_review", "inputs": {}}),
            (1, *started("read", 1)),
            (9, *finished("read", 1, 8)),
            (9, *edge("read", "evaluate")),
            (10, *started("evaluate", 2)),
            (62_500, *failed("evaluate", 2, 1, "ValueError", "boom")),
            (
                62_501,
                "run_finished",
                {"status": "failed", "duration_ms": 62_501, "state": {}, "error": error},
            ),
        ],
    )


def waiting_run() -> list[Event]:
    """A failure routed by on_error, then an interrupt that waits for a person."""
    question = {
        "node": "report",
        "message": "Apply the fixes?",
        "expects": {"approved": "bool", "comment": "str"},
    }
    return make_events(
        "01jd3xn7cd",
        [
            (0, "run_started", {"workflow": "code_review", "inputs": {}}),
            (1, *started("improve", 1)),
            (40, *failed("improve", 1, 1, "TimeoutError", "")),
            (40, *edge("improve", "report", "on_error")),
            (41, *started("report", 2)),
            (45, "run_waiting", question),
            (46, "run_finished", {"status": "waiting", "duration_ms": 46, "state": {}}),
        ],
    )


RUNS = {"succeeded": succeeded_run, "failed": failed_run, "waiting": waiting_run}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_plain_golden(name: str) -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out)
    with renderer:
        for event in RUNS[name]():
            renderer(event)
    check_golden(f"plain_{name}.txt", out.getvalue())


@pytest.mark.parametrize("name", sorted(RUNS))
def test_jsonl_golden(name: str) -> None:
    out = io.StringIO()
    renderer = JsonLinesRenderer(out)
    events = RUNS[name]()
    for event in events:
        renderer(event)
    check_golden(f"jsonl_{name}.txt", out.getvalue())
    assert [json.loads(line) for line in out.getvalue().splitlines()] == events


def test_jsonl_flushes_every_event() -> None:
    class CountingIO(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out = CountingIO()
    renderer = JsonLinesRenderer(out)
    for event in failed_run():
        renderer(event)
    assert out.flushes == len(failed_run())


def test_jsonl_rejects_non_json_values() -> None:
    event = {"event": "log", "run_id": "r", "ts": "x", "seq": 1, "message": object()}
    with pytest.raises(TypeError, match="object is not JSON"):
        JsonLinesRenderer(io.StringIO())(event)


def test_plain_ignores_unknown_events() -> None:
    out = io.StringIO()
    PlainRenderer(out)({"event": "from_the_future", "run_id": "r", "ts": "x", "seq": 1})
    assert out.getvalue() == ""


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pinned_console(width: int = 80) -> Console:
    return Console(
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        width=width,
        legacy_windows=False,
        _environ={},
    )


def render_frame(renderer: LiveRenderer) -> str:
    console = pinned_console(renderer._console.width)
    console.print(renderer.renderable())
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def golden_frame(renderer: LiveRenderer) -> str:
    # Rich pads table rows to their width; trailing blanks would not survive editors' cleanup.
    return "".join(line.rstrip() + "\n" for line in render_frame(renderer).splitlines())


def feed_until(
    renderer: LiveRenderer, clock: FakeClock, events: list[Event], kind: str, count: int = 1
) -> None:
    """Feed events in order, the clock following their offsets, until the count-th `kind`."""
    for event in events:
        moment = datetime.fromisoformat(event["ts"])
        clock.now = 1000.0 + (moment - START).total_seconds()
        renderer(event)
        if event["event"] == kind:
            count -= 1
            if count == 0:
                return


def test_live_frame_while_retrying() -> None:
    clock = FakeClock()
    renderer = LiveRenderer(NODES, "code_review", pinned_console(), get_time=clock)
    feed_until(renderer, clock, succeeded_run(), "log", count=2)
    clock.now += 1.5
    check_golden("live_retrying.txt", golden_frame(renderer))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_live_final_frame(name: str) -> None:
    clock = FakeClock()
    renderer = LiveRenderer(NODES, "code_review", pinned_console(), get_time=clock)
    feed_until(renderer, clock, RUNS[name](), "run_finished")
    clock.now += 100  # the elapsed time is frozen at the run's duration once it ends
    check_golden(f"live_{name}.txt", golden_frame(renderer))


def test_live_before_any_event_lists_pending_nodes() -> None:
    renderer = LiveRenderer(NODES, "code_review", pinned_console(), get_time=FakeClock())
    frame = render_frame(renderer)
    assert frame.splitlines()[0] == "code_review · step 0 · 0:00 · starting"
    assert frame.count("·") == 3 + len(NODES)


def test_live_handling_an_event_does_not_render() -> None:
    console = pinned_console()
    renderer = LiveRenderer(NODES, "code_review", console, get_time=FakeClock())
    calls = 0
    original = renderer.renderable

    def counting() -> Any:
        nonlocal calls
        calls += 1
        return original()

    renderer.renderable = counting  # type: ignore[method-assign]
    for event in succeeded_run():
        renderer(event)
    assert calls == 0
    assert isinstance(console.file, io.StringIO)
    assert console.file.getvalue() == ""


def test_live_start_stop_leaves_the_final_frame_on_screen() -> None:
    console = pinned_console()
    clock = FakeClock()
    renderer = LiveRenderer(NODES, "code_review", console, refresh_per_second=50, get_time=clock)
    with renderer:
        feed_until(renderer, clock, succeeded_run(), "run_finished")
    assert isinstance(console.file, io.StringIO)
    show_cursor = "\x1b[?25h"
    assert console.file.getvalue().endswith(render_frame(renderer) + show_cursor)
    assert "· succeeded\n" in render_frame(renderer)


def test_live_model_under_concurrent_emit_and_render() -> None:
    renderer = LiveRenderer(NODES, "code_review", pinned_console(), get_time=FakeClock())
    errors: list[BaseException] = []
    rounds = 300

    def emit() -> None:
        try:
            for i in range(rounds):
                node = NODES[i % len(NODES)]
                renderer({"event": "node_started", "node": node, "step": i + 1, "attempt": 1})
                renderer({"event": "log", "node": node, "message": f"line {i}"})
                renderer(
                    {
                        "event": "node_finished",
                        "node": node,
                        "step": i + 1,
                        "duration_ms": i,
                        "updates": {},
                    }
                )
                renderer(
                    {"event": "node_started", "node": f"extra{i % 7}", "step": i + 1, "attempt": 1}
                )
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    emitter = threading.Thread(target=emit)
    emitter.start()
    frames = 0
    while emitter.is_alive() or frames == 0:
        render_frame(renderer)
        frames += 1
    emitter.join()
    assert errors == []
    assert f"· step {rounds} ·" in render_frame(renderer)
    renderer.print_logs()
    assert isinstance(renderer._console.file, io.StringIO)
    assert f"line {rounds - 1}" in renderer._console.file.getvalue()


def test_make_renderer_modes() -> None:
    out = io.StringIO()
    assert isinstance(make_renderer("plain", stream=out), PlainRenderer)
    assert isinstance(make_renderer("json", stream=out), JsonLinesRenderer)
    assert isinstance(make_renderer("quiet"), NullRenderer)
    live = make_renderer("live", nodes=NODES, workflow="w", console=pinned_console())
    assert isinstance(live, LiveRenderer)


@pytest.mark.parametrize("mode", ["plain", "json", "quiet", "live"])
def test_every_renderer_gives_the_terminal_back_and_takes_it_again(mode: Any) -> None:
    """A prompt at an interrupt node pauses whichever renderer runs, then resumes it."""
    renderer = make_renderer(mode, stream=io.StringIO(), console=pinned_console())
    with renderer:
        renderer.prompt_begins("ask")
        renderer.prompt_ends("ask")


def test_importing_render_does_not_load_rich() -> None:
    code = (
        "import sys, wfe.render, wfe.render.plain, wfe.render.jsonl\n"
        "print(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def big_map_run(items: int = 1000, failing: int = 500) -> list[Event]:
    """A map node `each` over `items` items (one fails), two at a time, then a subgraph `call`."""
    steps: list[tuple[int, str, dict[str, Any]]] = [
        (0, "run_started", {"workflow": "fanout", "inputs": {}}),
        (1, *started("each", 1)),
    ]
    for index in range(items):
        label = f"each[{index}]"
        steps.append((2 + index, *started(label, 1)))
        steps.append((2 + index, *started(f"{label}/double", 1)))
        steps.append((2 + index, *finished(f"{label}/double", 1, 1)))
        if index == failing:
            steps.append((3 + index, *failed(label, 1, 1, "ValueError", f"bad item {index}")))
        else:
            steps.append((3 + index, *finished(label, 1, 1)))
    end = 10 + items
    steps += [
        (end, *finished("each", 1, end)),
        (end, *edge("each", "call")),
        (end + 1, *started("call", 2)),
        (end + 1, *started("call/double", 2)),
        (end + 2, *finished("call/double", 2, 1)),
        (end + 3, *finished("call", 2, 2)),
        (end + 4, "run_finished", {"status": "succeeded", "duration_ms": end + 4, "state": {}}),
    ]
    return make_events("01jd3xq0fan", steps)


def test_plain_big_map_is_bounded_and_summarised() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out)
    for event in big_map_run():
        renderer(event)
    check_golden("plain_big_map.txt", out.getvalue())
    lines = out.getvalue().splitlines()
    assert len(lines) == 50  # 10 items of 4 lines, 10 more; not 4,000
    assert any("each[500] failed (attempt 1): ValueError: bad item 500" in line for line in lines)
    assert not any("each[10]" in line for line in lines)
    assert lines[-6].endswith("  each: 999 items done, 1 failed")


def test_plain_map_counts_items_per_visit() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out)
    events = big_map_run(items=3, failing=-1)
    for event in events + events[1:]:  # a second run on the same renderer starts afresh
        renderer(event)
    assert out.getvalue().count("  each: 3 items done\n") == 2


def test_live_big_map_draws_one_row_with_counts() -> None:
    clock = FakeClock()
    renderer = LiveRenderer(["each", "call"], "fanout", pinned_console(), get_time=clock)
    events = big_map_run()
    feed_until(renderer, clock, events, "node_finished", count=2 * 400 - 1)
    check_golden("live_big_map_running.txt", golden_frame(renderer))
    frame = render_frame(renderer)
    assert "each[" not in frame
    assert "items: 399 done · 1 running" in frame
    renderer = LiveRenderer(["each", "call"], "fanout", pinned_console(), get_time=clock)
    feed_until(renderer, clock, events, "run_finished")
    clock.now += 100
    frame = golden_frame(renderer)
    check_golden("live_big_map.txt", frame)
    assert len(frame.splitlines()) == 5  # header, column titles, each, call, call/double
    assert "items: 999 done · 1 failed" in frame
    assert "  └ double" in frame


def test_live_child_rows_sit_under_their_parent() -> None:
    renderer = LiveRenderer(["fan", "after"], "w", pinned_console(), get_time=FakeClock())
    for node in ("fan", "fan/a", "fan/b", "after", "fan/c"):
        renderer({"event": "node_started", "node": node, "step": 1, "attempt": 1})
    rows = [line.split()[1:3] for line in render_frame(renderer).splitlines()[2:]]
    assert rows == [["fan", "1"], ["└", "a"], ["└", "b"], ["└", "c"], ["after", "1"]]


LONG_NODES = ["fetch_pull_request", "evaluate_quality", "post_review_comment"]
LONG_ERROR = (
    "ConnectionError: HTTPSConnectionPool(host='api.github.com', port=443): Max retries exceeded "
    "with url: /repos/acme/widgets/pulls/42/comments (Caused by NewConnectionError: Failed to "
    "establish a new connection: [Errno 111] Connection refused)"
)


def long_error_run() -> list[Event]:
    """A node fails with a long error, is retried, fails again and ends the run."""
    kind, message = LONG_ERROR.split(": ", 1)
    error = {"node": "post_review_comment", "type": kind, "message": message}
    return make_events(
        "01jd3xr5lng",
        [
            (0, "run_started", {"workflow": "pull_request_review", "inputs": {}}),
            (1, *started("fetch_pull_request", 1)),
            (120, *finished("fetch_pull_request", 1, 119)),
            (121, *started("evaluate_quality", 2)),
            (900, *finished("evaluate_quality", 2, 779)),
            (901, *started("post_review_comment", 3)),
            (1400, *failed("post_review_comment", 3, 1, kind, message)),
            (2400, *started("post_review_comment", 3, attempt=2)),
            (2900, *failed("post_review_comment", 3, 2, kind, message)),
            (2901, "run_finished", {"status": "failed", "duration_ms": 2901, "error": error}),
        ],
    )


@pytest.mark.parametrize("width", [120, 80, 40])
@pytest.mark.parametrize(("moment", "count"), [("node_started", 4), ("run_finished", 1)])
def test_live_long_error_keeps_the_rows(width: int, moment: str, count: int) -> None:
    """A long error goes on its own line under its row, cut to the width; the rows keep
    their names, visits and durations (at 120 columns they used to collapse to `n… v… l…`)."""
    clock = FakeClock()
    renderer = LiveRenderer(LONG_NODES, "pull_request_review", pinned_console(width),
                            get_time=clock)
    feed_until(renderer, clock, long_error_run(), moment, count)
    frame = golden_frame(renderer)
    state = "retrying" if moment == "node_started" else "failed"
    check_golden(f"live_long_error_{state}_{width}.txt", frame)
    lines = frame.splitlines()
    assert all(len(line) <= width for line in lines)
    assert ("· running" if state == "retrying" else "· failed") in lines[0]
    assert [line.split()[1:5] for line in lines[2:4]] == [
        ["fetch_pull_request", "1", "119", "ms"], ["evaluate_quality", "1", "779", "ms"]]
    assert lines[4].split()[1:3] == ["post_review_comment", "1"]
    assert lines[5].lstrip().startswith("after ConnectionError" if state == "retrying"
                                        else "ConnectionError")
    assert lines[5].endswith("…")


def screen(output: str) -> str:
    """What a terminal shows after `output`: replays the few controls Rich's Live writes
    (carriage return, erase line, cursor up, cursor shown or hidden)."""
    lines, row = [""], 0
    for token in re.findall(r"\x1b\[\?25[lh]|\x1b\[2K|\x1b\[1A|\r|\n|[^\x1b\r\n]+", output):
        if token == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
        elif token == "\x1b[1A":
            row -= 1
        elif token == "\x1b[2K":
            lines[row] = ""
        elif token not in ("\r", "\x1b[?25l", "\x1b[?25h"):
            lines[row] += token  # Live always writes a line whole, after erasing it
    return "".join(line.rstrip() + "\n" for line in lines).rstrip("\n") + "\n"


def summary_table() -> Table:
    table = Table("File", "Score", title="Code review", title_justify="left")
    table.add_row("src/wfe/engine.py", "6.50")
    table.add_row("src/wfe/render/live.py", "9.25")
    return table


def test_live_tool_output_goes_above_and_the_final_frame_is_the_finished_state() -> None:
    """Log lines and what a tool prints on `wfe.console()` stay above the live area, in order,
    and the last frame under them is the finished run (not a stale `running` one)."""
    console = pinned_console()
    clock = FakeClock()
    renderer = LiveRenderer(NODES, "code_review", console, refresh_per_second=50, get_time=clock)
    events = succeeded_run()
    with renderer:
        feed_until(renderer, clock, events, "log", count=2)
        tool_console = wfe.console()
        assert tool_console is console
        tool_console.print(summary_table())
        feed_until(renderer, clock, events[events.index(_next_log(events)) + 1:], "run_finished")
    assert wfe.console() is None
    assert isinstance(console.file, io.StringIO)
    shown = screen(console.file.getvalue())
    check_golden("live_tool_output.txt", shown)
    assert shown.endswith(golden_frame(renderer))
    assert "running" not in shown
    assert shown.index("improve: see the diff") < shown.index("Code review")


def _next_log(events: list[Event]) -> Event:
    return [event for event in events if event["event"] == "log"][1]


def test_live_prints_what_a_tool_prints_above_the_view(write_workflow: Any) -> None:
    path = write_workflow(
        """
        imports: [TOOLS]
        state: {n: {type: int, default: 0}}
        nodes:
          shout: {tool: shout}
        """,
        """
        import sys
        import wfe

        @tool
        def shout(n: int) -> dict:
            print("printed by the tool")
            sys.stderr.write("and on stderr\\n")
            wfe.console().print("[bold]a rich line[/bold]")
            return {"n": n + 1}
        """,
    )
    workflow = wfe.Workflow.load(path, entry_points=False)
    console = pinned_console()
    renderer = LiveRenderer(["shout"], workflow.name, console, get_time=FakeClock())
    with renderer:
        workflow.run(listeners=[renderer])
    assert isinstance(console.file, io.StringIO)
    shown = screen(console.file.getvalue()).splitlines()
    assert shown[:3] == ["shout: printed by the tool", "shout: and on stderr", "a rich line"]
    assert shown[3].endswith("succeeded")


def test_live_shows_waiting_while_the_inline_prompt_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The frame left above the prompt says `waiting` and marks the node, not `running`/`·`."""
    from wfe.cli import prompt, run_command

    console = pinned_console()
    renderer = LiveRenderer(["approve", "ship"], "release", console, get_time=FakeClock())
    frames: list[str] = []

    def fake_prompt(node: str, message: str, expects: dict[str, str]) -> dict[str, Any]:
        frames.append(golden_frame(renderer))
        return {"approved": True}

    monkeypatch.setattr(prompt, "prompt_for", fake_prompt)
    renderer({"event": "run_started", "run_id": "01jd3xt1ask", "workflow": "release"})
    ask = run_command._terminal_asker(renderer)
    with renderer:
        assert ask("approve", "Ship it?", {"approved": "bool"}) == {"approved": True}
        after = golden_frame(renderer)
    check_golden("live_prompt_waiting.txt", frames[0])
    header, _, approve, _ = frames[0].splitlines()
    assert header.endswith("· waiting")
    assert approve.startswith("⏸  approve")
    assert after.splitlines()[0].endswith("· running")
    assert after.splitlines()[2].startswith("·  approve")


def test_live_log_backlog_is_bounded_between_redraws() -> None:
    """A tool printing in a tight loop between two redraws: the newest lines are printed, the
    oldest counted, and what is held stays bounded."""
    from wfe.render._model import LOG_BACKLOG

    console = pinned_console()
    renderer = LiveRenderer(NODES, "code_review", console, get_time=FakeClock())
    for n in range(LOG_BACKLOG + 500):
        renderer({"event": "log", "node": "read", "message": f"line {n}"})
    assert renderer.print_logs()
    assert isinstance(console.file, io.StringIO)
    printed = console.file.getvalue().splitlines()
    assert printed[0] == "(500 log lines left out here; `wfe logs` has them)"
    assert printed[1] == "read: line 500"
    assert len(printed) == 1 + LOG_BACKLOG
    assert not renderer.print_logs()
