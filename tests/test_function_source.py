"""wfe.tools.function_source gives what `ast.parse(dedent(inspect.getsource(fn)))` gives, or its
error."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from wfe.tools import function_source
from wfe.tools.function_source import parse_function

MODULE = '''
import functools


def mark(fn):
    return fn


def wraps_it(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner


@mark
@mark
def decorated(x):
    return {"a": x}


@functools.lru_cache(
maxsize=None,
)
def decorator_over_lines(x):
    return {"b": x}


def string_at_column_zero():
    text = """
not indented
# nor is this
"""
    return {"text": text}


def brackets_at_column_zero():
    return {
"key": 1,
}


def backslash():
    value = 1 + \\
2
    return {"v": value}


def one_liner(): return {"c": 1}


class Holder:
    def method(self):
        return {"d": 1}
# a comment at column zero, after the method


    def after_comment(self):
        if self:
            return None
        return {"e": 2}

    async def coroutine(self):
        return {"f": 3}


@wraps_it
def wrapped():
    return {"g": 4}


def nested():
    def inner():
        return {"h": 5}
    return inner


def tabs():
\treturn {"i": 6}


square = lambda x: x * x  # noqa: E731


def last_in_file():
    return {"j": 7}
'''


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    path = tmp_path / "source_cases.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location("source_cases", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "source_cases", module)
    spec.loader.exec_module(module)
    return module


def _expected(fn: object) -> str:
    try:
        return ast.dump(ast.parse(textwrap.dedent(inspect.getsource(fn))))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError) as error:
        return type(error).__name__


def _actual(fn: object) -> str:
    try:
        return ast.dump(parse_function(fn))  # type: ignore[arg-type]
    except (OSError, TypeError, SyntaxError) as error:
        return type(error).__name__


CASES = ["decorated", "decorator_over_lines", "string_at_column_zero", "brackets_at_column_zero",
         "backslash", "one_liner", "wrapped", "nested", "tabs", "square", "last_in_file"]


@pytest.mark.parametrize("name", CASES)
def test_same_as_getsource(cases: ModuleType, name: str) -> None:
    fn = getattr(cases, name)
    assert _actual(fn) == _expected(fn)


@pytest.mark.parametrize("name", ["method", "after_comment", "coroutine"])
def test_methods_same_as_getsource(cases: ModuleType, name: str) -> None:
    fn = getattr(cases.Holder, name)
    assert _actual(fn) == _expected(fn)


def test_the_fast_way_covers_the_usual_shapes(cases: ModuleType) -> None:
    for fn in (cases.decorated, cases.one_liner, cases.Holder.method, cases.last_in_file,
               cases.wrapped, cases.string_at_column_zero):
        assert function_source._parse_definition(fn) is not None, fn.__name__
    # A tab leaves the decision to inspect.getsource.
    assert function_source._parse_definition(cases.tabs) is None


def test_objects_without_python_source_raise_as_getsource_does() -> None:
    assert _actual(len) == _expected(len) == "TypeError"
    assert _actual(json.dumps) == _expected(json.dumps)


def _functions(module: ModuleType) -> list[object]:
    found: list[object] = []
    for value in vars(module).values():
        if inspect.isfunction(value):
            found.append(value)
        elif inspect.isclass(value) and value.__module__ == module.__name__:
            found += [v for v in vars(value).values() if inspect.isfunction(v)]
    return found


@pytest.mark.parametrize("name", ["wfe.graph.compiler", "wfe.spec.yaml_loader",
                                  "wfe.expr.expression", "wfe.tools.registry",
                                  "json.decoder", "textwrap", "dataclasses", "argparse"])
def test_same_as_getsource_for_real_modules(name: str) -> None:
    module = importlib.import_module(name)
    functions = _functions(module)
    assert functions
    for fn in functions:
        assert _actual(fn) == _expected(fn), fn
