"""The engine's rules, one test per rule, through the Python API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from wfe import (
    ExpressionError,
    LoopLimitExceeded,
    NodeFailed,
    RunError,
    RunTimeout,
    StateError,
    StepLimitExceeded,
)
from wfe.engine.loop import Engine
from wfe.errors import InputError, SpecError
from wfe.executors import LocalExecutor

LOOP = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 3}
nodes:
  inc:
    tool: inc
    next: check
  check:
    tool: noop
    next:
      - when: i < n
        then: inc
      - then: end
"""

TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}

@tool
def noop() -> None:
    return None
"""


def events_of(workflow: Any, inputs: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    workflow.run(inputs or {}, listeners=[events.append])
    return events


def test_loop_runs_until_condition_fails(make_workflow):
    result = make_workflow(LOOP, TOOLS).run({"n": 4})
    assert result.status == "succeeded"
    assert result.state["i"] == 4
    assert result.visits == {"inc": 4, "check": 4}
    assert result.steps == 8


def test_first_true_condition_wins(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {x: {type: int, default: 5}, path: {type: str, default: ""}}
        nodes:
          start:
            tool: noop
            next:
              - {when: x > 1, then: a}
              - {when: x > 2, then: b}
              - then: c
          a: {tool: mark, with: {name: a}}
          b: {tool: mark, with: {name: b}}
          c: {tool: mark, with: {name: c}}
    """, TOOLS + "\n@tool\ndef mark(name: str) -> dict:\n    return {'path': name}\n")
    assert wf.run().state["path"] == "a"
    assert wf.run({"x": 0}).state["path"] == "c"


def test_no_branch_holding_and_no_default_ends_the_run(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {i: {type: int, default: 0}}
        nodes:
          a:
            tool: noop
            next: [{when: i > 0, then: b}]
          b: {tool: inc}
    """, TOOLS)
    result = wf.run()
    assert result.ok and result.visits == {"a": 1}


def test_node_without_next_ends_the_run(make_workflow):
    result = make_workflow(LOOP.replace("    next: check\n", ""), TOOLS).run()
    assert result.ok and result.visits == {"inc": 1}


def test_max_visits_exceeded_fails_naming_the_node(make_workflow):
    wf = make_workflow(LOOP.replace("tool: inc\n", "tool: inc\n    max_visits: 2\n"), TOOLS)
    result = wf.run({"n": 5})
    assert result.status == "failed"
    assert isinstance(result.error, LoopLimitExceeded)
    assert result.error.node == "inc"
    assert result.state["i"] == 2


def test_on_exhausted_routes_instead_of_failing(make_workflow):
    yaml = LOOP.replace("tool: inc\n", "tool: inc\n    max_visits: 2\n    on_exhausted: done\n")
    yaml += "  done: {tool: noop}\n"
    result = make_workflow(yaml, TOOLS).run({"n": 5})
    assert result.ok
    assert result.visits == {"inc": 2, "check": 2, "done": 1}


def test_max_steps_stops_an_endless_loop(make_workflow):
    yaml = LOOP.replace("state:", "limits: {max_steps: 7}\nstate:")
    result = make_workflow(yaml, TOOLS).run({"n": 1000})
    assert isinstance(result.error, StepLimitExceeded)
    assert result.steps == 7


def test_run_timeout_fails_the_run(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        limits: {timeout: 0.05}
        nodes:
          wait: {tool: wait}
    """, "import asyncio\n@tool\nasync def wait() -> None:\n    await asyncio.sleep(5)\n")
    result = wf.run()
    assert isinstance(result.error, RunTimeout)


FLAKY = """
import itertools
calls = itertools.count(1)

@tool
def flaky(fail_times: int, kind: str = "ValueError") -> dict:
    n = next(calls)
    if n <= fail_times:
        raise {"ValueError": ValueError, "KeyError": KeyError}[kind](f"fail {n}")
    return {"calls": n}
"""


def flaky_workflow(make_workflow, retry: str, fail_times: int, kind: str = "ValueError"):
    return make_workflow(f"""
        imports: [TOOLS]
        state: {{calls: int, error: any}}
        nodes:
          f:
            tool: flaky
            with: {{fail_times: {fail_times}, kind: {kind}}}
            retry: {retry}
    """, FLAKY)


def test_retry_runs_until_success(make_workflow):
    result = flaky_workflow(make_workflow, "{attempts: 3, delay: 0}", 2).run()
    assert result.ok and result.state["calls"] == 3


def test_retry_gives_up_after_attempts(make_workflow):
    result = flaky_workflow(make_workflow, "{attempts: 2, delay: 0}", 5).run()
    assert isinstance(result.error, NodeFailed)
    assert result.error.node == "f" and result.error.attempts == 2
    assert "ValueError: fail 2" in str(result.error)


def test_retry_on_retries_only_the_named_types(make_workflow):
    wf = flaky_workflow(make_workflow, "{attempts: 3, delay: 0, on: [KeyError]}", 1)
    result = wf.run()
    assert isinstance(result.error, NodeFailed) and result.error.attempts == 1


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ({"attempts": 4, "delay": 1, "backoff": 2, "max_delay": 60}, [1, 2, 4]),
        ({"attempts": 4, "delay": 1, "backoff": 3, "max_delay": 5}, [1, 3, 5]),
        ({"attempts": 3, "delay": 0.5, "backoff": 1, "max_delay": 60}, [0.5, 0.5]),
    ],
)
def test_retry_delays_back_off_exponentially_up_to_max_delay(make_workflow, retry, expected):
    text = "{" + ", ".join(f"{k}: {v}" for k, v in retry.items()) + "}"
    wf = flaky_workflow(make_workflow, text, 10)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    engine = Engine(wf.graph, executor=LocalExecutor(), run_id="r1", sleep=sleep)
    asyncio.run(engine.run(wf.initial_state()))
    assert slept == expected


def test_jitter_draws_each_delay_below_its_ceiling(make_workflow):
    wf = flaky_workflow(make_workflow, "{attempts: 4, delay: 2, backoff: 2, jitter: true}", 10)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    engine = Engine(wf.graph, run_id="r1", sleep=sleep,
                    executor=LocalExecutor(), random=lambda: 0.5)
    asyncio.run(engine.run(wf.initial_state()))
    assert slept == [1.0, 2.0, 4.0]


def test_async_tool_timeout_fails_the_attempt(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {error: any}
        nodes:
          wait: {tool: wait, timeout: 0.05, on_error: end}
    """, "import asyncio\n@tool\nasync def wait() -> None:\n    await asyncio.sleep(5)\n")
    result = wf.run()
    assert result.ok
    assert result.state["error"]["type"] == "TimeoutError"
    assert "timed out after 0.05 s" in result.state["error"]["message"]


def test_sync_tool_timeout_is_soft_but_the_run_moves_on(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        nodes:
          wait: {tool: wait, timeout: "50ms"}
    """, "import time\n@tool\ndef wait() -> None:\n    time.sleep(0.3)\n")
    result = wf.run()
    assert isinstance(result.error, NodeFailed)
    assert result.error.error_type == "TimeoutError"


def test_on_error_routes_a_failure_and_records_it(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {error: any, calls: int}
        nodes:
          f: {tool: flaky, with: {fail_times: 9}, on_error: handle}
          handle: {tool: noop}
    """, FLAKY + TOOLS)
    result = wf.run()
    assert result.ok
    assert result.state["error"] == {"node": "f", "type": "ValueError", "message": "fail 1"}
    assert result.visits == {"f": 1, "handle": 1}


def test_on_error_list_picks_the_route_by_error_type(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {error: any, calls: int, path: str}
        nodes:
          f:
            tool: flaky
            with: {fail_times: 9, kind: KeyError}
            on_error:
              - {errors: [ValueError], then: a}
              - {errors: [LookupError], then: b}
              - {then: c}
          a: {tool: mark, with: {name: a}}
          b: {tool: mark, with: {name: b}}
          c: {tool: mark, with: {name: c}}
    """, FLAKY + "\n@tool\ndef mark(name: str) -> dict:\n    return {'path': name}\n")
    assert wf.run().state["path"] == "b"


def test_tool_exception_without_on_error_fails_naming_the_node(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {calls: int}
        nodes:
          f: {tool: flaky, with: {fail_times: 9}}
    """, FLAKY)
    result = wf.run()
    assert result.status == "failed"
    assert str(result.error) == "node 'f': ValueError: fail 1"


def test_update_of_wrong_type_fails_naming_node_and_key(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {count: int}
        nodes:
          f: {tool: bad}
    """, "@tool\ndef bad() -> dict:\n    return {'count': 'three'}\n")
    result = wf.run()
    assert isinstance(result.error, StateError)
    assert result.error.node == "f" and result.error.key == "count"
    assert "state key 'count' must be int, got str 'three'" in str(result.error)


def test_update_of_undeclared_key_fails(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {count: int}
        nodes:
          f: {tool: bad}
    """, "@tool\ndef bad() -> dict:\n    return {'cuont': 1}\n")
    error = wf.run().error
    assert isinstance(error, StateError)
    assert "undeclared state key 'cuont' (did you mean 'count'?)" in str(error)


def test_non_json_update_fails(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {thing: any}
        nodes:
          f: {tool: bad}
    """, "@tool\ndef bad() -> dict:\n    return {'thing': {1, 2}}\n")
    error = wf.run().error
    assert isinstance(error, StateError) and error.key == "thing"


def test_non_dict_return_needs_out(make_workflow):
    tools = "@tool\ndef seven() -> int:\n    return 7\n"
    yaml = "imports: [TOOLS]\nstate: {n: int}\nnodes:\n  f: {tool: seven%s}\n"
    assert make_workflow(yaml % ", out: n", tools).run().state["n"] == 7
    error = make_workflow(yaml % "", tools).run().error
    assert isinstance(error, RunError) and "set `out:`" in str(error)


def test_state_parameter_changes_become_updates(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {a: {type: int, default: 1}, b: {type: int, default: 2}}
        nodes:
          f: {tool: double_a}
    """, "@tool\ndef double_a(state: dict) -> None:\n    state['a'] *= 2\n")
    assert wf.run().state == {"a": 2, "b": 2}


def test_with_constants_and_expressions_bind_before_state(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {n: {type: int, default: 2}, text: str, total: int}
        nodes:
          f:
            tool: show
            with: {n: 10, label: "n=${ n } of ${ step }", twice: "${ n * 2 }"}
    """, "@tool\ndef show(n: int, label: str, twice: int) -> dict:\n"
         "    return {'text': label, 'total': n + twice}\n")
    assert wf.run().state == {"n": 2, "text": "n=2 of 1", "total": 14}


def test_ctx_idempotency_key_is_stable_across_retries_and_differs_per_visit(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {keys: {type: list, reduce: append}, i: {type: int, default: 0}}
        nodes:
          f:
            tool: record
            retry: {attempts: 2, delay: 0}
            next: [{when: i < 2, then: f}]
    """, """
        seen = set()
        @tool
        def record(ctx, i: int) -> dict:
            if (ctx.node, i) not in seen:
                seen.add((ctx.node, i))
                raise RuntimeError("first attempt fails")
            return {"keys": [ctx.idempotency_key, ctx.attempt, ctx.step], "i": i + 1}
    """)
    result = wf.run(run_id="run1")
    assert result.state["keys"] == [["run1:f:1", 2, 1], ["run1:f:2", 2, 2]]


def test_log_calls_become_log_events(make_workflow):
    wf = make_workflow("imports: [TOOLS]\nnodes:\n  f: {tool: talk}\n",
                       "@tool\ndef talk() -> None:\n    log('hello')\n")
    logs = [e for e in events_of(wf) if e["event"] == "log"]
    assert [(e["node"], e["message"]) for e in logs] == [("f", "hello")]


def test_log_from_a_worker_thread_reaches_the_event_stream(make_workflow):
    wf = make_workflow("imports: [TOOLS]\nnodes:\n  f: {tool: talk, timeout: 5}\n",
                       "@tool\ndef talk(ctx) -> None:\n    ctx.log('from a thread')\n")
    assert any(e["event"] == "log" for e in events_of(wf))


def test_events_are_numbered_without_gaps_and_every_start_is_closed(make_workflow):
    events = events_of(flaky_workflow(make_workflow, "{attempts: 3, delay: 0}", 2))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("node_started") == kinds.count("node_failed") + kinds.count("node_finished")
    assert len({e["run_id"] for e in events}) == 1


def test_unset_state_key_in_a_condition_fails_naming_the_node(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {score: float}
        nodes:
          f:
            tool: noop
            next: [{when: score > 1, then: end}]
    """, TOOLS)
    error = wf.run().error
    assert isinstance(error, ExpressionError) and error.node == "f"
    assert "score" in str(error)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"nn": 1}, "unknown input 'nn' (did you mean 'n'?)"),
        ({"n": "many"}, "state key 'n' must be int"),
        ({"n": True}, "state key 'n' must be int"),
    ],
)
def test_bad_inputs_are_rejected_before_the_run(make_workflow, inputs, message):
    with pytest.raises(InputError, match=re.escape(message)):
        make_workflow(LOOP, TOOLS).run(inputs)


def test_required_input_missing_is_rejected(make_workflow):
    wf = make_workflow(LOOP.replace("n: {type: int, default: 3}", "n: {type: int, required: true}"),
                       TOOLS)
    with pytest.raises(InputError, match="missing required input 'n'"):
        wf.run()


def test_env_default_and_secret_masking(make_workflow, monkeypatch):
    monkeypatch.setenv("WFE_TEST_TOKEN", "s3cr3t-value")
    wf = make_workflow("""
        imports: [TOOLS]
        state:
          token: {type: str, env: WFE_TEST_TOKEN, secret: true}
          length: int
        nodes:
          f: {tool: measure}
    """, "@tool\ndef measure(token: str) -> dict:\n"
         "    return {'length': len(token), 'token': token}\n")
    events = events_of(wf)
    assert "s3cr3t-value" not in repr(events)
    assert events[-1]["state"] == {"token": "***", "length": 12}


@pytest.mark.parametrize(
    ("reduce", "type_", "writes", "expected"),
    [
        ("append", "list[int]", [1, 2], [1, 2]),
        ("extend", "list[int]", [[1], [2, 3]], [1, 2, 3]),
        ("merge", "dict[str, int]", [{"a": 1}, {"b": 2, "a": 3}], {"a": 3, "b": 2}),
        ("add", "int", [2, 5], 7),
        ("replace", "int", [2, 5], 5),
    ],
)
def test_reducers_combine_every_write(make_workflow, reduce, type_, writes, expected):
    wf = make_workflow(f"""
        imports: [TOOLS]
        state:
          acc: {{type: "{type_}", reduce: {reduce}}}
          writes: {{type: list, default: {writes}}}
          i: {{type: int, default: 0}}
        nodes:
          w:
            tool: write
            next: [{{when: i < len(writes), then: w}}]
    """, "@tool\ndef write(writes: list, i: int) -> dict:\n"
         "    return {'acc': writes[i], 'i': i + 1}\n")
    assert wf.run().state["acc"] == expected


def test_custom_reducer_by_tool_name(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state:
          best: {type: int, reduce: keep_max}
          i: {type: int, default: 0}
        nodes:
          w:
            tool: write
            next: [{when: i < 3, then: w}]
    """, "@tool\ndef keep_max(current: int, new: int) -> int:\n    return max(current, new)\n"
         "@tool\ndef write(i: int) -> dict:\n    return {'best': [5, 9, 2][i], 'i': i + 1}\n")
    assert wf.run().state["best"] == 9


def test_stream_yields_the_events_as_they_happen(make_workflow):
    events = list(make_workflow(LOOP, TOOLS).stream({"n": 1}))
    assert events[0]["event"] == "run_started"
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "succeeded"


def test_arun_works_inside_a_running_loop(make_workflow):
    wf = make_workflow(LOOP, TOOLS)
    result = asyncio.run(wf.arun({"n": 2}))
    assert result.ok and result.state["i"] == 2


def test_a_circle_of_exhausted_nodes_fails_instead_of_spinning(make_workflow):
    wf = make_workflow("""
        imports: [TOOLS]
        state: {i: {type: int, default: 0}}
        nodes:
          a:
            tool: inc
            max_visits: 1
            on_exhausted: b
            next: [{when: i > 100, then: end}, {then: b}]
          b: {tool: inc, max_visits: 1, on_exhausted: a, next: a}
    """, TOOLS)
    result = wf.run()
    assert isinstance(result.error, LoopLimitExceeded)
    assert "circle of exhausted nodes" in str(result.error)
    assert result.steps == 2


def test_a_loop_with_no_way_to_end_is_refused_before_running(make_workflow):
    with pytest.raises(SpecError, match="no path from 'a' reaches end"):
        make_workflow("""
            imports: [TOOLS]
            state: {i: {type: int, default: 0}}
            nodes:
              a: {tool: inc, next: b}
              b: {tool: inc, next: a}
        """, TOOLS)
