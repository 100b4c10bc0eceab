"""`parallel:` and `map:` nodes: concurrency, joins, order, reducers, failures."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfe import NodeFailed, StateError
from wfe.errors import ExpressionError, SpecError

TOOLS = """
import asyncio, threading, time

barrier = threading.Barrier(3, timeout=5)
in_flight = [0, 0]  # now, most at once

@tool
def meet(name: str) -> dict:
    barrier.wait()   # fails unless all three branches run at the same time
    return {"seen": name}

@tool
async def pause(name: str, seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"seen": name}

@tool
def boom(name: str) -> dict:
    raise ValueError(f"{name} failed")

@tool
async def square(n: int, delay: float = 0.0) -> int:
    in_flight[0] += 1
    in_flight[1] = max(in_flight)
    await asyncio.sleep(delay)
    in_flight[0] -= 1
    if n < 0:
        raise ValueError(f"negative: {n}")
    return n * n

@tool
def peak() -> dict:
    return {"peak": in_flight[1]}
"""

STATE = """
state:
  seen: {type: "list[str]", reduce: append}
  error: any
  numbers: {type: "list[int]", default: [3, 1, 2]}
  squares: list[int]
  peak: int
"""


def parallel(branches: str, join: str = "all", extra: str = "") -> str:
    return (f"imports: [TOOLS]\n{STATE}nodes:\n  fan:\n    parallel:\n{branches}"
            f"    join: {join}\n{extra}")


def test_branches_run_at_the_same_time_even_when_their_tools_block(make_workflow):
    wf = make_workflow(parallel(
        "      a: {tool: meet, with: {name: a}}\n"
        "      b: {tool: meet, with: {name: b}}\n"
        "      c: {tool: meet, with: {name: c}}\n"), TOOLS)
    result = wf.run()
    assert result.ok, result.error
    assert result.state["seen"] == ["a", "b", "c"]


def test_updates_apply_in_declaration_order_whatever_finishes_first(make_workflow):
    wf = make_workflow(parallel(
        "      slow: {tool: pause, with: {name: slow, seconds: 0.05}}\n"
        "      fast: {tool: pause, with: {name: fast, seconds: 0}}\n"), TOOLS)
    assert wf.run().state["seen"] == ["slow", "fast"]


def test_join_any_takes_the_first_and_cancels_the_rest(make_workflow):
    wf = make_workflow(parallel(
        "      slow: {tool: pause, with: {name: slow, seconds: 30}}\n"
        "      fast: {tool: pause, with: {name: fast, seconds: 0}}\n", "any"), TOOLS)
    result = wf.run()
    assert result.ok and result.state["seen"] == ["fast"]


def test_join_at_least_tolerates_failures_it_can_afford(make_workflow):
    wf = make_workflow(parallel(
        "      a: {tool: pause, with: {name: a, seconds: 0}}\n"
        "      b: {tool: boom, with: {name: b}}\n"
        "      c: {tool: pause, with: {name: c, seconds: 0.01}}\n", "{at_least: 2}"), TOOLS)
    result = wf.run()
    assert result.ok and result.state["seen"] == ["a", "c"]


def test_a_needed_branch_failing_fails_the_node_or_routes_it(make_workflow):
    branches = ("      a: {tool: pause, with: {name: a, seconds: 30}}\n"
                "      b: {tool: boom, with: {name: b}}\n")
    failed = make_workflow(parallel(branches), TOOLS).run()
    assert isinstance(failed.error, NodeFailed) and failed.error.node == "fan"
    assert "b failed" in str(failed.error)
    routed = make_workflow(parallel(branches, extra="    on_error: end\n"), TOOLS).run()
    assert routed.ok and routed.state["error"]["message"] == "b failed"


def test_two_branches_replacing_one_key_is_an_error_naming_both(make_workflow):
    wf = make_workflow(parallel(
        "      a: {tool: peak}\n"
        "      b: {tool: peak}\n"), TOOLS)
    error = wf.run().error
    assert isinstance(error, StateError) and error.key == "peak"
    assert "'fan/a' and 'fan/b'" in str(error)


def test_two_branches_with_the_same_out_key_are_rejected_at_load(make_workflow):
    with pytest.raises(SpecError, match="branches 'a' and 'b' both write state key 'squares'"):
        make_workflow(parallel(
            "      a: {tool: square, with: {n: 1}, out: squares}\n"
            "      b: {tool: square, with: {n: 2}, out: squares}\n"), TOOLS)


def test_branch_events_carry_the_branch_path(make_workflow):
    wf = make_workflow(parallel("      a: {tool: pause, with: {name: a, seconds: 0}}\n"), TOOLS)
    events: list[dict] = []
    wf.run(listeners=[events.append])
    started = [e["node"] for e in events if e["event"] == "node_started"]
    assert started == ["fan", "fan/a"]
    finished = [e["node"] for e in events if e["event"] == "node_finished"]
    assert finished == ["fan/a", "fan"]


MAP = """imports: [TOOLS]
{state}nodes:
  each:
    map: numbers
    as: n
    tool: square
    with: {{delay: "${{ 0.01 * (3 - n) if n < 3 else 0 }}"}}
    concurrency: {concurrency}
    collect: squares
    next: check
  check: {{tool: peak}}
"""


def test_map_collects_results_in_input_order(make_workflow):
    result = make_workflow(MAP.format(state=STATE, concurrency=3), TOOLS).run()
    assert result.ok, result.error
    assert result.state["squares"] == [9, 1, 4]


@pytest.mark.parametrize("concurrency", [1, 2])
def test_map_never_runs_more_items_than_its_concurrency(make_workflow, concurrency):
    state = STATE.replace("default: [3, 1, 2]", "default: [5, 4, 3, 2, 1, 0]")
    result = make_workflow(MAP.format(state=state, concurrency=concurrency), TOOLS).run()
    assert result.ok and result.state["peak"] <= concurrency


def test_a_failing_item_fails_the_map_node(make_workflow):
    state = STATE.replace("default: [3, 1, 2]", "default: [1, -2, 3]")
    result = make_workflow(MAP.format(state=state, concurrency=2), TOOLS).run()
    assert isinstance(result.error, NodeFailed) and result.error.node == "each"
    assert "negative: -2" in str(result.error)


def test_map_over_something_that_is_not_a_list_fails_clearly(make_workflow):
    wf = make_workflow(MAP.format(state=STATE, concurrency=2).replace("map: numbers",
                                                                       "map: peak"), TOOLS)
    result = wf.run({"peak": 3})
    assert isinstance(result.error, ExpressionError)
    assert "must give a list, got int" in str(result.error)


def test_map_of_an_empty_list_collects_an_empty_list(make_workflow):
    result = make_workflow(MAP.format(state=STATE, concurrency=2), TOOLS).run({"numbers": []})
    assert result.ok and result.state["squares"] == []


def test_map_collect_must_be_a_list_key(make_workflow):
    with pytest.raises(SpecError, match="collect: state key 'peak' must be a list"):
        make_workflow(MAP.format(state=STATE, concurrency=2).replace("collect: squares",
                                                                     "collect: peak"), TOOLS)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0, 0.003)), max_size=12),
       st.integers(1, 5))
def test_map_results_always_come_back_in_input_order(pairs, concurrency):
    from wfe.engine.loop import Engine
    from wfe.executors import LocalExecutor
    from wfe.graph.compiler import compile_graph
    from wfe.graph.load import load_spec_bytes
    from wfe.tools.registry import Registry, tool

    @tool
    async def echo(pair: list) -> int:
        await asyncio.sleep(pair[1])
        return int(pair[0])

    yaml = (f"state:\n  pairs: list\n  out: list[int]\nnodes:\n  m:\n    map: pairs\n"
            f"    as: pair\n    tool: echo\n    concurrency: {concurrency}\n    collect: out\n")
    registry = Registry()
    registry.register(echo)
    graph = compile_graph(load_spec_bytes(yaml.encode(), "m.yaml"), registry)
    data = [[n, delay] for n, delay in pairs]
    state = graph.schema.initial({"pairs": json.loads(json.dumps(data))})
    result = asyncio.run(Engine(graph, executor=LocalExecutor(), run_id="r").run(state))
    assert result.ok and result.state["out"] == [n for n, _ in pairs]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 0.003), min_size=1, max_size=8))
def test_reducers_apply_once_per_write_in_declaration_order(delays):
    from wfe.engine.loop import Engine
    from wfe.executors import LocalExecutor
    from wfe.graph.compiler import compile_graph
    from wfe.graph.load import load_spec_bytes
    from wfe.tools.registry import Registry, tool

    @tool
    async def note(name: str, delay: float) -> dict:
        await asyncio.sleep(delay)
        return {"log": name, "total": 1}

    branches = "".join(f"      b{i}: {{tool: note, with: {{name: b{i}, delay: {d}}}}}\n"
                       for i, d in enumerate(delays))
    yaml = ('state:\n  log: {type: "list[str]", reduce: append}\n'
            "  total: {type: int, reduce: add}\n"
            f"nodes:\n  fan:\n    parallel:\n{branches}")
    registry = Registry()
    registry.register(note)
    graph = compile_graph(load_spec_bytes(yaml.encode(), "p.yaml"), registry)
    engine = Engine(graph, executor=LocalExecutor(), run_id="r")
    result = asyncio.run(engine.run(graph.schema.initial({})))
    assert result.ok
    assert result.state["log"] == [f"b{i}" for i in range(len(delays))]
    assert result.state["total"] == len(delays)


def test_a_parallel_node_s_retry_applies_to_each_branch_that_sets_none(make_workflow):
    flaky = TOOLS + """
tries = {}

@tool
def flaky(name: str) -> dict:
    tries[name] = tries.get(name, 0) + 1
    if tries[name] < 2:
        raise ConnectionError(f"{name}: try again")
    return {"seen": name}
"""
    wf = make_workflow(parallel(
        "      a: {tool: flaky, with: {name: a}}\n"
        "      b: {tool: flaky, with: {name: b}, retry: {attempts: 1}}\n",
        extra="    retry: {attempts: 2, delay: 0}\n    on_error: end\n"), flaky)
    result = wf.run()
    assert result.state["error"]["message"].startswith("b: try again")
    wf = make_workflow(parallel("      a: {tool: flaky, with: {name: a}}\n",
                                extra="    retry: {attempts: 2, delay: 0}\n"), flaky)
    assert wf.run().ok
