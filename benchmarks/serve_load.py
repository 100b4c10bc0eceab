"""`wfe serve` under load on loopback: many runs started at once over HTTP, many watchers.

A server (`wfe serve --port 0`, its own store in a temporary folder) gets RUNS `POST /runs` at
once, each a small loop of async steps; WATCHERS of those runs are followed while they run, half
over Server-Sent Events and half over WebSockets. Printed: how long until every run finished,
runs per second, each event's latency (from its `ts`, stamped when the engine emitted it, to its
arrival at a watcher; ms resolution) at p50 and p99, and events lost: every watcher's seq list
is compared with the store's (0 is the only right answer). Never asserted here;
tests/test_serve_load.py asserts the losses.

    python benchmarks/serve_load.py [--runs 200] [--watchers 50] [--steps 5] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOOLS = '''
import asyncio

from wfe import tool


@tool
async def step(i: int, delay: float, ctx) -> dict:
    ctx.log(f"step {i}")
    await asyncio.sleep(delay)
    return {"i": i + 1}
'''

WORKFLOW = """
name: load
imports: [load_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 5}
  delay: {type: float, default: 0.05}
nodes:
  step:
    tool: step
    next:
      - when: i < n
        then: step
      - then: end
"""


def prepare(folder: Path) -> Path:
    """The workflow and its tools in `folder`; returns the folder to serve."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "load_tools.py").write_text(textwrap.dedent(TOOLS))
    (folder / "load.yaml").write_text(textwrap.dedent(WORKFLOW))
    return folder


def start_server(folder: Path, store: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", "serve", str(folder), "--port", "0", "--store", str(store),
         "--no-token"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        cwd=folder)
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, found.group(1)
    raise RuntimeError("wfe serve did not start")


@dataclass
class Load:
    run_ids: list[str] = field(default_factory=list)
    #: (run id, [(seq, seconds from its ts to its arrival, None if replayed)]) per watcher
    watched: list[tuple[str, list[tuple[int, float | None]]]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


def _arrival(event: dict[str, Any], opened: float) -> tuple[int, float | None]:
    """(seq, seconds from the event's `ts` to now), the latter None for an event emitted
    before the watcher was connected (a replayed one, not a live one)."""
    stamped = datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()
    return event["seq"], (time.time() - stamped if stamped >= opened else None)


class Client:
    """A minimal HTTP/1.1 client on asyncio streams, one connection per request: httpx's pool
    spends seconds on 200 requests at once, which would measure the client, not the server."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        self.base, self.host, self.port = base, host, int(port)

    async def _open(self, method: str, path: str,
                    body: Any = None) -> tuple[asyncio.StreamReader, bool, Any]:
        """The response's stream after its headers, whether its body is chunked, and the
        writer (which closes the connection when it is collected)."""
        reader, writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode() if body is not None else b""
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nConnection: close\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                     .encode() + data)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        if status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {status}")
        chunked = False
        while header := (await reader.readline()).strip().lower():
            chunked = chunked or header == b"transfer-encoding: chunked"
        return reader, chunked, writer

    async def json(self, method: str, path: str, body: Any = None) -> Any:
        reader, chunked, writer = await self._open(method, path, body)
        try:
            if chunked:
                return json.loads(b"".join([chunk async for chunk in _chunks(reader)]))
            return json.loads(await reader.read())  # the connection closes after the body
        finally:
            writer.close()

    async def events(self, run_id: str) -> list[tuple[int, float | None]]:
        reader, _, writer = await self._open("GET", f"/runs/{run_id}/events")
        opened = time.time()
        seen, pending = [], b""
        async for chunk in _chunks(reader):
            pending += chunk
            *messages, pending = pending.split(b"\n\n")
            for message in messages:
                for line in message.split(b"\n"):
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        seen.append(_arrival(event, opened))
        writer.close()
        return seen


async def _chunks(reader: asyncio.StreamReader) -> Any:
    """The body of a chunked response, chunk by chunk."""
    while size := int((await reader.readline()).strip() or b"0", 16):
        yield (await reader.readexactly(size + 2))[:-2]


async def _watch_ws(base: str, run_id: str) -> list[tuple[int, float | None]]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosedOK

    seen = []
    async with connect(base.replace("http://", "ws://") + f"/runs/{run_id}/events") as socket:
        opened = time.time()
        try:
            async for message in socket:
                seen.append(_arrival(json.loads(message), opened))
        except ConnectionClosedOK:
            pass
    return seen


async def drive(base: str, runs: int, watchers: int, steps: int, delay: float) -> Load:
    """Start the runs at once, follow `watchers` of them, wait until every run finished."""
    load = Load()
    client = Client(base)

    async def start_and_watch(index: int) -> None:
        started = await client.json("POST", "/runs", {
            "workflow": "load", "inputs": {"n": steps, "delay": delay}})
        run_id = started["run_id"]
        load.run_ids.append(run_id)
        if index < watchers:
            follow = client.events(run_id) if index % 2 else _watch_ws(base, run_id)
            load.watched.append((run_id, await follow))

    began = time.perf_counter()
    await asyncio.gather(*(start_and_watch(i) for i in range(runs)))
    for run_id in load.run_ids:
        while (status := (await client.json("GET", f"/runs/{run_id}"))["status"]) == "running":
            await asyncio.sleep(0.05)
        load.statuses[run_id] = status
    load.elapsed = time.perf_counter() - began
    return load


def losses(load: Load, store_path: Path) -> int:
    """Events the watchers missed or got twice, against the store."""
    from wfe.store import Store

    lost = 0
    with Store.open(store_path) as store:
        for run_id, seen in load.watched:
            stored = [event["seq"] for event in store.events(run_id)]
            got = [seq for seq, _ in seen]
            lost += len(set(stored) - set(got)) + len(got) - len(set(got))
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=50)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = prepare(Path(temporary) / "workflows")
        store = Path(temporary) / "wfe.db"
        process, base = start_server(folder, store)
        try:
            load = asyncio.run(drive(base, args.runs, args.watchers, args.steps, args.delay))
        finally:
            process.terminate()
            process.wait(timeout=60)
        latencies = sorted(latency for _, seen in load.watched for _, latency in seen
                           if latency is not None)
        received = sum(len(seen) for _, seen in load.watched)
        succeeded = sum(status == "succeeded" for status in load.statuses.values())
        print(f"wfe serve, {args.runs} runs of {args.steps} steps ({args.delay * 1000:g} ms "
              f"each) started at once, {args.watchers} watchers (SSE and WebSocket)")
        print(f"  all finished in {load.elapsed:.2f} s: {args.runs / load.elapsed:.1f} runs/s, "
              f"{succeeded} succeeded")
        if latencies:
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"  live event latency (emitted -> at a watcher; {len(latencies)} of "
                  f"{received} events arrived live, the rest were replayed): "
                  f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        print(f"  events lost or repeated: {losses(load, store)}")


if __name__ == "__main__":
    main()
