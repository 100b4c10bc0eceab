"""The run loop: picks the next node, runs it through a RunContext, emits events.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.engine.events import EventBus as EventBus
    from wfe.engine.events import LogListener as LogListener
    from wfe.engine.events import iso_timestamp as iso_timestamp
    from wfe.engine.journal import AttemptCutShort as AttemptCutShort
    from wfe.engine.journal import Attempts as Attempts
    from wfe.engine.journal import Committed as Committed
    from wfe.engine.journal import Cursor as Cursor
    from wfe.engine.journal import FinishedItems as FinishedItems
    from wfe.engine.journal import ItemDone as ItemDone
    from wfe.engine.journal import Journal as Journal
    from wfe.engine.journal import StepDone as StepDone
    from wfe.engine.loop import Asker as Asker
    from wfe.engine.loop import Engine as Engine
    from wfe.engine.loop import RunResult as RunResult
    from wfe.engine.loop import Scope as Scope
    from wfe.engine.loop import ToolFailure as ToolFailure
    from wfe.engine.memory_journal import MemoryJournal as MemoryJournal

__all__ = [
    "Asker",
    "AttemptCutShort",
    "Attempts",
    "Committed",
    "Cursor",
    "Engine",
    "EventBus",
    "FinishedItems",
    "ItemDone",
    "Journal",
    "LogListener",
    "MemoryJournal",
    "RunResult",
    "Scope",
    "StepDone",
    "ToolFailure",
    "iso_timestamp",
]

_WHERE = {
    "Asker": "wfe.engine.loop",
    "AttemptCutShort": "wfe.engine.journal",
    "Attempts": "wfe.engine.journal",
    "Committed": "wfe.engine.journal",
    "Cursor": "wfe.engine.journal",
    "Engine": "wfe.engine.loop",
    "EventBus": "wfe.engine.events",
    "FinishedItems": "wfe.engine.journal",
    "iso_timestamp": "wfe.engine.events",
    "ItemDone": "wfe.engine.journal",
    "Journal": "wfe.engine.journal",
    "LogListener": "wfe.engine.events",
    "MemoryJournal": "wfe.engine.memory_journal",
    "RunResult": "wfe.engine.loop",
    "Scope": "wfe.engine.loop",
    "StepDone": "wfe.engine.journal",
    "ToolFailure": "wfe.engine.loop",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
