"""ProcessExecutor (`isolation: process`): each tool call in a worker process that can be killed.

A thread cannot be stopped, so `isolation: thread` makes a timeout soft. Here every call gets a
fresh process; when the timeout passes, or the call is cancelled (Ctrl-C, a failed sibling, a
`join: any` that is already met), its process group gets SIGTERM and, 0.2 s later, SIGKILL (the
child leads a group of its own, so whatever the tool started with `subprocess` ends too). Once
the child is gone, whatever is left of its group is killed and waited for, after a call that
returned too (wfe.executors.process_group): nothing a call started outlives it.

The process comes from multiprocessing's "forkserver" context: a server process, started once and
preloaded with this module, forks a clean child per call. Forking the engine itself is unsafe (it
has threads), and "spawn" starts a new interpreter each time. Measured per-call overhead on a
2-CPU Linux box (Python 3.11, a trivial sync tool, end to end through `ProcessExecutor.call`):
forkserver ~12 ms (about 2.5 ms of it on the event loop, while the server forks; plus ~0.15 s
once, to start the server; ~15 ms a step under `wfe run`), spawn ~120 ms, a worker thread
~0.15 ms. Like any multiprocessing child, a worker first re-runs the program's main script, so a
script that runs a workflow must guard that with `if __name__ == "__main__":`, and its top level
costs time on every call.

The call travels as a cluster's does (wfe.executors.remote.payload: the tool by reference, each
argument
pickled apart, the answer an Outcome, a tool's exception a wfe.engine.remote_error report) and
runs
through the same code (wfe.executors.remote.worker), over a socket pair, in frames. The child
imports the
tool with the parent's sys.path (the tool module's own folder first), environment and working
directory. `wfe.log`/`ctx.log` calls in the child, and the lines the tool prints (see
wfe.tools.context), travel the same way and become `log` events as they arrive; what reaches the
child's file descriptor 1 goes to its stderr, never the parent's stdout. A child whose parent
dies sees its socket close and exits. POSIX only (process groups, signals, a selector event
loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import sys
import threading
from collections.abc import Collection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.executors.process_group import end_group, kill_group
from wfe.executors.remote.payload import Outcome, pack_call, pickled_function, unpack_outcome
from wfe.executors.remote.worker import Refused, load_call, pack_outcome, run_loaded
from wfe.tools.context import StepInfo, begin_output, end_output

if TYPE_CHECKING:
    from wfe.tools.registry import ToolDef

if sys.platform == "win32":
    raise ImportError("isolation: process needs a POSIX system (process groups and signals)")

#: Seconds between SIGTERM and SIGKILL, and the longest wait for a finished child to exit.
GRACE = 0.2
_FRAME = struct.Struct("!Q")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_context = multiprocessing.get_context("forkserver")
# A child re-runs the program's main script (multiprocessing does that, and Python 3.11 ignores
# the "__main__" preload); what that script imports is cheap once the server holds it.
_context.set_forkserver_preload(
    [__name__, *(name for name in ("wfe.cli", "pytest") if name in sys.modules)])


#: How the messages of errors name where a call runs.
DESTINATION = "a worker process"


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    """What the child needs besides the call itself (a packed
    wfe.executors.remote.payload.RemoteCall)."""

    call: bytes
    root: str | None
    sys_path: list[str]
    environ: dict[str, str]


# --- the parent side ---------------------------------------------------------------------------

class ProcessExecutor:
    """A fresh worker process per call (see the module docstring); an `Executor`."""

    allows_inline = False

    def isolated(self) -> ProcessExecutor:
        return self

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, step: StepInfo
    ) -> Any:
        return await call_in_process(tool, kwargs, timeout, step)

    def check(self, tools: Collection[ToolDef]) -> None:
        return None  # a worker imports with this process's sys.path: what imports here does there

    def close(self) -> None:
        return None  # every worker ends with its call


_process_executor = ProcessExecutor()


def process_executor() -> ProcessExecutor:
    """The process executor the local one hands `isolation: process` nodes to."""
    return _process_executor


async def call_in_process(
    tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, step: StepInfo
) -> Any:
    """Call `tool` in a new worker process; kill it on timeout or cancellation."""
    job = pickle.dumps(make_job(tool, kwargs, step), _PROTOCOL)
    process, sock = _start(tool)
    deadline = asyncio.timeout(timeout)
    linger = 0.0  # how long the child may take to exit on its own: none unless it finished
    try:
        async with deadline:
            packed = await _exchange(sock, job, tool, process, step.copy())
        linger = GRACE
    except TimeoutError:
        if deadline.expired():
            raise TimeoutError(
                f"timed out after {timeout:g} s; the worker process was killed") from None
        raise
    finally:
        sock.close()
        await stop(process, linger)
    return unpack_outcome(packed, kwargs, step)


def _start(tool: ToolDef) -> tuple[BaseProcess, socket.socket]:
    parent_end, child_end = socket.socketpair()
    process = _context.Process(target=child_main, args=(child_end,), daemon=True,
                               name=f"wfe-{tool.name}")
    try:
        process.start()
    except Exception as error:
        parent_end.close()
        raise RuntimeError(f"isolation: process: cannot start a worker process for tool "
                           f"'{tool.name}': {type(error).__name__}: {error}") from error
    finally:
        child_end.close()
    return process, parent_end


def make_job(tool: ToolDef, kwargs: dict[str, Any], step: StepInfo) -> Job:
    module = getattr(tool.fn, "__module__", None)
    qualname = getattr(tool.fn, "__qualname__", "")
    if not module or not qualname or "<" in qualname:
        raise TypeError(f"isolation: process: tool '{tool.name}' must be a module-level "
                        f"function for a worker process to import it (it is {qualname or '?'})")
    function = pickled_function(tool, DESTINATION, main_by_value=False)
    return Job(pack_call(tool, function, kwargs, step, DESTINATION), _root(module),
               list(sys.path), dict(os.environ))


def _root(module: str) -> str | None:
    """The folder the parent imported `module` from, so that the child finds the same file."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None or module == "__main__":
        return None
    path = Path(file)
    stem = path.parent if path.name == "__init__.py" else path.with_suffix("")
    parts = module.split(".")
    if list(stem.parts[-len(parts):]) != parts:
        return None
    return str(stem.parents[len(parts) - 1])


async def _exchange(
    sock: socket.socket, job: bytes, tool: ToolDef, process: BaseProcess, step: StepInfo
) -> bytes:
    """Send the job and relay log frames until the packed Outcome comes."""
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        writer.write(_FRAME.pack(len(job)) + job)
        await writer.drain()
        while True:
            try:
                size = _FRAME.unpack(await reader.readexactly(_FRAME.size))[0]
                kind, *body = pickle.loads(await reader.readexactly(size))
            except (asyncio.IncompleteReadError, ConnectionError):
                await wait_for_exit(process, GRACE)
                raise RuntimeError(f"isolation: process: the worker process of tool "
                                   f"'{tool.name}' {_ending(process)} without a result") from None
            if kind == "log":
                step.log(*body)
            else:
                return body[0]  # type: ignore[no-any-return]
    finally:
        writer.transport.abort()  # nothing left worth flushing; frees the socket at once


def _ending(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


async def wait_for_exit(process: BaseProcess, seconds: float) -> bool:
    """Wait (without blocking the loop) up to `seconds` for the process to end; reap it."""
    if process.exitcode is not None:
        return True
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(process.sentinel, readable)
    try:
        await asyncio.wait([ended], timeout=seconds)
    finally:
        loop.remove_reader(process.sentinel)
    if ended.done():
        process.join(GRACE)  # the sentinel closes a moment before the process can be reaped
    return process.exitcode is not None


async def stop(process: BaseProcess, linger: float = 0.0) -> None:
    """End the process: wait `linger` s for it to exit, then SIGTERM, and SIGKILL after GRACE;
    then whatever is left of its group (what the tool started) is killed and waited for."""
    group = process.pid
    try:
        if not await wait_for_exit(process, linger):
            _signal(process, signal.SIGTERM)
            if not await wait_for_exit(process, GRACE):
                _signal(process, signal.SIGKILL)
                await wait_for_exit(process, 5.0)
    except BaseException:
        _signal(process, signal.SIGKILL)  # cancelled while stopping: never leave it running
        if group is not None:
            kill_group(group)
        raise
    finally:
        if process.exitcode is not None:
            process.close()
    await end_group(group)


def _signal(process: BaseProcess, sig: signal.Signals) -> None:
    """Signal the child's process group (so its own subprocesses end too), else the child."""
    if process.exitcode is not None or process.pid is None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:  # the child has not made its group yet
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)


# --- the child side ----------------------------------------------------------------------------

class _Channel:
    """Length-prefixed pickles over the child's blocking socket; sends may come from threads."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def receive(self) -> Any:
        size = _FRAME.unpack(self._exactly(_FRAME.size))[0]
        return pickle.loads(self._exactly(size))

    def _exactly(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self.sock.recv(size - len(chunks))
            if not chunk:
                raise EOFError("the parent closed the connection")
            chunks += chunk
        return bytes(chunks)

    def send(self, *message: Any) -> None:
        data = pickle.dumps(message, _PROTOCOL)
        with self.lock:
            self.sock.sendall(_FRAME.pack(len(data)) + data)


def child_main(sock: socket.socket) -> None:
    """The worker process: receive one job, run it, send back its outcome."""
    os.setpgrp()  # a group of its own: a kill reaches whatever the tool starts, too
    # The parent's stdout carries its events or final state: what the tool's subprocesses or C
    # code write to file descriptor 1 goes to stderr instead (its Python text becomes log lines).
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a call ends
    channel = _Channel(sock)
    try:
        job: Job = channel.receive()
    except (EOFError, OSError):
        return  # cancelled before it began
    threading.Thread(target=_exit_with_parent, args=(sock,), daemon=True).start()
    outcome = _run(job, channel)
    _flush()
    with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
        channel.send("outcome", outcome)


def _flush() -> None:
    # Once the parent has the outcome it may close the socket, and the child exits at once.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _exit_with_parent(sock: socket.socket) -> None:
    try:
        sock.recv(1)  # the parent never sends more: this returns when its end closes
    finally:
        os._exit(1)


def _run(job: Job, channel: _Channel) -> bytes:
    """The packed Outcome of the call: its result, or why it failed or could not run."""
    os.environ.clear()
    os.environ.update(job.environ)
    sys.path[:] = job.sys_path
    if job.root is not None and sys.path[:1] != [job.root]:
        sys.path.insert(0, job.root)
    where = f"the worker process (pid {os.getpid()})"
    try:
        call, fn, kwargs = load_call(job.call, where)
    except Refused as refused:
        return pickle.dumps(Outcome([], unsendable=str(refused)), _PROTOCOL)
    step = StepInfo(call.step[0], lambda _node, *line: channel.send("log", *line))
    printing = begin_output(step)
    try:
        outcome = run_loaded(call, fn, kwargs, step)
    finally:
        end_output(printing, step)
    return pack_outcome(call, outcome, where)

