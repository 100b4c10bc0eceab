"""`wfe runs prune`: delete finished runs older than an age; the store file shrinks."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from wfe.cli.run_options import open_store
from wfe.errors import UsageError
from wfe.spec.project_config import parse_age
from wfe.store.prune import FINISHED, Pruned


def prune_runs(older_than: str, statuses: list[str], store_path: Path | None) -> None:
    age = parse_age(older_than, "--older-than")
    for status in statuses:
        if status not in FINISHED:
            raise UsageError(f"--status {status}: prune deletes finished runs only ("
                             f"{', '.join(FINISHED)}); running and waiting runs are kept")
    with open_store(store_path, None) as store:
        before = _size(store.path)
        pruned = store.prune(age, tuple(statuses) or FINISHED)
        after = _size(store.path)
    sys.stdout.write(report(pruned, older_than, before, after))


def report(pruned: Pruned, older_than: str, before: int, after: int) -> str:
    """One line per run removed, then what that came to."""
    lines = [f"removed run {run_id}\n" for run_id in pruned.run_ids]
    count = len(pruned.run_ids)
    if not count:
        return f"no finished run ended more than {older_than} ago\n"
    kinds = ", ".join(f"{n} {status}" for status, n in sorted(pruned.statuses.items()))
    size = (f"the store went from {_mb(before)} to {_mb(after)}" if pruned.compacted else
            "the store was too busy to shrink now; the next prune shrinks it")
    noun = "run" if count == 1 else "runs"
    lines.append(f"removed {count} {noun} ({kinds}) that ended more than {older_than} ago, "
                 f"with their steps and events; {size}\n")
    return "".join(lines)


def _size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += Path(f"{path}{suffix}").stat().st_size
    return total


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"
