"""The durable run store (SPEC section 5): runs, their steps and events in one SQLite file."""

from __future__ import annotations

from wfe.engine.events import RunStatus
from wfe.spec.project_config import durability_setting, store_path
from wfe.store.errors import (
    AmbiguousRun,
    LeaseLost,
    NotAStore,
    RunInUse,
    RunNotResumable,
    RunNotRunning,
    StepConflict,
    StoreBusy,
    StoreError,
    UnknownNode,
    UnknownRun,
    UnstorableValue,
)
from wfe.store.records import Checkpoint, Durability, Lease, NewRun, RunRecord, StepRecord
from wfe.store.store import Store

__all__ = [
    "AmbiguousRun",
    "Checkpoint",
    "Durability",
    "Lease",
    "LeaseLost",
    "NewRun",
    "NotAStore",
    "RunInUse",
    "RunNotResumable",
    "RunNotRunning",
    "RunRecord",
    "RunStatus",
    "StepConflict",
    "StepRecord",
    "Store",
    "StoreBusy",
    "StoreError",
    "UnknownNode",
    "UnknownRun",
    "UnstorableValue",
    "durability_setting",
    "store_path",
]
