"""The run manager and the event streams of `wfe serve`, without HTTP: runs as tasks, cancelled
at any moment, and watchers that fall behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from serve_support import write_served

from wfe.serve import hub
from wfe.serve.catalog import Catalog
from wfe.serve.reader import StoreReader
from wfe.serve.runs import RunManager
from wfe.serve.watch import RunEvents
from wfe.store import Store

HANG_GUARD = 60.0


async def with_manager(root: Path, scenario: Any) -> Any:
    served = write_served(root)
    path = root / "wfe.db"
    store = Store.open(path)
    reader = StoreReader(path, "normal", 2)
    manager = RunManager(store, Catalog([served], root / "posted", []), reader)
    try:
        return await asyncio.wait_for(scenario(manager, store), HANG_GUARD)
    finally:
        await manager.shutdown()
        reader.close()
        store.close()


async def until_done(manager: RunManager, run_id: str) -> None:
    while run_id in manager.active:
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_a_run_cancelled_at_any_moment_is_stored_as_cancelled(tmp_path: Path,
                                                              delay: float) -> None:
    async def scenario(manager: RunManager, store: Store) -> tuple[str, bool, bool]:
        run_id = await manager.start("counter", {"n": 1000, "delay": 0.01})
        if delay:
            await asyncio.sleep(delay)
        await manager.cancel(run_id)  # with no delay: before the run's task ever ran
        await until_done(manager, run_id)
        return store.get_run(run_id).status, bool(manager.active), bool(store.events(run_id))

    status, active, ran = asyncio.run(with_manager(tmp_path, scenario))
    assert (status, active, ran) == ("cancelled", False, bool(delay))


def test_shutdown_stores_every_run_in_flight_as_interrupted(tmp_path: Path) -> None:
    async def scenario(manager: RunManager, store: Store) -> list[str]:
        runs = [await manager.start("counter", {"n": 1000, "delay": 0.01}) for _ in range(3)]
        await asyncio.sleep(0.05)
        await manager.shutdown()
        await asyncio.sleep(0)  # the tasks' done callbacks
        return [store.get_run(run_id).status for run_id in runs]

    assert asyncio.run(with_manager(tmp_path, scenario)) == ["interrupted"] * 3


def test_a_watcher_that_keeps_falling_behind_still_gets_every_event_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(hub, "WATCHER_BUFFER", 2)
    monkeypatch.setattr(hub, "RECENT_EVENTS", 3)

    async def scenario(manager: RunManager, store: Store) -> tuple[list[int], list[int]]:
        run_id = await manager.start("counter", {"n": 40})
        seen = []
        async for event in RunEvents(run_id, 0, manager, manager.reader):
            if event is not None:
                seen.append(event["seq"])
                await asyncio.sleep(0.005)  # slower than the run
        return seen, [event["seq"] for event in store.events(run_id)]

    with caplog.at_level("INFO", logger="wfe.serve"):
        seen, stored = asyncio.run(with_manager(tmp_path, scenario))
    assert seen == stored == list(range(1, len(stored) + 1))
    assert "fell behind" in caplog.text


@pytest.mark.parametrize("after", [0, 5, 10_000])
def test_a_watcher_starts_after_the_seq_it_asks_for(tmp_path: Path, after: int) -> None:
    async def scenario(manager: RunManager, store: Store) -> tuple[list[int], list[int]]:
        run_id = await manager.start("counter", {"n": 5, "delay": 0.01})
        seen = [event["seq"] async for event in RunEvents(run_id, after, manager,
                                                           manager.reader) if event]
        return seen, [e["seq"] for e in store.events(run_id) if e["seq"] > after]

    seen, stored = asyncio.run(with_manager(tmp_path, scenario))
    assert seen == stored
