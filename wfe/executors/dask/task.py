"""What a Dask worker runs for wfe: one call as a task, and the import check before a run.

A result fetched from a worker costs a round trip of its own (client to scheduler to worker and
back; for a LocalCluster the scheduler's half runs in the wfe process, on the CPU the workers
need). So the task also sends a small answer to the client as an event on the client's topic:
it travels in the batched messages that report the task finished anyway, and the client takes
it from there without fetching. A larger answer (or one whose event never came) is fetched as
the task's result (wfe.executors.dask.gather).

Workers import this module by reference. Importing it (in `check_on_worker`, before a run)
loads everything a task needs, so the first item does not pay for it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from distributed import get_worker

from wfe.executors.remote.worker import check_imports, run_call

#: The largest answer that is sent as an event. The scheduler keeps each topic's last 1000
#: events (`distributed.admin.low-level-log-length`) until the client has gone for an hour:
#: at most 16 MB, in the wfe process itself for the LocalCluster it starts.
EVENT_BYTES = 16 * 1024


def run_task(payload: bytes, topic: str) -> bytes:
    """One call (wfe.executors.remote.worker.run_call), its answer also sent to `topic` as
    `(task key, answer)` when it is small enough."""
    packed = run_call(payload)
    if len(packed) <= EVENT_BYTES:
        with contextlib.suppress(Exception):  # no event: the client fetches the result
            worker = get_worker()
            worker.log_event(topic, (worker.get_current_task(), packed))
    return packed


def run_chunk(payloads: list[bytes], topic: str) -> list[bytes]:
    """Calls sent as one task (wfe.executors.dask.submit), one after another; their answers,
    in order, also sent to `topic` together when they are small enough."""
    packed = [run_call(payload) for payload in payloads]
    if sum(map(len, packed)) <= EVENT_BYTES:
        with contextlib.suppress(Exception):  # no event: the client fetches the result
            worker = get_worker()
            worker.log_event(topic, (worker.get_current_task(), packed))
    return packed


def check_on_worker(tools: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """wfe.executors.remote.worker.check_imports, run where this module is then loaded."""
    return check_imports(tools)


def event_answer(event: Any) -> tuple[str, bytes | list[bytes]] | None:
    """(task key, answer) from an event on the client's topic (a chunk's answer: a list of
    them), None for the scheduler's own events there (a dict such as `{"action": ...}`)."""
    _, message = event
    if not (isinstance(message, (tuple, list)) and len(message) == 2
            and isinstance(message[0], str)):
        return None
    answer = message[1]
    if isinstance(answer, bytes) or (
            isinstance(answer, list) and all(isinstance(item, bytes) for item in answer)):
        return message[0], answer
    return None
