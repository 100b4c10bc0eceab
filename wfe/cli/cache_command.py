"""`wfe cache clear`: forget the results of `cache:` nodes kept in the store."""

from __future__ import annotations

import sys
from pathlib import Path

from wfe.cli.run_options import open_store


def clear_cache(tool: str | None, store_path: Path | None) -> None:
    with open_store(store_path, None) as store:
        removed = store.cache_clear(tool)
    noun = "entry" if removed == 1 else "entries"
    whose = f" of tool '{tool}'" if tool is not None else ""
    sys.stdout.write(f"removed {removed} cache {noun}{whose}\n")
