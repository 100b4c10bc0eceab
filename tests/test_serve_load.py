"""`wfe serve` under load on loopback: 200 runs started at once and 50 watchers (half SSE, half
WebSocket) lose no event: each watcher's seq list is the store's. The load is driven by
benchmarks/serve_load.py, which prints the figures of the same scenario."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

from wfe.store import Store

RUNS, WATCHERS, STEPS = 200, 50, 5


def load_driver() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "serve_load.py"
    spec = importlib.util.spec_from_file_location("serve_load", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["serve_load"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_200_concurrent_runs_and_50_watchers_lose_no_event(tmp_path: Path) -> None:
    driver = load_driver()
    folder = driver.prepare(tmp_path / "workflows")
    store = tmp_path / "wfe.db"
    process, base = driver.start_server(folder, store)
    try:
        load = asyncio.run(asyncio.wait_for(
            driver.drive(base, RUNS, WATCHERS, STEPS, 0.05), timeout=240))
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert len(load.run_ids) == RUNS
    assert set(load.statuses.values()) == {"succeeded"}
    assert len(load.watched) == WATCHERS
    with Store.open(store) as opened:
        for run_id, seen in load.watched:
            stored = [event["seq"] for event in opened.events(run_id)]
            assert [seq for seq, _ in seen] == stored, run_id
            assert stored == list(range(1, 4 * STEPS + 3))
