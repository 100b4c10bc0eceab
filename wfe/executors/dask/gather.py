"""Answers of Dask tasks: taken from the client's event topic, else fetched in batches.

A Dask future's result is fetched with a round trip of its own (`client.gather`: client to
scheduler to worker and back). With many calls in flight that round trip, through the scheduler
that a LocalCluster runs in the wfe process itself, cost more than the task: profiled with 400
no-op calls, 0.6-0.8 ms of the wfe process's CPU and as much of the workers' per call. So a task
sends a small answer as an event (wfe.executors.dask.task), which arrives before Dask reports
the task finished, and nothing is fetched. What has no event by then (a large answer) is fetched,
every such call that finished in the same turn of Dask's loop with one `gather`; a task that
failed in Dask (a lost worker, a cancellation) is fetched alone, so that its error reaches its
own call only.

A task's future is released here, once Dask has reported the task finished: released while
the task still runs (as soon as its event came), the scheduler cancels it on its worker and
the worker reports back, three more messages per call, handled beside the next running task
(profiled: ~2.5 ms of CPU per call in all, as much as everything else the call cost). And the
futures of the tasks that finish within RELEASE_SECONDS are released together: one message to
the scheduler and one to each worker, instead of one each per call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from distributed import Client, Future

from wfe.executors.dask.task import event_answer

Answer = concurrent.futures.Future[Any]

#: How long an answered task's result may stay on its worker, so that releases go together.
RELEASE_SECONDS = 0.1


class BatchedGather:
    """Hands each watched task's answer to a concurrent future, from Dask's loop."""

    def __init__(self, client: Client, dask_loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = dask_loop
        # By task key, from `expect` until settled; set and popped from different threads,
        # each a single dict operation.
        self._expected: dict[str, Answer] = {}
        self._finished: list[tuple[Future[Any], Answer]] = []
        self._answered: list[Future[Any]] = []

    @property
    def topic(self) -> str:
        """Where tasks send their answers: the client's own topic, which the scheduler empties
        once the client has gone (`distributed.scheduler.events-cleanup-delay`)."""
        return str(self.client.id)

    def listen(self) -> None:
        self.client.subscribe_topic(self.topic, self._on_event)

    def stop_listening(self) -> None:
        """Before the client closes: else the scheduler's event that the client left is sent
        to it after it has gone (and logged as an error)."""
        self.client.unsubscribe_topic(self.topic)

    def expect(self, key: str, answer: Answer) -> None:
        """Before the task is submitted: its event, however soon it comes, settles `answer`."""
        self._expected[key] = answer

    def forget(self, key: str) -> None:
        self._expected.pop(key, None)

    def _on_event(self, event: Any) -> None:
        found = event_answer(event)
        if found is not None:
            answer = self._expected.pop(found[0], None)
            if answer is not None:
                settle(answer, found[1], None)

    def watch(self, future: Future[Any], answer: Answer) -> None:
        """Set `answer` once the task has finished, if its event has not: to the task's result,
        or its error."""
        self.loop.call_soon_threadsafe(self._watch, future, answer)

    def _watch(self, future: Future[Any], answer: Answer) -> None:
        self.loop.create_task(self._when_done(future, answer))

    async def _when_done(self, future: Future[Any], answer: Answer) -> None:
        # As distributed's own `done_callback` waits: on the future's state, no polling.
        state = future._state
        while state is not None and future.status == "pending":
            await state.wait()
        if answer.done():  # its event came, or its call stopped waiting
            self.forget(str(future.key))
            self._release(future)
            return
        self._finished.append((future, answer))
        if len(self._finished) == 1:  # the first of this turn: fetch them all at its end
            self.loop.call_soon(lambda: self.loop.create_task(self._fetch()))

    async def _fetch(self) -> None:
        batch, self._finished = self._finished, []
        for future, _ in batch:
            self.forget(str(future.key))
        batch = [(future, answer) for future, answer in batch if not answer.done()]
        ready = [entry for entry in batch if entry[0].status == "finished"]
        if ready:
            try:
                values = await self.client.gather([future for future, _ in ready],
                                                  asynchronous=True)
            except Exception:
                values = None  # one of them went meanwhile: each on its own below
            if values is not None:
                for (future, answer), value in zip(ready, values, strict=True):
                    settle(answer, value, None)
                    self._release(future)
                batch = [entry for entry in batch if entry not in ready]
        for future, answer in batch:
            try:
                value = (await self.client.gather([future], asynchronous=True))[0]
            except BaseException as error:  # a cancelled task too: the waiting call gets it
                settle(answer, None, error)
            else:
                settle(answer, value, None)
            self._release(future)

    def _release(self, future: Future[Any]) -> None:
        self._answered.append(future)
        if len(self._answered) == 1:
            self.loop.call_later(RELEASE_SECONDS, self._release_answered)

    def _release_answered(self) -> None:
        answered, self._answered = self._answered, []
        for future in answered:
            future.release()


def settle(answer: Answer, value: Any, error: BaseException | None) -> None:
    """Set `answer` to a value or an error, unless it is settled or no longer waited for."""
    if answer.done() or not answer.set_running_or_notify_cancel():
        return  # settled already (its event, then its result), or the call stopped waiting
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(value)
