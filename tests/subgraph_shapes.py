"""Sets of workflow files whose `workflow:` references amplify: fans (each file runs the next
several times, so the expanded graph grows exponentially), deep chains and cycles. Shared by
tests/test_subgraph_limits.py, the fuzzers' seeds (tests/fuzz_workflows.py) and
benchmarks/rejection_times.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

LEAF = "nodes:\n  leaf: {interrupt: {message: the deepest file}}\n"


def fan(prefix: str, files: int, refs: int, *, back_to_first: bool = False) -> dict[str, str]:
    """`files` files, each with `refs` nodes that each run the next file: about refs**files nodes
    once expanded. The last file has one node, or with `back_to_first` runs the first (a cycle).
    Returns each file's text by name; the first is the one to load."""
    texts: dict[str, str] = {}
    for level in range(files):
        last = level == files - 1
        if last and not back_to_first:
            texts[f"{prefix}{level}.yaml"] = LEAF
            continue
        target = f"{prefix}{0 if last else level + 1}.yaml"
        nodes = "".join(
            f"  n{r}: {{workflow: {target}, next: {f'n{r + 1}' if r < refs - 1 else 'end'}}}\n"
            for r in range(refs)
        )
        texts[f"{prefix}{level}.yaml"] = "nodes:\n" + nodes
    return texts


def write(folder: Path, texts: dict[str, str]) -> Path:
    """Write the files into `folder`; the path of the first."""
    for name, text in texts.items():
        (folder / name).write_text(text)
    return folder / next(iter(texts))


#: Each hostile shape by name: the files, made on demand.
SHAPES: dict[str, Callable[[], dict[str, str]]] = {
    "subgraph fan of 9 files x 4 references": lambda: fan("fan", 9, 4),
    "subgraph fan of 20 files x 2 references": lambda: fan("wide", 20, 2),
    "subgraph chain 200 deep": lambda: fan("deep", 200, 1),
    "subgraph cycle through a fan of 8 files x 4": lambda: fan("loop", 8, 4, back_to_first=True),
}
