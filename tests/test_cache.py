"""Result caching (`cache:` nodes): one test per rule; tools count their calls in a file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app
from wfe.engine.cache import Lookup, StoreCache, cache_key
from wfe.graph.model import GraphNode
from wfe.store import Store
from wfe.tools.registry import ToolDef

runner = CliRunner()

FLOW = """
imports: [TOOLS]
state:
  n: {type: int, default: 3}
  calls: {type: str}
  square: {type: int}
nodes:
  compute:
    tool: square
    CACHE
"""
TOOLS = """
def count(calls):
    with open(calls, "a") as stream:
        stream.write("call\\n")

@tool(version="1")
def square(n: int, calls: str) -> dict:
    count(calls)
    return {"square": n * n}
"""


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    return tmp_path / "calls.txt"


@pytest.fixture
def flow(write_workflow: Callable[..., Path]) -> Callable[..., Path]:
    """A workflow file: FLOW with `cache` (a YAML value, or None for no `cache:` key)."""

    def make(cache: str | None = "true", tools: str = TOOLS, yaml: str = FLOW) -> Path:
        line = f"cache: {cache}" if cache is not None else ""
        return write_workflow(yaml.replace("CACHE", line), tools)

    return make


def times_called(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def run(path: Path, calls: Path, *args: str) -> Any:
    result = runner.invoke(app, ["run", str(path), "-i", f"calls={calls}", *args])
    assert result.exit_code in (0, 1), result.output
    return result


def final_state(result: Any) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(result.stdout)
    return state


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "api.db") as opened:
        yield opened


# --- across runs -------------------------------------------------------------------------------


def test_cached_tool_runs_once_across_two_runs(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    first, second = run(path, calls), run(path, calls)
    assert final_state(first)["square"] == final_state(second)["square"] == 9
    assert times_called(calls) == 1


def test_changed_argument_misses(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    run(path, calls, "-i", "n=3")
    assert final_state(run(path, calls, "-i", "n=4"))["square"] == 16
    assert times_called(calls) == 2


def test_changed_tool_version_misses(flow: Callable[..., Path], calls: Path) -> None:
    run(flow(), calls)
    run(flow(tools=TOOLS.replace('version="1"', 'version="2"')), calls)
    assert times_called(calls) == 2


def test_same_tool_version_in_another_file_hits(flow: Callable[..., Path], calls: Path) -> None:
    run(flow(), calls)
    run(flow(), calls)  # another workflow file and module, the same tool name and version
    assert times_called(calls) == 1


def test_changed_source_of_an_unversioned_tool_misses(
    flow: Callable[..., Path], calls: Path
) -> None:
    unversioned = TOOLS.replace('@tool(version="1")', "@tool")
    run(flow(tools=unversioned), calls)
    run(flow(tools=unversioned.replace("n * n", "n ** 2")), calls)
    assert times_called(calls) == 2


def test_ctx_is_not_part_of_the_key(flow: Callable[..., Path], calls: Path) -> None:
    with_ctx = TOOLS.replace("calls: str)", "calls: str, ctx)")
    path = flow(tools=with_ctx)
    run(path, calls)
    run(path, calls)  # another run id, so another ctx
    assert times_called(calls) == 1


def test_result_expires_after_its_ttl(flow: Callable[..., Path], calls: Path,
                                      store: Store) -> None:
    workflow = Workflow.load(flow(cache="{ttl: 10}"), entry_points=False)
    now = [1000.0]
    cache = StoreCache(store, clock=lambda: now[0])
    for moment in (1000.0, 1009.9, 1010.0):
        now[0] = moment
        assert workflow.run({"calls": str(calls)}, cache=cache).state["square"] == 9
    assert times_called(calls) == 2


def test_failure_is_not_cached(flow: Callable[..., Path], calls: Path) -> None:
    fails_first = TOOLS.replace("    count(calls)\n", "    count(calls)\n"
                                "    if len(open(calls).readlines()) == 1:\n"
                                "        raise RuntimeError('first call fails')\n")
    path = flow(tools=fails_first)
    assert run(path, calls).exit_code == 1
    assert run(path, calls).exit_code == 0
    assert run(path, calls).exit_code == 0
    assert times_called(calls) == 2


def test_result_with_a_secret_key_is_not_kept(flow: Callable[..., Path], calls: Path) -> None:
    secret = FLOW.replace("square: {type: int}", "square: {type: int, secret: true}")
    path = flow(yaml=secret)
    run(path, calls)
    run(path, calls)
    assert times_called(calls) == 2


# --- what a hit looks like ---------------------------------------------------------------------


def test_hit_reports_start_log_and_finish_with_the_updates(
    flow: Callable[..., Path], calls: Path
) -> None:
    path = flow()
    run(path, calls)
    events = [json.loads(line) for line in run(path, calls, "--json").stdout.splitlines()]
    of_node = [(e["event"], e.get("message"), e.get("updates")) for e in events
               if e.get("node") == "compute"]
    assert of_node == [("node_started", None, None), ("log", "cache hit", None),
                       ("node_finished", None, {"square": 9})]


def test_state_changes_of_a_tool_taking_state_are_replayed(
    flow: Callable[..., Path], calls: Path
) -> None:
    takes_state = TOOLS.replace(
        'def square(n: int, calls: str) -> dict:\n    count(calls)\n    return {"square": n * n}',
        "def square(state: dict) -> None:\n    count(state['calls'])\n"
        "    state['square'] = state['n'] * state['n']")
    path = flow(tools=takes_state)
    run(path, calls)
    assert final_state(run(path, calls))["square"] == 9
    assert times_called(calls) == 1


def test_map_items_are_cached_one_by_one(flow: Callable[..., Path], calls: Path,
                                        tmp_path: Path) -> None:
    mapped = """
    imports: [TOOLS]
    state:
      ns: {type: list, default: [1, 2, 3]}
      calls: {type: str}
      squares: {type: list}
    nodes:
      compute:
        map: ns
        as: n
        tool: square
        collect: squares
        CACHE
    """
    path = flow(yaml=mapped)
    run(path, calls)
    overlapping = tmp_path / "inputs.yaml"
    overlapping.write_text("ns: [3, 4]\n")
    second = final_state(run(path, calls, "--inputs", str(overlapping)))
    assert second["squares"] == [{"square": 9}, {"square": 16}]
    assert times_called(calls) == 4


# --- resume ------------------------------------------------------------------------------------

THEN_FAIL = FLOW + """    next: check
  check:
    tool: check
"""
FAILING_CHECK = TOOLS + """
@tool
def check() -> None:
    raise RuntimeError("check failed")
"""


def _failed_run(flow: Callable[..., Path], calls: Path) -> str:
    result = run(flow(yaml=THEN_FAIL, tools=FAILING_CHECK), calls, "--json")
    assert result.exit_code == 1
    run_id: str = json.loads(result.stdout.splitlines()[0])["run_id"]
    return run_id


def test_resume_reuses_a_cached_result(flow: Callable[..., Path], calls: Path) -> None:
    run_id = _failed_run(flow, calls)
    resumed = runner.invoke(app, ["resume", run_id, "--from", "compute"])
    assert resumed.exit_code == 1 and "cache hit" in resumed.stderr
    assert times_called(calls) == 1


def test_resume_with_no_cache_runs_the_tool(flow: Callable[..., Path], calls: Path) -> None:
    run_id = _failed_run(flow, calls)
    resumed = runner.invoke(app, ["resume", run_id, "--from", "compute", "--no-cache"])
    assert resumed.exit_code == 1
    assert times_called(calls) == 2


# --- bypassing and clearing --------------------------------------------------------------------


def test_no_cache_does_not_reuse_a_result(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    run(path, calls)
    run(path, calls, "--no-cache")
    assert times_called(calls) == 2


def test_no_cache_does_not_keep_a_result(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    run(path, calls, "--no-cache")
    run(path, calls)
    assert times_called(calls) == 2


def test_no_store_does_not_cache(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    run(path, calls, "--no-store")
    run(path, calls, "--no-store")
    assert times_called(calls) == 2


def test_cache_clear_empties_it(flow: Callable[..., Path], calls: Path) -> None:
    path = flow()
    run(path, calls)
    cleared = runner.invoke(app, ["cache", "clear"])
    assert (cleared.exit_code, cleared.stdout) == (0, "removed 1 cache entry\n")
    run(path, calls)
    assert times_called(calls) == 2


def test_cache_clear_with_tool_removes_only_that_tools_results(store: Store) -> None:
    store.cache_put("k1", "square", "1", {"square": 9}, None)
    store.cache_put("k2", "cube", "1", {"cube": 27}, None)
    assert store.cache_clear("square") == 1
    assert (store.cache_get("k1", 0.0)[0], store.cache_get("k2", 0.0)) == (False, (True,
                                                                                  {"cube": 27}))


def test_cache_clear_of_a_tool_names_it(tmp_path: Path) -> None:
    cleared = runner.invoke(app, ["cache", "clear", "--tool", "square",
                                  "--store", str(tmp_path / "other.db")])
    assert (cleared.exit_code, cleared.stdout) == (0, "removed 0 cache entries of tool 'square'\n")


# --- nodes without `cache:` --------------------------------------------------------------------


class SpyCache:
    def __init__(self) -> None:
        self.used: list[str] = []

    def lookup(self, node: GraphNode, kwargs: Any) -> Lookup:
        self.used.append("lookup")
        return Lookup(False, None, None)

    def remember(self, node: GraphNode, key: str, value: Any) -> None:
        self.used.append("remember")


def test_node_without_cache_never_touches_the_cache(
    flow: Callable[..., Path], calls: Path
) -> None:
    workflow = Workflow.load(flow(cache=None), entry_points=False)
    spy = SpyCache()
    workflow.run({"calls": str(calls)}, cache=spy)
    workflow.run({"calls": str(calls)}, cache=spy)
    assert (spy.used, times_called(calls)) == ([], 2)


# --- the key and the store ---------------------------------------------------------------------


def _tool(version: str | None = "1") -> ToolDef:
    def square(n: int) -> dict[str, int]:
        return {"square": n * n}

    return ToolDef("square", square, version)


def test_key_ignores_argument_order_and_ctx() -> None:
    tool = _tool()
    assert cache_key(tool, {"a": 1, "b": {"y": 2, "x": 1}}) == cache_key(
        tool, {"b": {"x": 1, "y": 2}, "a": 1, "ctx": object()})


def test_arguments_that_are_not_json_are_not_cached() -> None:
    assert cache_key(_tool(), {"a": object()}) is None
    assert cache_key(_tool(), {"a": float("nan")}) is None


def test_expired_row_is_a_miss(store: Store) -> None:
    store.cache_put("k", "square", "1", 9, 0.05, now=100.0)
    assert store.cache_get("k", 100.04) == (True, 9)
    assert store.cache_get("k", 100.05) == (False, None)


def test_v1_store_migrates_to_the_current_version_with_an_empty_cache(tmp_path: Path) -> None:
    from store_v1 import V1_DATA, V1_SCHEMA

    from wfe.store.schema import current_version

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in (*V1_SCHEMA, *V1_DATA):
        conn.execute(statement, (b"name: demo\n",) if "?" in statement else ())
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with Store.open(path) as opened:
        assert opened.get_run("01old").state == {"i": 1}
        assert opened.cache_get("k", 0.0) == (False, None)
        opened.cache_put("k", "square", "1", {"square": 9}, None)
        assert opened.cache_get("k", 1e12) == (True, {"square": 9})
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (current_version(),)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(cache)")]
    finally:
        conn.close()
    assert columns == ["key", "tool", "version", "created_at", "expires_at", "value"]
