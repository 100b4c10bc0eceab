"""Reaching a Dask cluster: connect to a scheduler or start a LocalCluster, and watch its health.

The Client is synchronous: Dask runs its own event loop in a thread of its own, so the engine's
loop never carries Dask's traffic, a sync tool running inline never stalls Dask's heartbeats, and
one executor can serve runs on several event loops (each `Workflow.run` has its own).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import dask
from distributed import Client, LocalCluster

from wfe.errors import ExecutorError

#: Seconds for the first connection to a scheduler.
CONNECT_TIMEOUT = 10.0
#: How often the health watch asks the scheduler for its workers.
HEALTH_POLL_SECONDS = 1.0
#: Dask settings of the LocalCluster wfe starts (its scheduler runs in the wfe process; on a
#: small machine every process shares the cores the tasks need):
#: - no queuing on the scheduler: each worker holds its next tasks already, so a finished one
#:   is followed at once rather than after a round trip to the scheduler;
#: - no statistical profiler in the workers (it samples the running task's stack every 10 ms
#:   for a dashboard nobody is shown) and the event loops' health check every second rather
#:   than every 20 ms: idle, the two cost ~90 ms of CPU a second, the workers' and the wfe
#:   process's together, on a 2-core machine.
LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": "inf",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}


def connect(address: str, origin: str) -> Client:
    """A client of the scheduler at `address` (`HOST:PORT`); ExecutorError when unreachable."""
    try:
        return Client(f"tcp://{address}", timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as error:
        raise ExecutorError(f"{origin}: cannot connect to the Dask scheduler at tcp://{address}: "
                            f"{type(error).__name__}: {error}") from None


def start_local(workers: int | None, threads: int | None, origin: str) -> tuple[Client, Any]:
    """A LocalCluster of worker processes (sized to the machine unless told) and its client."""
    try:
        with dask.config.set(LOCAL_CLUSTER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads,
                                   processes=True, dashboard_address=":0",
                                   silence_logs=logging.ERROR)
    except Exception as error:
        raise ExecutorError(f"{origin}: cannot start a Dask LocalCluster: "
                            f"{type(error).__name__}: {error}") from None
    try:
        return Client(cluster, set_as_default=False), cluster
    except BaseException:
        cluster.close()
        raise


def stop_local(cluster: Any) -> None:
    """Stop wfe's own LocalCluster at once: a worker may still be running a cancelled task that
    nobody wants, and Dask would give each such worker 4 s to finish it."""
    for nanny in list(cluster.workers.values()):
        with contextlib.suppress(Exception):
            cluster.sync(nanny.close, timeout=0.5)
    cluster.close()


def wait_for_workers(client: Client, address: str, seconds: float) -> None:
    try:
        client.wait_for_workers(1, timeout=seconds)
    except Exception:
        raise ExecutorError(f"the Dask scheduler at {address} has no workers "
                            f"(waited {seconds:g} s)") from None


class Health:
    """Watches, from a thread of its own, that the cluster has workers. `trouble()` says what is
    wrong once the scheduler has been unreachable, or without workers, for `timeout` seconds:
    a call waiting on such a cluster fails instead of hanging."""

    def __init__(self, client: Client, address: str, timeout: float) -> None:
        self.client = client
        self.address = address
        self.timeout = timeout
        self._healthy_at = time.monotonic()
        self._problem = "no workers"
        #: The cluster's worker threads when last asked (0: not known yet).
        self.threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="wfe-dask-health", daemon=True)
        self._thread.start()

    def trouble(self) -> str | None:
        silent = time.monotonic() - self._healthy_at
        if silent < self.timeout:
            return None
        return (f"the Dask cluster at {self.address} has had {self._problem} for {silent:.0f} s "
                f"(no_workers_timeout: {self.timeout:g} s)")

    def _watch(self) -> None:
        while True:  # at once, then every HEALTH_POLL_SECONDS
            self._look()
            if self._stop.wait(HEALTH_POLL_SECONDS):
                return

    def _look(self) -> None:
        try:
            threads = self.client.nthreads()
        except Exception as error:
            self._problem = f"an unreachable scheduler ({type(error).__name__}: {error})"
            return
        self.threads = sum(threads.values())
        if threads:
            self._healthy_at = time.monotonic()
        else:
            self._problem = "no workers"

    def stop(self) -> None:
        self._stop.set()
