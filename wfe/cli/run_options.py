"""What `wfe run` was asked to do, and the store a command opens (shared by `wfe run` and the
process a detached run continues in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wfe.store import Store


@dataclass
class RunOptions:
    file: Path
    assignments: list[str] = field(default_factory=list)
    inputs_file: Path | None = None
    json_lines: bool = False
    quiet: bool = False
    output: Path | None = None
    dry_run: bool = False
    imports: list[str] = field(default_factory=list)
    store: Path | None = None
    no_store: bool = False
    no_cache: bool = False
    durability: str | None = None
    detach: bool = False
    attach: str | None = None
    executor: str | None = None


def open_store(store: Path | None, durability: str | None) -> Store:
    # sqlite3 loads only when a command opens the store (`wfe --help` stays fast).
    from wfe.store import Store, durability_setting, store_path

    return Store.open(store_path(store), durability=durability_setting(durability))
