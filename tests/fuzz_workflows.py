"""Workflow files for fuzzing the loader, from a `random.Random` (shared by tests/test_fuzz.py,
which drives it with Hypothesis, and benchmarks/fuzz_loader.py, which runs long campaigns).

Three sources: random YAML generated from the workflow schema (tests/fuzz_schema.py), byte-level
mutations (bit flips, interesting bytes, deleted, repeated or transplanted ranges) and token-,
line- and tree-level edits of the seed files: the bundled workflows, the bad_yaml corpus and the
subgraph shapes of tests/subgraph_shapes.py.
"""

from __future__ import annotations

import contextlib
import copy
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from fuzz_schema import INTERESTING_VALUES, Rng, random_value, schema_workflow
from subgraph_shapes import SHAPES
from subgraph_shapes import write as write_shape

from wfe.cli.validate_command import FORMATTERS
from wfe.errors import Location, Problem
from wfe.graph.validate import validate_file
from wfe.tools.discovery import import_module

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
BAD_YAML = ROOT / "tests" / "data" / "bad_yaml"
BAD_EXPRESSIONS = ROOT / "tests" / "data" / "expr" / "bad_expressions.txt"
#: The tool modules the seeds import, and the folder each is found in.
TOOL_MODULES = {"code_review_tools": WORKFLOWS, "tools": BAD_YAML}
INTERESTING_BYTES = b":-[]{}&*!|>'\"#%@`,?~\n\t \\\x00\x7f\x80\xc3\xff$"
_TOKEN = re.compile(rb"\s+|[A-Za-z0-9_.$]+|[^\sA-Za-z0-9_.$]")


# --- seeds ---------------------------------------------------------------------------------

def seed_files() -> list[Path]:
    """The bundled workflows and the bad_yaml corpus (case 19, generated elsewhere, excluded)."""
    return sorted(WORKFLOWS.glob("*.yaml")) + sorted(BAD_YAML.glob("*.yaml"))


def shape_seeds() -> list[bytes]:
    """The first file of each subgraph shape (fans, a deep chain, a cycle): its references
    lead to the shape's other files, which `prepare_folder` writes beside each case."""
    return [next(iter(make().values())).encode() for make in SHAPES.values()]


def bad_expressions() -> list[str]:
    lines = BAD_EXPRESSIONS.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line and not line.startswith("#")]


class Seeds:
    """The seed texts, their lines, tokens and keys, and the hostile expressions, read once."""

    def __init__(self, files: list[Path] | None = None) -> None:
        self.texts = [path.read_bytes() for path in (files or seed_files())]
        if files is None:
            self.texts += shape_seeds()
        self.lines = [line for text in self.texts for line in text.splitlines(keepends=True)
                      if len(line) < 400]
        tokens = {tok for text in self.texts for tok in _TOKEN.findall(text) if len(tok) < 80}
        self.tokens = sorted(tokens)
        #: The hostile expressions of the corpus, which generated files put in `when:`.
        self.expressions = bad_expressions()
        self._parsed: dict[bytes, Any] = {}
        self.keys = sorted({key.decode() for text in self.texts
                            for key in re.findall(rb"^\s*-?\s*([a-z_]+):", text, re.M)})

    def parsed(self, data: bytes) -> Any:
        """`data` as PyYAML reads it (a fresh copy each time), or None if it cannot."""
        if data not in self._parsed:  # only seeds are kept: mutated texts come once
            if data not in self.texts:
                return _pyyaml(data)
            self._parsed[data] = _pyyaml(data)
        return copy.deepcopy(self._parsed[data])


def _pyyaml(data: bytes) -> Any:
    if len(data) > 20_000:  # deep seeds: PyYAML recurses, and libyaml can crash on them
        return None
    try:
        return yaml.safe_load(data)
    except Exception:
        return None


# --- mutations -----------------------------------------------------------------------------

def _span(rng: Rng, size: int) -> tuple[int, int]:
    start = rng.randrange(size + 1)
    return start, min(size, start + rng.choice([1, 2, 4, 8, 32, 256]))


def flip_bits(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def set_bytes(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(out) + 1)
        byte = rng.choice(INTERESTING_BYTES)
        if where < len(out) and rng.random() < 0.5:
            out[where] = byte
        else:
            out.insert(where, byte)
    return bytes(out)


def cut_or_repeat(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    start, end = _span(rng, len(data))
    if rng.random() < 0.5:
        return data[:start] + data[end:]
    return data[:end] + data[start:end] * rng.choice([1, 2, 16, 200]) + data[end:]


def transplant(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    """A range of another seed inserted at a random place."""
    donor = rng.choice(seeds.texts)
    start, end = _span(rng, len(donor))
    where = rng.randrange(len(data) + 1)
    return data[:where] + donor[start:end] + data[where:]


def splice_tokens(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    """Replace, insert or delete YAML-level tokens, taking new ones from every seed."""
    tokens = _TOKEN.findall(data)
    for _ in range(rng.randint(1, 6)):
        where = rng.randrange(len(tokens) + 1)
        action = rng.choice(["replace", "insert", "delete"])
        if action == "delete" or (action == "replace" and where < len(tokens)):
            del tokens[where:where + 1]
        if action != "delete":
            tokens.insert(where, rng.choice(seeds.tokens))
    return b"".join(tokens)


def splice_lines(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    """Swap, repeat, re-indent or transplant whole lines."""
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(rng.randint(1, 4)):
        at, other = rng.randrange(len(lines)), rng.randrange(len(lines))
        action = rng.choice(["swap", "repeat", "indent", "dedent", "donor", "value"])
        if action == "swap":
            lines[at], lines[other] = lines[other], lines[at]
        elif action == "repeat":
            lines.insert(other, lines[at])
        elif action in ("indent", "dedent"):
            lines[at] = b"  " + lines[at] if action == "indent" else lines[at].lstrip(b" ")
        elif action == "donor":
            lines.insert(at, rng.choice(seeds.lines))
        else:
            key = lines[at].partition(b":")[0]
            value = yaml.safe_dump(rng.choice(INTERESTING_VALUES), default_flow_style=True)
            lines[at] = key + b": " + value.removesuffix("...\n").strip().encode() + b"\n"
    return b"".join(lines)


def _containers(value: Any) -> list[dict[str, Any] | list[Any]]:
    """Every mapping and list in the tree, once each (aliases make shared and cyclic trees)."""
    found: dict[int, dict[str, Any] | list[Any]] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list) and id(item) not in found:
            found[id(item)] = item
            stack.extend(item.values() if isinstance(item, dict) else item)
    return list(found.values())


def edit_tree(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    """Parse (with PyYAML), change one key or value in the tree, and write it out again: the
    result stays YAML, so it reaches the schema and compile checks. Text that does not parse
    gets a byte mutation instead."""
    document = seeds.parsed(data)
    if document is None:
        return set_bytes(rng, data, seeds)
    containers = _containers(document)
    if not containers:
        return set_bytes(rng, data, seeds)
    target = rng.choice(containers)
    if isinstance(target, list):
        where = rng.randrange(len(target) + 1)
        if rng.random() < 0.5:
            target.insert(where, random_value(rng))
        else:
            del target[where:where + 1]
    elif not target or rng.random() < 0.3:
        target[rng.choice(seeds.keys)] = rng.choice([random_value(rng), rng.choice(containers)])
    else:
        key = rng.choice(list(target))
        action = rng.choice(["delete", "replace", "rename"])
        value = target.pop(key)
        if action != "delete":
            new_key = rng.choice(seeds.keys) if action == "rename" else key
            target[new_key] = random_value(rng) if action == "replace" else value
    try:
        text = yaml.safe_dump(document, sort_keys=False,
                              default_flow_style=rng.choice([False, None]))
    except RecursionError:  # PyYAML's writer recurses: a deeply nested seed
        return set_bytes(rng, data, seeds)
    return text.encode("utf-8")


MUTATORS = [flip_bits, set_bytes, cut_or_repeat, transplant, splice_tokens, splice_lines,
            edit_tree, edit_tree]


def mutate(rng: Rng, data: bytes, seeds: Seeds) -> bytes:
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        data = rng.choice(MUTATORS)(rng, data, seeds)
    return data


def fuzz_case(rng: Rng, seeds: Seeds) -> tuple[str, bytes]:
    """One case and where it came from: a mutated seed, schema YAML, or mutated schema YAML."""
    roll = rng.random()
    if roll < 0.5:
        return "mutated seed", mutate(rng, rng.choice(seeds.texts), seeds)
    if roll < 0.75:
        return "schema", schema_workflow(rng, seeds.expressions)
    return "mutated schema", mutate(rng, schema_workflow(rng, seeds.expressions), seeds)


# --- running one case ----------------------------------------------------------------------

def prepare_folder(folder: Path) -> Path:
    """A folder to validate cases in: the subgraph the bundled workflow names, the subgraph
    shapes' files, and copies of the tool modules (a workflow imports only its own project's
    modules) imported once (later imports find them in sys.modules; the originals, if imported
    before, are set aside: `isolated_folder` puts them back). Returns the case path."""
    for name in [name for name in sys.modules if _is_tool_module(name)]:
        del sys.modules[name]
    for name, where in TOOL_MODULES.items():
        source = where / name
        if source.is_dir():
            shutil.copytree(source, folder / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(source.with_suffix(".py"), folder / f"{name}.py")
        import_module(name, folder, Location(str(folder)))
    (folder / "review_file.yaml").write_bytes((WORKFLOWS / "review_file.yaml").read_bytes())
    (folder / "code_review.yaml").write_bytes((WORKFLOWS / "code_review.yaml").read_bytes())
    for make in SHAPES.values():
        write_shape(folder, make())
    return folder / "fuzz.yaml"


@contextlib.contextmanager
def isolated_folder(folder: Path) -> Iterator[Path]:
    """`prepare_folder`, undone afterwards: sys.path and the tool modules (with their
    submodules) as they were."""
    saved_path = sys.path[:]
    saved_modules = {name: module for name, module in sys.modules.items()
                     if _is_tool_module(name)}
    try:
        yield prepare_folder(folder)
    finally:
        sys.path[:] = saved_path
        for name in [name for name in sys.modules if _is_tool_module(name)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)


def _is_tool_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in TOOL_MODULES)


def validate_case(path: Path, data: bytes) -> list[Problem]:
    """What `wfe validate FILE` does with `data`, every report format included."""
    path.write_bytes(data)
    problems = validate_file(path)
    for report in FORMATTERS.values():
        report(problems, 1)
    return problems
