"""The durable run store (SPEC section 5): runs, their steps and events in one SQLite file.

The names below are the package's public face. They load on first use, so that reading the
errors, or the settings re-exported from `wfe.spec.project_config`, does not import sqlite3 and
the store (~15 ms of `wfe run --dry-run`'s start-up).
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.engine.events import RunStatus as RunStatus
    from wfe.spec.project_config import durability_setting as durability_setting
    from wfe.spec.project_config import store_path as store_path
    from wfe.store.errors import AmbiguousRun as AmbiguousRun
    from wfe.store.errors import LeaseLost as LeaseLost
    from wfe.store.errors import NotAStore as NotAStore
    from wfe.store.errors import RunInUse as RunInUse
    from wfe.store.errors import RunNotResumable as RunNotResumable
    from wfe.store.errors import RunNotRunning as RunNotRunning
    from wfe.store.errors import StepConflict as StepConflict
    from wfe.store.errors import StoreBusy as StoreBusy
    from wfe.store.errors import StoreError as StoreError
    from wfe.store.errors import UnknownNode as UnknownNode
    from wfe.store.errors import UnknownRun as UnknownRun
    from wfe.store.errors import UnstorableValue as UnstorableValue
    from wfe.store.records import Checkpoint as Checkpoint
    from wfe.store.records import Durability as Durability
    from wfe.store.records import Lease as Lease
    from wfe.store.records import NewRun as NewRun
    from wfe.store.records import RunRecord as RunRecord
    from wfe.store.records import StepRecord as StepRecord
    from wfe.store.store import Store as Store

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

_WHERE = {
    "AmbiguousRun": "wfe.store.errors",
    "Checkpoint": "wfe.store.records",
    "Durability": "wfe.store.records",
    "durability_setting": "wfe.spec.project_config",
    "Lease": "wfe.store.records",
    "LeaseLost": "wfe.store.errors",
    "NewRun": "wfe.store.records",
    "NotAStore": "wfe.store.errors",
    "RunInUse": "wfe.store.errors",
    "RunNotResumable": "wfe.store.errors",
    "RunNotRunning": "wfe.store.errors",
    "RunRecord": "wfe.store.records",
    "RunStatus": "wfe.engine.events",
    "StepConflict": "wfe.store.errors",
    "StepRecord": "wfe.store.records",
    "Store": "wfe.store.store",
    "store_path": "wfe.spec.project_config",
    "StoreBusy": "wfe.store.errors",
    "StoreError": "wfe.store.errors",
    "UnknownNode": "wfe.store.errors",
    "UnknownRun": "wfe.store.errors",
    "UnstorableValue": "wfe.store.errors",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
