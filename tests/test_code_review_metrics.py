"""The code-review workflow's function measures (workflows/code_review_tools/_metrics.py): checked
by hand and, for complexity, against mccabe itself on the standard library."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import textwrap
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"
SAMPLE = WORKFLOWS / "samples" / "messy.py"
sys.path.insert(0, str(WORKFLOWS))
if importlib.util.find_spec("wfe") is None:  # the tools import `wfe`; use the checkout's
    sys.path.append(str(ROOT))

from code_review_tools import _metrics  # noqa: E402
from code_review_tools._source import SourceText  # noqa: E402


def functions_of(code: str) -> dict[str, dict]:
    source = textwrap.dedent(code)
    found = _metrics.measure_functions(ast.parse(source), SourceText.of(source))
    return {f["qualname"]: f for f in found}


# --- complexity: exactly mccabe's ---------------------------------------------------------------

STDLIB = [
    "argparse", "ast", "asyncio.base_events", "configparser", "dataclasses", "difflib",
    "email._header_value_parser", "enum", "inspect", "json.decoder", "pathlib", "tarfile",
    "textwrap", "typing", "unittest.mock", "zipfile",
]  # fmt: skip


def mccabe_mismatches(source: str) -> tuple[int, list[tuple]]:
    """(graphs compared, mismatches) between mccabe's function graphs and our complexity."""
    mccabe = pytest.importorskip("mccabe")
    visitor = mccabe.PathGraphingAstVisitor()
    visitor.preorder(ast.parse(source), visitor)
    # Graphs named "If 12", "Loop 3", "TryExcept 9" are module-level blocks, not functions.
    graphs = [g for g in visitor.graphs.values() if " " not in g.entity]
    functions = _metrics.measure_functions(ast.parse(source), SourceText.of(source))
    ours = {(f["lineno"], f["qualname"]): f["complexity"] for f in functions}
    bad = [
        (g.entity, g.lineno, g.complexity(), ours.get((g.lineno, g.entity)))
        for g in graphs
        if ours.get((g.lineno, g.entity)) != g.complexity()
    ]
    return len(graphs), bad


@pytest.mark.parametrize("module", STDLIB)
def test_complexity_equals_mccabe_on_the_standard_library(module):
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    compared, bad = mccabe_mismatches(source)
    assert compared > 5
    assert bad == []


def test_complexity_equals_mccabe_on_the_sample():
    compared, bad = mccabe_mismatches(SAMPLE.read_text(encoding="utf-8"))
    assert compared == 6
    assert bad == []


CONSTRUCTS = """\
def plain():
    return 1

def branches(a, b):
    if a and b or not a:        # +1: boolean operators count nothing
        pass
    elif b:                     # +1
        pass
    else:
        pass
    x = [i for i in a if i] if b else None
    f = lambda y: y or 1
    return x, f

def loops(items):
    for item in items:          # +1
        while item:             # +1
            item -= 1
        else:                   # a loop's else: +0
            pass
    return items

def tries():
    try:                        # +1
        pass
    except ValueError:          # +1
        if True:                # +1
            pass
    except (TypeError, KeyError):  # +1
        pass
    else:
        for _ in ():            # +1
            pass
    finally:
        if True:                # never visited by mccabe: +0
            pass
    try:                        # try/finally alone: +1
        pass
    finally:
        pass

def withs():
    with open("f") as f:        # +0, its body counts
        if f:                   # +1
            pass

def nested():
    def inner(x):               # +1, and its own decisions
        if x:                   # +1
            return x
    class Local:                # +0, each method is a closure
        def method(self):       # +1
            return [n for n in range(3) if n]
    return inner, Local

def matcher(command):
    match command:              # one plain statement for mccabe 0.7: its cases are unseen
        case "go":
            if command:
                pass
        case _:
            pass
    return command

def star():
    try:                        # try/except* is one plain statement too
        pass
    except* ValueError:
        if True:
            pass

async def asynchronous(stream):
    async for item in stream:   # +1
        async with item:        # +0
            if item:            # +1
                await item

class Outer:
    class Inner:
        def deep(self):
            if self:
                pass

    @property
    def value(self):
        return 1

    @value.setter
    def value(self, new):       # mccabe keeps only the last graph of a name
        if new:
            pass

if True:
    def folded():               # folded into the graph of the module-level `if`
        if folded:
            pass

with open(__file__) as handle:
    def in_with():              # a module-level `with` opens no graph: reported
        for _ in ():
            pass
"""


def test_complexity_rules_on_every_construct():
    complexity = {q: f["complexity"] for q, f in functions_of(CONSTRUCTS).items()}
    assert complexity == {
        "plain": 1,
        "branches": 3,
        "loops": 3,
        "tries": 7,
        "withs": 2,
        "nested": 4,
        "nested.<locals>.inner": 2,
        "nested.<locals>.Local.method": 1,
        "matcher": 1,
        "star": 1,
        "asynchronous": 3,
        "Outer.Inner.deep": 2,
        "Outer.value": 2,  # the setter (the getter, 1, shares the qualname)
        "folded": 2,
        "in_with": 2,
    }
    compared, bad = mccabe_mismatches(CONSTRUCTS)
    assert bad == []
    assert compared == 12  # all but the nested ones, the getter and `folded`


def code_qualnames(source: str) -> list[str]:
    """The `__qualname__` of every function the compiler makes of source."""
    names, stack = [], [compile(source, "<test>", "exec")]
    while stack:
        for const in stack.pop().co_consts:
            if isinstance(const, types.CodeType):
                stack.append(const)
                if const.co_flags & inspect.CO_OPTIMIZED and not const.co_name.startswith("<"):
                    names.append(const.co_qualname)
    return sorted(names)


@pytest.mark.parametrize("module", ["typing", "dataclasses", "inspect"])
def test_qualnames_are_pythons(module):
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    ours = _metrics.measure_functions(ast.parse(source), SourceText.of(source))
    assert sorted(f["qualname"] for f in ours) == code_qualnames(source)


def test_qualnames_of_the_constructs():
    ours = _metrics.measure_functions(ast.parse(CONSTRUCTS), SourceText.of(CONSTRUCTS))
    assert sorted(f["qualname"] for f in ours) == code_qualnames(CONSTRUCTS)


MEASURED = '''\
class Shop:
    def add(self, sku, qty=1, *args, note="", **options):
        """Docstring."""
        for line in self.lines:
            if line:
                with open(sku) as f:
                    try:
                        pass
                    except ValueError:
                        while f:
                            break
        return qty

    @staticmethod
    def make(a, b, /, c):
        if a:
            pass
        elif b:
            if c:
                pass
        else:
            if c:
                if a:
                    pass
        match a:
            case 1:
                if b:
                    pass
'''


def test_lines_parameters_and_nesting():
    add, make = functions_of(MEASURED)["Shop.add"], functions_of(MEASURED)["Shop.make"]
    assert (add["lineno"], add["end_lineno"], add["length"], add["col"]) == (2, 12, 11, 5)
    assert add["params"] == 3  # sku, qty, note: not self, *args, **options
    assert add["max_nesting"] == 5  # for > if > with > try (except) > while
    assert add["is_method"]
    assert make["lineno"] == 15  # the `def` line, not the decorator's
    assert make["params"] == 3  # a staticmethod has no self to leave out
    assert make["max_nesting"] == 3  # elif/else add no level; if > if inside else
