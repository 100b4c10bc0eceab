"""Tools for tests/test_dask_executor.py: written beside each test's workflow, and imported by
the LocalCluster's workers through the sys.path wfe shares with them."""

from wfe import log, tool
import asyncio, os, pathlib, signal, threading, time

class Refused(Exception):
    pass

class Stubborn(Exception):
    def __init__(self, why):
        super().__init__(why)
        self.lock = threading.Lock()  # cannot be pickled: a stand-in travels back instead

def wait_for(path: str, started: str = "") -> None:
    if started:
        pathlib.Path(started, f"{os.getpid()}-{time.monotonic_ns()}").write_text("")
    deadline = time.monotonic() + 30  # never hold a worker's only thread for long
    while not pathlib.Path(path).exists() and time.monotonic() < deadline:
        time.sleep(0.02)

@tool
def square(x: int) -> dict:
    return {"square": x * x, "where": os.getpid()}

@tool
def repeat(x: int, n: int) -> str:
    return str(x) * n

@tool
def double(x: int) -> int:
    return 2 * x

@tool
def left(n: int) -> dict:
    return {"a": n + 1}

@tool
def right(n: int) -> dict:
    return {"b": n + 2}

@tool
def measure(x: int) -> dict:
    return {"m": x * 3}

@tool
def smell(x: int) -> dict:
    return {"s": -x}

@tool
def combine(m: int, s: int, state) -> dict:
    state["note"] = f"{m}/{s}"
    return {"review": {"m": m, "s": s}}

@tool
async def later(x: int) -> int:
    await asyncio.sleep(0.01)
    return x + 1

@tool
def tell(x: int, ctx) -> dict:
    log(f"item {x}")
    ctx.log(f"attempt {ctx.attempt}")
    return {"run_id": ctx.run_id, "node": ctx.node, "step": ctx.step, "attempt": ctx.attempt,
            "key": ctx.idempotency_key}

@tool
def flaky(x: int, marks: str) -> int:
    mark = pathlib.Path(marks, f"flaky-{x}")
    if not mark.exists():
        mark.write_text("")
        raise ValueError(f"first try of {x}")
    return x

@tool
def refuse(x: int) -> int:
    raise Refused(f"no {x}")

@tool
def stubborn(x: int) -> int:
    raise Stubborn(f"never {x}")

@tool
def lock(x: int) -> dict:
    return {"thing": threading.Lock(), "fine": x}

@tool
def hold(x: int, release: str, started: str) -> int:
    wait_for(release, started)
    return x

@tool
def fail_soon(x: int, release: str, started: str) -> int:
    if x == 0:
        while not any(pathlib.Path(started).iterdir()):
            time.sleep(0.02)
        raise RuntimeError("item 0 failed")
    wait_for(release, started)
    return x

@tool
def die_once(x: int, marks: str) -> int:
    mark = pathlib.Path(marks, f"died-{x}")
    if not mark.exists():
        mark.write_text("")
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-item
    return x
