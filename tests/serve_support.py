"""Workflows, tools and clients shared by the `wfe serve` tests (not a test module itself)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Generous guards against a hang; nothing is asserted about time.
HANG_GUARD = 60.0
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "waiting", "interrupted"})

TOOLS = '''
import asyncio
import pathlib
import time

from wfe import tool


@tool
async def tick(i: int, delay: float, ctx, pad: int = 0) -> dict:
    """Count one up after a pause, logging on the way (`pad` more characters of log, in lines of
    at most 4,000: a log message is cut past 4 KB)."""
    ctx.log(f"tick {i} " + "." * min(pad, 4000))
    for start in range(4000, pad, 4000):
        ctx.log("." * min(4000, pad - start))
    await asyncio.sleep(delay)
    return {"i": i + 1}


@tool
def wait_for_file(release: str) -> dict:
    """A sync tool that blocks its thread until `release` exists."""
    deadline = time.monotonic() + 120
    while not pathlib.Path(release).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.01)
    return {"released": True}
'''

COUNTER = """
name: counter
description: Count to n, one tick at a time.
imports: [serve_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 3}
  delay: {type: float, default: 0.0}
  pad: {type: int, default: 0}
nodes:
  tick:
    tool: tick
    next:
      - when: i < n
        then: tick
      - then: end
"""

APPROVAL = """
name: approval
imports: [serve_tools]
state:
  i: {type: int, default: 0}
  delay: {type: float, default: 0.0}
  approved: bool
nodes:
  tick: {tool: tick, next: approve}
  approve:
    interrupt: {message: Ship it?, expects: {approved: bool}}
    next:
      - {when: approved, then: again}
      - then: end
  again: {tool: tick}
"""

BLOCKING = """
name: blocking
imports: [serve_tools]
state:
  release: {type: str, required: true}
  released: {type: bool, default: false}
nodes:
  wait: {tool: wait_for_file}
"""


def write_served(root: Path) -> Path:
    """A `workflows/` folder under root with the tool module and the workflows above."""
    folder = root / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "serve_tools.py").write_text(textwrap.dedent(TOOLS))
    for name, text in (("counter", COUNTER), ("approval", APPROVAL), ("blocking", BLOCKING)):
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text))
    return folder


def wait_for_status(client: httpx.Client, run_id: str, wanted: frozenset[str] = TERMINAL,
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + HANG_GUARD
    while True:
        document: dict[str, Any] = client.get(f"/runs/{run_id}", headers=headers).json()
        if document.get("status") in wanted:
            return document
        assert time.monotonic() < deadline, f"run {run_id} stayed {document.get('status')}"
        time.sleep(0.02)


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Each message of an event stream: {"id", "event", "data"} (data decoded)."""
    message: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in message:
                message["data"] = json.loads(message["data"])
                yield message
            message = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            message[key] = value


def sse_events(base: str, run_id: str, after: int = 0, headers: dict[str, str] | None = None,
               pause: float = 0.0) -> list[dict[str, Any]]:
    """The whole event stream of a run (its `data` documents); `pause` before reading any."""
    url = f"{base}/runs/{run_id}/events"
    with httpx.stream("GET", url, params={"after": after}, headers=headers,
                      timeout=HANG_GUARD) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        if pause:
            time.sleep(pause)
        events = []
        for message in parse_sse(response.iter_lines()):
            assert int(message["id"]) == message["data"]["seq"]
            assert message["event"] == message["data"]["event"]
            events.append(message["data"])
        return events


def slow_sse_events(base: str, run_id: str, until: threading.Event) -> list[dict[str, Any]]:
    """A watcher with a tiny receive buffer that reads nothing until `until` is set."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(HANG_GUARD)
        sock.connect((host, int(port)))
        sock.sendall(f"GET /runs/{run_id}/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        assert until.wait(HANG_GUARD)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
            if received.endswith(b"\r\n0\r\n\r\n"):  # the last chunk of the body
                break
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    return [message["data"] for message in parse_sse(iter(_dechunk(body).split("\n")))]


def _dechunk(body: bytes) -> str:
    text = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        text += rest[:size]
        body = rest[size + 2:]
    return text.decode()


def ws_events(base: str, run_id: str, after: int = 0,
              headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    from websockets.exceptions import ConnectionClosedOK
    from websockets.sync.client import connect

    url = base.replace("http://", "ws://") + f"/runs/{run_id}/events?after={after}"
    events = []
    with connect(url, additional_headers=headers, open_timeout=HANG_GUARD) as socket:
        try:
            while True:
                events.append(json.loads(socket.recv(timeout=HANG_GUARD)))
        except ConnectionClosedOK:
            pass
    return events


@dataclass
class ServerProcess:
    """`wfe serve --port 0` in a subprocess; `url` once it listens; `log()` all it printed."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return httpx.Client(base_url=self.url, headers=headers, timeout=HANG_GUARD)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=HANG_GUARD)

    def log(self) -> str:
        return "".join(self.output)


def start_server(cwd: Path, *args: str, env: dict[str, str] | None = None,
                 own_token: bool = False) -> ServerProcess:
    """Start `wfe serve --port 0 ARGS` in `cwd` and wait until it prints where it listens.
    Without `--token` or WFE_TOKEN it gets `--no-token`, unless `own_token` (its made-up one)."""
    given = "--token" in args or "--no-token" in args or "WFE_TOKEN" in (env or {})
    opt_out = () if given or own_token else ("--no-token",)
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", "serve", "--port", "0", *opt_out, *args], cwd=cwd,
        env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)  # the log is both: uvicorn's access log is stdout
    output: list[str] = []
    found = threading.Event()
    address: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = re.search(r"listening on (http://\S+)", line)
            if match and not found.is_set():
                address.append(match.group(1))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(HANG_GUARD) or not address:
        process.kill()
        raise AssertionError("wfe serve did not start:\n" + "".join(output))
    return ServerProcess(process, address[0], output)
