"""The Dask executor on a real LocalCluster (2 worker processes, 1 thread each), shared by the
module: map items, parallel branches and map items' subgraphs run on the workers, with the same
results and events as locally; serialisation, importability, cancellation, timeouts and worker
loss give clear errors and never hang (hang guards only, no timing assertions)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from wfe import Workflow  # noqa: E402
from wfe.errors import ExecutorError  # noqa: E402
from wfe.executors.dask import DaskExecutor, SerialisationError  # noqa: E402
from wfe.tools.context import StepInfo  # noqa: E402

HANG_GUARD = 60.0

TOOLS = (Path(__file__).parent / "data" / "dask_tools.py").read_text()

STATE = """
state:
  xs: {type: list, default: [0, 1, 2, 3]}
  ys: list
  n: {type: int, default: 1}
  a: int
  b: int
  m: int
  s: int
  note: str
  review: dict
  reviews: list
  error: any
  marks: {type: str, default: ""}
  release: {type: str, default: ""}
  started: {type: str, default: ""}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    # allowed-failures 0: a worker that dies mid-task fails it with KilledWorker at once, so
    # that the node's own `retry` is what runs it again (the CLI tests see Dask reschedule).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=logging.ERROR)
    yield local
    local.close()


@pytest.fixture(scope="module")
def executor(cluster: Any) -> Iterator[DaskExecutor]:
    client = distributed.Client(cluster, set_as_default=False)
    with DaskExecutor(client, address=cluster.scheduler_address, share_sys_path=True,
                      no_workers_timeout=30) as opened:
        yield opened


@pytest.fixture
def folders(tmp_path: Path) -> Iterator[dict[str, str]]:
    """marks/, started/ and the release file; released at the end so no worker thread stays
    busy for the next test."""
    paths = {name: tmp_path / name for name in ("marks", "started")}
    for path in paths.values():
        path.mkdir()
    release = tmp_path / "release"
    yield {"marks": str(paths["marks"]), "started": str(paths["started"]),
           "release": str(release)}
    release.write_text("")


def load(write_workflow: Callable[..., Path], nodes: str) -> Workflow:
    return Workflow.load(write_workflow(f"imports: [TOOLS]\n{STATE}nodes:\n{nodes}", TOOLS),
                         entry_points=False)


def run(workflow: Workflow, executor: DaskExecutor | None, inputs: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None) -> Any:
    listeners = [events.append] if events is not None else []
    return asyncio.run(asyncio.wait_for(
        workflow.arun(inputs, listeners=listeners, executor=executor), HANG_GUARD))


def scheduler_tasks(client: Any) -> int:
    return int(client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, f"hang guard: {what}"
        time.sleep(0.05)


def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must match between executors: each event's kind, node, attempt and updates."""
    return sorted((e["event"], e.get("node", ""), e.get("attempt", 0), repr(e.get("updates")))
                  for e in events)


SUBGRAPH = """
imports: [TOOLS]
state:
  x: {type: int, required: true}
  m: int
  s: int
  note: str
  review: dict
nodes:
  inspect:
    parallel: {metrics: {tool: measure}, smells: {tool: smell}}
    next: merge
  merge: {tool: combine}
"""

FAN_OUT = """
  doubles: {map: xs, as: x, tool: double, collect: ys, concurrency: 4, next: fan}
  fan:
    parallel: {l: {tool: left}, r: {tool: right}}
    next: files
  files:
    map: xs
    as: x
    workflow: review.yaml
    inputs: {x: x}
    outputs: {review: review, note: note}
    collect: reviews
    concurrency: 2
"""


def test_map_parallel_and_subgraph_in_map_match_the_local_executor(write_workflow, tmp_path,
                                                                   executor):
    (tmp_path / "review.yaml").write_text(
        write_workflow(SUBGRAPH, TOOLS).read_text())
    workflow = load(write_workflow, FAN_OUT)
    local_events: list[dict[str, Any]] = []
    cluster_events: list[dict[str, Any]] = []
    local = run(workflow, None, events=local_events)
    remote = run(workflow, executor, events=cluster_events)
    assert remote.status == local.status == "succeeded", remote.error
    assert remote.state == local.state
    assert remote.state["ys"] == [0, 2, 4, 6]
    # `note` is what a subgraph tool wrote into its copy of `state`
    assert remote.state["reviews"][3] == {"review": {"m": 9, "s": -3}, "note": "9/-3"}
    assert shape(cluster_events) == shape(local_events)


def test_calls_run_in_the_clusters_worker_processes(write_workflow, executor):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: square, collect: ys}\n")
    result = run(workflow, executor)
    workers = set(executor.client.run(os.getpid).values())
    assert os.getpid() not in workers
    assert {row["where"] for row in result.state["ys"]} <= workers


@pytest.mark.parametrize(("size", "fetched"), [(10, 0), (40_000, 4)],
                         ids=["small answers travel as events", "large answers are fetched"])
def test_an_answer_comes_with_its_tasks_completion_unless_it_is_large(
        write_workflow, executor, monkeypatch, size, fetched):
    real = executor.client.gather
    gathered: list[int] = []

    def gather(futures: list[Any], *args: Any, **kwargs: Any) -> Any:
        gathered.append(len(futures))
        return real(futures, *args, **kwargs)

    monkeypatch.setattr(executor.client, "gather", gather)
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: repeat, collect: ys}\n")
    result = run(workflow, executor, {"n": size})
    assert result.status == "succeeded", result.error
    assert result.state["ys"] == [str(x) * size for x in range(4)]
    assert sum(gathered) == fetched


def test_a_tasks_future_is_released_once_dask_reports_it_finished(write_workflow, executor,
                                                                   monkeypatch):
    # Released as soon as its answer came, a task still running is cancelled on its worker:
    # three more messages per call. Released after, it is simply forgotten.
    real = distributed.Future.release
    seen: list[str] = []

    def release(future: Any) -> None:
        if not future._cleared and str(future.key).startswith("wfe-double-"):
            seen.append(future.status)
        real(future)

    monkeypatch.setattr(distributed.Future, "release", release)
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: double, collect: ys}\n")
    result = run(workflow, executor, {"xs": list(range(8))})
    assert result.state["ys"] == [2 * x for x in range(8)]
    wait_until(lambda: len(seen) >= 8, "every future released")
    assert set(seen) == {"finished"}
    wait_until(lambda: scheduler_tasks(executor.client) == 0, "the scheduler forgets them")


def test_a_large_map_goes_in_chunks_each_item_with_its_own_answer_or_error(
        write_workflow, executor, monkeypatch):
    keys: list[str] = []
    real = executor.client.map

    def recording(task: Any, *args: Any, key: list[str], **kwargs: Any) -> Any:
        keys.extend(key)
        return real(task, *args, key=key, **kwargs)

    monkeypatch.setattr(executor.client, "map", recording)
    wait_until(lambda: executor._health.threads == 2, "the cluster's threads are known")
    workflow = load(write_workflow, (
        "  go: {map: xs, as: x, tool: double, collect: ys, concurrency: 40, next: no}\n"
        "  no: {map: xs, as: x, tool: refuse, concurrency: 40, tolerate: '100%', "
        "errors: reviews}\n"))
    result = run(workflow, executor, {"xs": list(range(40))})
    assert result.status == "succeeded", result.error
    assert result.state["ys"] == [2 * x for x in range(40)]
    assert [(e["index"], e["type"], e["message"]) for e in result.state["reviews"]] == [
        (x, "Refused", f"no {x}") for x in range(40)]
    # 40 calls on 2 threads: 8 chunks of 5 per map, as a process pool would hand them out
    assert len(keys) == 16 and all(key.startswith("wfe-chunk-") for key in keys)


@pytest.mark.parametrize(("event", "answer"), [
    ((1.0, ["wfe-double-1f", b"packed"]), ("wfe-double-1f", b"packed")),
    ((1.0, {"action": "update-graph", "count": 4}), None),
    ((1.0, ["wfe-chunk-2a", [b"one", b"two"]]), ("wfe-chunk-2a", [b"one", b"two"])),
    ((1.0, ["wfe-double-1f", "not bytes"]), None),
])
def test_only_a_tasks_answer_on_the_clients_topic_is_taken_as_one(event, answer):
    from wfe.executors.dask.task import event_answer

    assert event_answer(event) == answer


def test_a_remote_tool_gets_its_context_and_its_log_lines_reach_the_run(write_workflow, executor):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: tell, collect: ys}\n")
    events: list[dict[str, Any]] = []
    remote = run(workflow, executor, {"xs": [5, 6]}, events)
    local = run(workflow, None, {"xs": [5, 6]})
    for row in (*remote.state["ys"], *local.state["ys"]):
        row.pop("run_id")
        row["key"] = row["key"].split(":", 1)[1]
    assert remote.state["ys"] == local.state["ys"]
    assert remote.state["ys"][1]["node"] == "go[1]"
    lines = [(e["node"], e["message"]) for e in events if e["event"] == "log"]
    assert sorted(lines) == [("go[0]", "attempt 1"), ("go[0]", "item 5"),
                             ("go[1]", "attempt 1"), ("go[1]", "item 6")]
    finished = next(i for i, e in enumerate(events) if e["event"] == "node_finished"
                    and e["node"] == "go[0]")
    assert max(i for i, e in enumerate(events) if e.get("message") == "item 5") < finished


def test_async_tools_run_on_the_cluster(write_workflow, executor):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: later, collect: ys}\n")
    assert run(workflow, executor).state["ys"] == [1, 2, 3, 4]


def test_an_exception_keeps_its_type_for_retry_and_on_error(write_workflow, executor, folders):
    workflow = load(write_workflow, """
  retried:
    map: xs
    as: x
    tool: flaky
    collect: ys
    retry: {attempts: 2, delay: 0, on: [ValueError]}
    next: refused
  refused:
    parallel: {no: {tool: refuse, with: {x: 1}}}
    on_error: [{errors: [Refused], then: stubborn}]
  stubborn:
    parallel: {no: {tool: stubborn, with: {x: 2}}}
    on_error: [{errors: [Stubborn], then: end}]
""")
    result = run(workflow, executor, {"marks": folders["marks"]})
    assert result.status == "succeeded", result.error
    assert result.state["ys"] == [0, 1, 2, 3]
    assert result.state["error"] == {"node": "stubborn", "type": "Stubborn", "message": "never 2"}


def test_a_result_that_cannot_be_serialised_names_the_node_and_key(write_workflow, executor):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: lock, collect: ys}\n")
    result = run(workflow, executor, {"xs": [7]})
    assert result.status == "failed"
    message = str(result.error)
    assert "node 'go[0]': the result key 'thing' of tool 'lock' cannot be serialised" in message
    assert "SerialisationError" in message


def test_an_argument_that_cannot_be_serialised_names_the_node_and_key(write_workflow, executor):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: double, collect: ys}\n")
    tool = workflow.graph.nodes["go"].tool
    assert tool is not None
    step = StepInfo("run", None)
    step.node = "go[3]"
    with pytest.raises(SerialisationError, match=r"node 'go\[3\]': argument 'x' of tool "
                                                 r"'double' cannot be serialised"):
        asyncio.run(executor.call(tool, {"x": threading.Lock()}, None, step))


def test_a_tool_the_workers_cannot_import_is_refused_naming_tool_module_and_worker(
        write_workflow, cluster):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: double, collect: ys}\n")
    client = distributed.Client(cluster, set_as_default=False)
    with DaskExecutor(client, address=cluster.scheduler_address) as unshared:
        module = workflow.graph.nodes["go"].tool.module
        with pytest.raises(ExecutorError) as caught:
            run(workflow, unshared)
    assert f"tool 'double' (module {module}) cannot be imported on Dask worker tcp://" in str(
        caught.value)
    assert "ModuleNotFoundError" in str(caught.value)


def test_a_timeout_cancels_the_task_on_the_cluster(write_workflow, executor, folders):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: hold, collect: ys, "
                                    "timeout: 0.5}\n")
    result = run(workflow, executor, {"xs": [1], **folders})
    assert result.status == "failed"
    assert "timed out after 0.5 s; its Dask task was cancelled" in str(result.error)
    wait_until(lambda: scheduler_tasks(executor.client) == 0, "tasks left on the scheduler")


@pytest.mark.parametrize("nodes", [
    "  go: {map: xs, as: x, tool: fail_soon, collect: ys, concurrency: 4}\n",
    "  go:\n    parallel: {bad: {tool: fail_soon, with: {x: 0}}, "
    "slow: {tool: hold, with: {x: 1}}}\n",
], ids=["map", "parallel"])
def test_a_failed_sibling_cancels_the_rest_on_the_cluster(write_workflow, executor, folders,
                                                           nodes):
    result = run(load(write_workflow, nodes), executor, folders)
    assert result.status == "failed"
    assert "item 0 failed" in str(result.error)
    wait_until(lambda: scheduler_tasks(executor.client) == 0, "tasks left on the scheduler")


def test_cancelling_a_run_cancels_its_tasks_on_the_cluster(write_workflow, executor, folders):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: hold, collect: ys}\n")

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(workflow.arun(folders, executor=executor))
        while not any(Path(folders["started"]).iterdir()):
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(cancel_midway(), HANG_GUARD))
    wait_until(lambda: scheduler_tasks(executor.client) == 0, "tasks left on the scheduler")


@pytest.mark.parametrize(("retry", "status"), [("{attempts: 2, delay: 0}", "succeeded"),
                                                ("{attempts: 1}", "failed")])
def test_a_worker_killed_mid_item_is_retried_by_the_nodes_retry(write_workflow, executor, folders,
                                                                retry, status):
    workflow = load(write_workflow, f"  go: {{map: xs, as: x, tool: die_once, collect: ys, "
                                    f"retry: {retry}}}\n")
    result = run(workflow, executor, {"xs": [1], "marks": folders["marks"]})
    assert result.status == status, result.error
    if status == "failed":
        assert "KilledWorker" in str(result.error)
    else:
        assert result.state["ys"] == [1]
    wait_until(lambda: len(executor.client.nthreads()) == 2, "the nanny restarts the worker")


def test_a_cluster_that_loses_every_worker_fails_the_call_instead_of_hanging(write_workflow,
                                                                              folders):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: hold, collect: ys}\n")
    small = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", silence_logs=logging.ERROR)
    client = distributed.Client(small, set_as_default=False)
    with DaskExecutor(client, address=small.scheduler_address, share_sys_path=True,
                      no_workers_timeout=2) as lonely:

        def lose_the_worker() -> None:
            while not any(Path(folders["started"]).iterdir()):
                time.sleep(0.02)
            small.scale(0)

        threading.Thread(target=lose_the_worker, daemon=True).start()
        result = run(workflow, lonely, {"xs": [1], **folders})
    small.close()
    assert result.status == "failed"
    assert "ClusterUnavailable" in str(result.error)
    assert "has had no workers for" in str(result.error)


def test_a_scheduler_without_workers_is_refused_before_the_run(write_workflow):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: double, collect: ys}\n")
    empty = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0",
                                     silence_logs=logging.ERROR)
    client = distributed.Client(empty, set_as_default=False)
    try:
        with DaskExecutor(client, address=empty.scheduler_address, no_workers_timeout=1) as idle, \
                pytest.raises(ExecutorError, match="has no workers"):
            run(workflow, idle)
    finally:
        empty.close()


def test_an_executor_url_opens_its_own_local_cluster_for_one_run(write_workflow):
    workflow = load(write_workflow, "  go: {map: xs, as: x, tool: square, collect: ys}\n")
    result = workflow.run({"xs": [2]}, executor="dask?workers=1&threads=1")
    assert result.status == "succeeded", result.error
    assert result.state["ys"][0]["square"] == 4
    assert result.state["ys"][0]["where"] != os.getpid()


def test_wfes_own_local_cluster_spends_no_cpu_on_queuing_profiling_or_20ms_ticks():
    from wfe.executors.cluster import open_executor

    opened = open_executor("dask?workers=1&threads=1")
    assert isinstance(opened, DaskExecutor)
    try:
        settings = opened.client.run(lambda: (
            dask.config.get("distributed.worker.profile.enabled"),
            dask.config.get("distributed.admin.tick.interval")))
        saturation = opened.client.run_on_scheduler(
            lambda dask_scheduler: dask_scheduler.WORKER_SATURATION)
    finally:
        opened.close()
    assert list(settings.values()) == [(False, "1s")]
    assert saturation == float("inf")


def test_an_unreachable_scheduler_is_a_clear_error_naming_where_the_url_came_from(monkeypatch):
    from wfe.executors.cluster import open_executor
    from wfe.executors.dask import connect

    monkeypatch.setattr(connect, "CONNECT_TIMEOUT", 0.5)
    with pytest.raises(ExecutorError, match=r"^WFE_EXECUTOR: cannot connect to the Dask scheduler "
                                            r"at tcp://127.0.0.1:1: "):
        open_executor("dask://127.0.0.1:1", "WFE_EXECUTOR")


@pytest.mark.parametrize(("url", "says"), [
    ("dask?workers=0", "option workers='0' must be a positive whole number"),
    ("dask?threads=1.5", "option threads='1.5' must be a positive whole number"),
    ("dask?no_workers_timeout=-1", "option no_workers_timeout='-1' must be a positive number"),
    ("dask://127.0.0.1:8786?workers=2", "option 'workers' sizes the LocalCluster of `dask`"),
])
def test_bad_option_values_are_usage_errors(url, says):
    from wfe import UsageError
    from wfe.executors.cluster import open_executor

    with pytest.raises(UsageError, match=says):
        open_executor(url)


# --- batches ------------------------------------------------------------------------------------

class MapOnly:
    """A client that records each `map` (the batch it was given) and returns stand-in futures."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def map(self, fn: Any, payloads: list[bytes], topics: list[str], *, key: list[str],
            pure: bool) -> list[str]:
        self.batches.append(list(key))
        return [f"future-{name}" for name in key]


class Watched:
    topic = "client-topic"

    def __init__(self) -> None:
        self.futures: list[Any] = []
        self.expected: list[str] = []

    def expect(self, key: str, answer: Any) -> None:
        self.expected.append(key)

    def forget(self, key: str) -> None:
        self.expected.remove(key)

    def watch(self, future: Any, answer: Any) -> None:
        self.futures.append(future)


def test_calls_made_in_one_turn_go_as_one_batch_and_a_cancelled_one_never_goes():
    from wfe.executors.dask.submit import BatchedSubmit

    client, gather = MapOnly(), Watched()
    submit = BatchedSubmit(client, gather)  # type: ignore[arg-type]

    async def turns() -> None:
        first = [submit.add(f"k{i}", b"") for i in range(3)]
        first[1].answer.cancel()  # its call stopped waiting before the batch left
        await asyncio.sleep(0)
        later = submit.add("k3", b"")
        await asyncio.sleep(0)
        assert [entry.future for entry in first] == ["future-k0", None, "future-k2"]
        assert later.future == "future-k3"

    asyncio.run(turns())
    assert client.batches == [["k0", "k2"], ["k3"]]
    assert gather.futures == ["future-k0", "future-k2", "future-k3"]
    assert gather.expected == ["k0", "k2", "k3"]


@pytest.mark.parametrize(("calls", "threads", "sizes"), [
    (40, 2, [5] * 8),  # as multiprocessing.Pool.map: about four chunks per thread
    (10, 2, [2] * 5),
    (7, 2, []),  # chunks of one: each call a task of its own
    (40, 0, []),  # the cluster's threads not known yet
    (200, 4, [13] * 15 + [5]),
])
def test_a_batch_is_cut_into_chunks_of_equal_size_about_four_per_thread(calls, threads, sizes):
    from wfe.executors.dask.submit import Submission, _chunks

    entries = [Submission(f"k{i}", b"") for i in range(calls)]
    chunks = _chunks(entries, threads)
    assert [len(chunk.entries) for chunk in chunks] == sizes
    assert [e for chunk in chunks for e in chunk.entries] == (entries if sizes else [])


def test_a_chunk_answers_each_call_and_a_call_with_a_timeout_goes_alone():
    from wfe.executors.dask.submit import BatchedSubmit, run_chunk, run_task

    tasks: list[tuple[Any, list[str]]] = []

    class Client(MapOnly):
        def map(self, fn: Any, payloads: list[Any], topics: list[str], *, key: list[str],
                pure: bool) -> list[str]:
            tasks.append((fn, list(key)))
            return [f"future-{name}" for name in key]

    submit = BatchedSubmit(Client(), Watched(), lambda: 1)  # type: ignore[arg-type]

    async def turn() -> list[Any]:
        sent = [submit.add(f"k{i}", b"") for i in range(8)]
        sent.append(submit.add("timed", b"", alone=True))
        await asyncio.sleep(0)
        return sent

    sent = asyncio.run(turn())
    assert [(fn, len(keys)) for fn, keys in tasks] == [(run_task, 1), (run_chunk, 4)]
    first = sent[0].chunk
    assert first is not None and first.entries == sent[:2] and sent[8].chunk is None
    first.answer.set_result([b"a", b"b"])
    assert (sent[0].answer.result(), sent[1].answer.result()) == (b"a", b"b")
    failed = sent[2].chunk
    assert failed is not None
    failed.answer.set_exception(RuntimeError("worker lost"))
    assert all(str(entry.answer.exception()) == "worker lost" for entry in failed.entries)


def test_a_chunks_task_is_cancelled_only_once_none_of_its_calls_waits():
    from wfe.executors.dask.submit import BatchedSubmit, Chunk, Submission

    cancelled: list[Any] = []

    class Future:
        def release(self) -> None:
            cancelled.append("released")

    class Client:
        def cancel(self, futures: list[Any]) -> None:
            cancelled.extend(futures)

    submit = BatchedSubmit(Client(), Watched())  # type: ignore[arg-type]
    entries = [Submission("a", b""), Submission("b", b"")]
    chunk = Chunk("c", entries, future=Future(), waiting=2)  # type: ignore[arg-type]
    for entry in entries:
        entry.chunk = chunk
    submit.abandon(entries[0])
    assert cancelled == []
    submit.abandon(entries[1])
    assert cancelled == [chunk.future, "released"]
