"""`wfe serve` as a real process on a loopback port: event streams against the store, many and
slow watchers, restarts, and the command line and the server sharing one store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
pytest.importorskip("websockets")

from serve_support import (  # noqa: E402
    HANG_GUARD,
    ServerProcess,
    parse_sse,
    slow_sse_events,
    sse_events,
    start_server,
    wait_for_status,
    write_served,
    ws_events,
)

from wfe.store import Store  # noqa: E402

TOKEN = "live-token"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_served(tmp_path)
    return tmp_path


@pytest.fixture
def server(root: Path) -> Iterator[ServerProcess]:
    process = start_server(root, "workflows")
    yield process
    process.stop()


def stored_seqs(run_id: str) -> list[int]:
    with Store.open(os.environ["WFE_STORE"]) as store:
        return [event["seq"] for event in store.events(run_id)]


def start(client: httpx.Client, workflow: str = "counter", **inputs: Any) -> str:
    response = client.post("/runs", json={"workflow": workflow, "inputs": inputs})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def in_threads(*calls: Callable[[], list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Run each call in its own thread at once; their results in order."""
    results: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], list[dict[str, Any]]]) -> None:
        try:
            results[index] = call()
        except BaseException as error:  # handed back to the test's thread
            results[index] = error

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD * 2)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [event["seq"] for event in events]


def test_sse_and_websocket_watchers_get_every_event_once_in_order(
        server: ServerProcess) -> None:
    with server.client() as client:
        run_id = start(client, n=30, delay=0.02)
        streams = in_threads(
            *[lambda: sse_events(server.url, run_id) for _ in range(3)],
            *[lambda: ws_events(server.url, run_id) for _ in range(3)],
            lambda: sse_events(server.url, run_id, after=7),
            lambda: ws_events(server.url, run_id, after=7),
        )
        assert wait_for_status(client, run_id)["status"] == "succeeded"
    stored = stored_seqs(run_id)
    assert stored == list(range(1, len(stored) + 1))
    for events in streams[:6]:
        assert seqs(events) == stored
        assert events[-1]["event"] == "run_finished"
    for events in streams[6:]:
        assert seqs(events) == stored[7:]


def test_a_watcher_arriving_after_the_end_gets_the_stored_events(server: ServerProcess) -> None:
    with server.client() as client:
        run_id = start(client, n=3)
        wait_for_status(client, run_id)
    assert seqs(sse_events(server.url, run_id)) == stored_seqs(run_id)
    assert seqs(ws_events(server.url, run_id)) == stored_seqs(run_id)


def test_a_slow_watcher_never_holds_the_run_back_and_still_gets_everything(
        server: ServerProcess) -> None:
    # ~2,400 events, 600 of them of ~20 kB: more than the socket buffers and the watcher's queue
    # hold, for a watcher that reads nothing until the run has ended.
    with server.client() as client:
        run_id = start(client, n=600, pad=20_000, delay=0.002)
        finished = threading.Event()

        def watch_the_run() -> list[dict[str, Any]]:
            try:
                return [wait_for_status(client, run_id)]
            finally:
                finished.set()

        slow_events, [document] = in_threads(
            lambda: slow_sse_events(server.url, run_id, finished), watch_the_run)
    assert document["status"] == "succeeded"
    assert seqs(slow_events) == stored_seqs(run_id)
    assert "fell behind" in server.log()  # the path this test is about was taken


def watch_until_stopped(server: ServerProcess, run_id: str) -> list[dict[str, Any]]:
    """Follow the run's events; once some arrived, stop the server (SIGTERM)."""
    watched: list[dict[str, Any]] = []
    live = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{server.url}/runs/{run_id}/events",
                          timeout=HANG_GUARD) as response:
            for message in parse_sse(response.iter_lines()):
                watched.append(message["data"])
                live.set()

    thread = threading.Thread(target=watch)
    thread.start()
    assert live.wait(HANG_GUARD)
    server.stop()
    thread.join(HANG_GUARD)
    assert not thread.is_alive()
    return watched


def test_a_server_restart_leaves_runs_interrupted_and_both_resumes_finish_them(
        root: Path) -> None:
    first = start_server(root, "workflows")
    with first.client() as client:
        by_api, by_cli = (start(client, n=200, delay=0.02) for _ in range(2))
        for run_id in (by_api, by_cli):
            wait_for_status(client, run_id, frozenset({"running"}))
        watched = watch_until_stopped(first, by_api)
    assert seqs(watched) == list(range(1, len(watched) + 1))
    assert watched[-1]["event"] == "run_finished"
    assert watched[-1]["status"] == "interrupted"
    second = start_server(root, "workflows")
    try:
        with second.client() as client:
            for run_id in (by_api, by_cli):
                assert client.get(f"/runs/{run_id}").json()["status"] == "interrupted"
            assert client.post(f"/runs/{by_api}/resume", json={}).status_code == 202
            resumed = subprocess.run([sys.executable, "-m", "wfe", "resume", by_cli, "--quiet"],
                                     cwd=root, capture_output=True, text=True,
                                     timeout=HANG_GUARD * 2)
            assert resumed.returncode == 0, resumed.stderr
            for run_id in (by_api, by_cli):
                document = wait_for_status(client, run_id)
                assert (document["status"], document["state"]["i"]) == ("succeeded", 200)
                assert seqs(sse_events(second.url, run_id)) == stored_seqs(run_id)
    finally:
        second.stop()
    for run_id in (by_api, by_cli):
        stored = stored_seqs(run_id)
        assert stored == list(range(1, len(stored) + 1))


def test_runs_of_the_command_line_and_of_the_server_see_each_other(
        server: ServerProcess, root: Path) -> None:
    detached = subprocess.run(
        [sys.executable, "-m", "wfe", "run", "workflows/counter.yaml", "--detach",
         "-i", "n=20", "-i", "delay=0.02"], cwd=root, capture_output=True, text=True,
        timeout=HANG_GUARD)
    cli_run = detached.stdout.strip()
    with server.client() as client:
        followed = sse_events(server.url, cli_run)  # a run of another process, followed
        assert wait_for_status(client, cli_run)["status"] == "succeeded"
        http_run = start(client, n=2)
        wait_for_status(client, http_run)
    assert seqs(followed) == stored_seqs(cli_run)
    listed = subprocess.run([sys.executable, "-m", "wfe", "runs", "--json"], cwd=root,
                            capture_output=True, text=True, timeout=HANG_GUARD)
    assert {cli_run, http_run} <= {r["run_id"] for r in json.loads(listed.stdout)}
    logs = subprocess.run([sys.executable, "-m", "wfe", "logs", http_run, "--json"], cwd=root,
                          capture_output=True, text=True, timeout=HANG_GUARD)
    assert [json.loads(line)["seq"] for line in logs.stdout.splitlines()] == \
        stored_seqs(http_run)


def test_cancelling_a_run_of_another_process_stops_it_at_its_next_step(
        server: ServerProcess, root: Path) -> None:
    detached = subprocess.run(
        [sys.executable, "-m", "wfe", "run", "workflows/counter.yaml", "--detach",
         "-i", "n=100000", "-i", "delay=0.02"], cwd=root, capture_output=True, text=True,
        timeout=HANG_GUARD)
    run_id = detached.stdout.strip()
    with server.client() as client:
        wait_for_status(client, run_id, frozenset({"running"}))
        assert client.post(f"/runs/{run_id}/cancel").json() == {"run_id": run_id}
        document = wait_for_status(client, run_id)
    assert document["status"] == "cancelled"
    assert document["state"]["i"] < 100000


@pytest.mark.parametrize("workflow", ["blocking", "counter"])
def test_an_idle_server_stops_without_waiting_for_tool_threads(
        server: ServerProcess, root: Path, workflow: str) -> None:
    release = root / "release"
    release.touch()
    with server.client() as client:
        run_id = start(client, workflow, **({"release": str(release)} if workflow == "blocking"
                                            else {}))
        assert wait_for_status(client, run_id)["status"] == "succeeded"
    assert server.stop(signal.SIGINT) in (130, -signal.SIGINT)
    assert "waiting up to" not in server.log()  # said when it waits for a tool's thread


def test_the_server_listens_on_loopback_unless_told_otherwise(server: ServerProcess) -> None:
    assert server.url.startswith("http://127.0.0.1:")


@pytest.fixture
def guarded(root: Path) -> Iterator[ServerProcess]:
    process = start_server(root, "workflows", "--max-body", "4096",
                           "--allow-host", "proxy.example", env={"WFE_TOKEN": TOKEN})
    yield process
    process.stop()


AUTH = {"Authorization": f"Bearer {TOKEN}"}
YAML = {**AUTH, "Content-Type": "application/yaml"}


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "needle"), [
    ("GET", "/runs", None, {}, 401, "bearer token"),
    ("GET", "/runs", None, {"Authorization": "Bearer nope"}, 401, "bearer token"),
    ("POST", "/runs", {"workflow": "counter", "inputs": {"x": "y" * 5000}}, AUTH, 413,
     "larger than 4096"),
    ("POST", "/runs", {"workflow": "counter", "inputs": {"n": "3"}}, AUTH, 422, "n"),
    ("POST", "/workflows", "name: p\nimports: [socket]\nnodes: {a: {tool: x}}\n", YAML, 422,
     "tool module 'socket' is not allowed"),
    ("POST", "/workflows", "name: p\nnodes: {a: {tool: tick}}\n",
     {**AUTH, "Content-Type": "text/plain"}, 415, "YAML"),
    ("POST", "/runs", {"workflow": "counter"}, {**AUTH, "Origin": "http://evil.example"}, 403,
     "cross-origin"),
    ("GET", "/runs", None, {**AUTH, "Host": "evil.example"}, 400, "Host"),
    ("GET", "/runs", None, {**AUTH, "Host": "proxy.example"}, 200, ""),
    ("GET", "/runs", None, AUTH, 200, ""),
])
def test_the_guards_of_a_real_server(guarded: ServerProcess, method: str, path: str,
                                     body: Any, headers: dict[str, str], status: int,
                                     needle: str) -> None:
    content = body.encode() if isinstance(body, str) else None
    payload = body if isinstance(body, dict) else None
    response = httpx.request(method, guarded.url + path, json=payload, content=content,
                             headers=headers, timeout=HANG_GUARD)
    assert response.status_code == status
    assert needle in response.text


def test_a_websocket_without_the_token_is_refused_and_with_it_streams(
        guarded: ServerProcess) -> None:
    from websockets.exceptions import InvalidStatus

    with guarded.client(TOKEN) as client:
        run_id = start(client, n=2)
        wait_for_status(client, run_id)
    with pytest.raises(InvalidStatus) as refused:
        ws_events(guarded.url, run_id)
    assert refused.value.response.status_code == 401
    assert seqs(ws_events(guarded.url, run_id, headers=AUTH)) == stored_seqs(run_id)
    with pytest.raises(InvalidStatus) as foreign:
        ws_events(guarded.url, run_id, headers={**AUTH, "Origin": "http://evil.example"})
    assert foreign.value.response.status_code == 403
    with httpx.stream("GET", f"{guarded.url}/runs/{run_id}/events",
                      params={"token": TOKEN}, timeout=HANG_GUARD) as response:
        assert response.status_code == 200
    assert TOKEN not in guarded.log()


@pytest.mark.parametrize("query", ["token=T", "%74oken=T", "tok%65n=T", "%74%6F%6B%65%6E=T",
                                   "after=0&token=T", "token=%6C%69%76%65-token"])
def test_a_token_in_the_query_is_never_logged_however_it_is_spelled(
        guarded: ServerProcess, query: str) -> None:
    with guarded.client(TOKEN) as client:
        run_id = start(client, n=1)
        wait_for_status(client, run_id)
    url = f"{guarded.url}/runs/{run_id}/events?{query.replace('=T', '=' + TOKEN)}"
    with httpx.stream("GET", url, timeout=HANG_GUARD) as response:
        assert response.status_code == 200  # accepted as the token...
        response.read()
    guarded.stop()
    log = guarded.log()
    assert f"/runs/{run_id}/events?" in log  # ...and logged, but never in clear
    assert TOKEN not in log and "%6C%69%76%65" not in log
