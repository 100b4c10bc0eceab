"""Process entry points for the store's multi-process tests (importable by `spawn` children)."""

from __future__ import annotations

import time
from multiprocessing.synchronize import Barrier
from typing import Any

from wfe.store import Checkpoint, NewRun, RunInUse, Store


def claim_once(path: str, run_id: str, start: Barrier, done: Barrier, results: Any) -> None:
    """Claim the run when every racer is ready; stay alive until every racer has tried."""
    with Store.open(path) as store:
        start.wait()
        try:
            store.claim(run_id)
            results.put("won")
        except RunInUse:
            results.put("in use")
        done.wait()


def run_many(path: str, worker: int, runs: int, steps: int, results: Any) -> None:
    """`runs` runs of `steps` checkpoints each, with their events; reports what it finished."""
    errors: list[str] = []
    finished = 0
    with Store.open(path) as store:
        for number in range(runs):
            run_id = f"w{worker:02d}r{number:03d}"
            try:
                _one_run(store, run_id, steps)
                finished += 1
            except Exception as error:
                errors.append(f"{run_id}: {type(error).__name__}: {error}")
    results.put((worker, finished, errors))


def _one_run(store: Store, run_id: str, steps: int) -> None:
    run = NewRun(run_id, "load", "/load.yaml", "0" * 64, b"nodes: {}", {"n": steps},
                 {"i": 0}, "step")
    lease = store.create_run(run)
    for step in range(1, steps + 1):
        store.add_events(lease, [{"event": "node_started", "run_id": run_id, "ts": "t",
                                  "seq": step, "node": "step", "step": step, "attempt": 1}])
        state = {"i": step, "payload": "x" * 200}
        store.checkpoint(lease, Checkpoint(step, "step", 1, time.time(), 0.1, "succeeded",
                                           {"i": step}, None, state, {"step": step},
                                           "step" if step < steps else "end"))
    store.finish(lease, "succeeded", state={"i": steps})
