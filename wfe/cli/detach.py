"""`wfe run --detach`: the run goes on in its own background process; its id is printed at once.

The parent records the run (owned by the child's pid) before it returns, so `wfe logs ID` works
the moment the id is printed; the child takes the run over with the lease token it inherits.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from wfe.cli.run_options import RunOptions, open_store
from wfe.errors import UsageError
from wfe.ids import new_run_id
from wfe.store.errors import UnknownRun
from wfe.store.records import Lease

if TYPE_CHECKING:
    from wfe.api import Workflow
    from wfe.store import Store

TOKEN_VARIABLE = "WFE_LEASE_TOKEN"
ATTACH_WAIT_SECONDS = 10.0


def _child_arguments(options: RunOptions, run_id: str, store: Store) -> list[str]:
    args = [sys.executable, "-m", "wfe", "run", str(options.file),
            "--store", str(store.path), "--attach", run_id]
    for item in options.assignments:
        args += ["-i", item]
    if options.inputs_file is not None:
        args += ["--inputs", str(options.inputs_file)]
    for module in options.imports:
        args += ["--import", module]
    if options.output is not None:
        args += ["--output", str(options.output.resolve())]
    if options.durability is not None:
        args += ["--durability", options.durability]
    if options.no_cache:
        args.append("--no-cache")
    if options.executor is not None:
        args += ["--executor", options.executor]
    return args


def detach(options: RunOptions, workflow: Workflow, inputs: dict[str, Any],
           state: dict[str, Any]) -> int:
    if options.no_store:
        raise UsageError("--detach needs the store to report on the run; drop --no-store")

    with open_store(options.store, options.durability) as store:
        run_id = new_run_id()
        start_detached(options, workflow, inputs, state, store, run_id)
    sys.stdout.write(run_id + "\n")
    return 0


def start_detached(options: RunOptions, workflow: Workflow, inputs: dict[str, Any],
                   state: dict[str, Any], store: Store, run_id: str) -> None:
    """Start run `run_id` in its own background process, recorded in `store` (its output goes
    to `logs/RUN_ID.log` beside the store); `wfe schedule` starts its runs this way too."""
    # deferred: the journal imports sqlite3 and the store (~15 ms); `wfe run` imports this
    # module even for --dry-run
    from wfe.store.journal import new_run

    token = secrets.token_hex(16)
    log = store.path.parent / "logs" / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as stream:
        child = subprocess.Popen(
            _child_arguments(options, run_id, store),
            stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
            start_new_session=True, env={**os.environ, TOKEN_VARIABLE: token},
        )
    store.create_run(new_run(workflow.graph, run_id, inputs, state),
                     owner_pid=child.pid, token=token)


def attached_lease(store: Store, run_id: str) -> Lease:
    """The lease a detached child inherits, once its parent has recorded the run."""
    token = os.environ.pop(TOKEN_VARIABLE, None)
    if not token:
        raise UsageError("--attach is for the background process of `wfe run --detach`")
    deadline = time.monotonic() + ATTACH_WAIT_SECONDS
    while True:
        try:
            store.get_run(run_id)
            return Lease(run_id, token)
        except UnknownRun:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
