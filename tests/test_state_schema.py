"""The state schema: pydantic validators, and pydantic itself, only once a value needs them."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfe.errors import StateError
from wfe.state.schema import StateSchema
from wfe.state.types import (
    TypeSyntaxError,
    TypeTree,
    exact_builtin,
    holds_as_is,
    parse_type,
    python_type,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Declared:
    """What StateSchema reads of a declared state key."""

    type: str
    default: Any = None
    has_default: bool = False
    reduce: str = "replace"
    required: bool = False
    env: str | None = None
    secret: bool = False


def _run_python(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    return result.stdout.split()


def test_importing_state_types_and_validate_does_not_import_pydantic() -> None:
    assert _run_python("""
        import sys
        import wfe.state.schema, wfe.state.types, wfe.graph.validate
        print("pydantic" in sys.modules)
    """) == ["False"]


def test_pydantic_is_imported_only_when_a_value_needs_it() -> None:
    assert _run_python("""
        import sys
        from types import SimpleNamespace
        from wfe.state.schema import StateSchema
        def declared(type_text):
            return SimpleNamespace(type=type_text, default=None, has_default=False,
                                   reduce="replace", required=False, env=None, secret=False)
        schema = StateSchema({"n": declared("int"), "x": declared("float")}, {})
        state = {}
        schema.apply(state, {"n": 1}, "node")
        print("pydantic" in sys.modules)
        schema.apply(state, {"x": 1.5}, "node")
        print("pydantic" in sys.modules, state)
    """) == ["False", "True", "{'n':", "1,", "'x':", "1.5}"]


def test_a_slot_builds_its_validator_on_the_first_value_the_exact_check_does_not_settle() -> None:
    schema = StateSchema({"n": Declared("int"), "items": Declared("list[int]", reduce="append")},
                         {})
    n, items = schema.slots["n"], schema.slots["items"]
    schema.apply({}, {"n": 3}, "node")
    assert n.adapter is None and items.adapter is None and items.item_adapter is None
    with pytest.raises(StateError):
        schema.apply({}, {"n": "3"}, "node")
    schema.apply({}, {"items": 4}, "node")
    assert n.adapter is not None and items.item_adapter is not None and items.adapter is None


@pytest.mark.parametrize(("type_text", "reduce", "value", "written", "state"), [
    ("float", "replace", 1, 1.0, 1.0),
    ("list[int]", "replace", [1, 2], [1, 2], [1, 2]),
    ("dict[str, int]", "replace", {"a": 1}, {"a": 1}, {"a": 1}),
    ("int | None", "replace", None, None, None),
    ("any", "replace", {"a": [1, 2.5, None]}, {"a": [1, 2.5, None]}, {"a": [1, 2.5, None]}),
    ("list[int]", "append", 3, 3, [3]),
    ("list[str] | None", "append", "s", "s", ["s"]),
    ("list[int]", "extend", [4], [4], [4]),
    ("dict", "merge", {"z": 1}, {"z": 1}, {"z": 1}),
    ("float", "add", 2, 2.0, 2.0),
    ("null", "replace", None, None, None),
])
def test_a_value_checked_through_pydantic_is_written_as_before(
        type_text: str, reduce: str, value: Any, written: Any, state: Any) -> None:
    current: dict[str, Any] = {}
    updates = StateSchema({"k": Declared(type_text, reduce=reduce)}, {}).apply(
        current, {"k": value}, "node")
    assert updates == {"k": written} and type(updates["k"]) is type(written)
    assert current == {"k": state}
    if isinstance(value, list | dict):
        assert updates["k"] is not value  # pydantic's copy, as before


@pytest.mark.parametrize(("type_text", "reduce", "value", "message"), [
    ("float", "replace", "x", "must be float, got str 'x' (input should be a valid number)"),
    ("float", "replace", math.nan,
     "must be float, got float nan (input should be a finite number)"),
    ("float", "replace", True, "must be float, got bool True (input should be a valid number)"),
    ("list[int]", "replace", [1, "a"],
     "must be list[int], got list [1, 'a'] ([1]: input should be a valid integer)"),
    ("list[int]", "replace", (1, 2),
     "must be list[int], got tuple (1, 2) (input should be a valid list)"),
    ("dict[str, int]", "replace", {1: 1},
     "must be dict[str, int], got dict {1: 1} ([1]['[key]']: input should be a valid string)"),
    ("str", "replace", b"x", "must be str, got bytes b'x' (input should be a valid string)"),
    ("int", "replace", True, "must be int, got bool True (input should be a valid integer)"),
    pytest.param("int", "replace", 10**4400, "must be int, got int (too large to show) (an "
                 "integer of more than 4300 digits cannot be written as JSON)", id="long-int"),
    ("bool", "replace", 1, "must be bool, got int 1 (input should be a valid boolean)"),
    ("any", "replace", math.inf,
     "must be any, got float inf (['float']: input should be a finite number)"),
    ("list[int]", "append", "x",
     "must be an item of list[int], got str 'x' (input should be a valid integer)"),
    ("list[dict[str, list[int]]]", "replace", [{"a": [1, "x"]}],
     "must be list[dict[str, list[int]]], got list [{'a': [1, 'x']}] ([0]['a'][1]: input "
     "should be a valid integer)"),
    ("null | str", "replace", 0, "must be null | str, got int 0 (input should be a valid string)"),
])
def test_a_value_refused_through_pydantic_is_described_as_before(
        type_text: str, reduce: str, value: Any, message: str) -> None:
    schema = StateSchema({"k": Declared(type_text, reduce=reduce)}, {})
    with pytest.raises(StateError) as caught:
        schema.apply({}, {"k": value}, "node")
    assert caught.value.message == f"state key 'k' {message}"
    assert caught.value.node == "node" and caught.value.key == "k"


def test_a_secret_value_refused_through_pydantic_stays_masked() -> None:
    schema = StateSchema({"k": Declared("list[int]", secret=True)}, {})
    with pytest.raises(StateError, match=r"got \*\*\* \(\[1\]: input should be a valid integer"):
        schema.apply({}, {"k": [1, "hunter2"]}, "node")


@pytest.mark.parametrize(("text", "tree"), [
    ("int", TypeTree("int")),
    ("int | int", TypeTree("int")),
    ("null | None", TypeTree("None")),
    ("list", TypeTree("list")),
    ("list[str | None]", TypeTree("list", (TypeTree("union", (TypeTree("str"),
                                                              TypeTree("None"))),))),
    ("dict[str | str, any]", TypeTree("dict", (TypeTree("any"),))),
])
def test_a_type_text_parses_to_its_tree(text: str, tree: TypeTree) -> None:
    assert parse_type(text) == tree


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty type"),
    ("integer", "unknown type 'integer' in 'integer' (use one of str, int, float, bool, list, "
                "dict, any)"),
    ("dict[int, str]", "dict keys must be str in type 'dict[int, str]'"),
    ("dict[foo, str]", "unknown type 'foo' in 'dict[foo, str]' (use one of str, int, float, "
                       "bool, list, dict, any)"),
    ("int[str]", "type 'int' takes no parameters in 'int[str]'"),
    ("list[int", "expected ']' in type 'list[int'"),
    ("int |", "expected a type in type 'int |'"),
    ("int str", "unexpected 'str' in type 'int str'"),
    ("int & str", "unexpected '&' in type 'int & str'"),
])
def test_a_type_text_wfe_does_not_understand_is_a_syntax_error(text: str, message: str) -> None:
    with pytest.raises(TypeSyntaxError) as caught:
        parse_type(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "exact"), [
    ("str", str), ("int", int), ("bool", bool), ("int | int", int), ("float", None),
    ("int | None", None), ("list[int]", None), ("any", None), ("bool | int", None),
])
def test_only_plain_str_int_and_bool_types_take_the_exact_check(text: str,
                                                               exact: type | None) -> None:
    assert exact_builtin(text) is exact


def test_the_python_type_of_a_text_is_what_pydantic_validates() -> None:
    from pydantic import JsonValue

    assert python_type("list") == list[JsonValue]
    assert python_type("dict[str, int | None]") == dict[str, int | None]
    assert python_type("int | int") is int
    assert python_type("null") is type(None)
    assert python_type("any | str") == JsonValue | str


# --- defaults taken as they are -----------------------------------------------------------

_TYPE_TEXTS = st.recursive(
    st.sampled_from(["str", "int", "float", "bool", "any", "None", "list", "dict"]),
    lambda inner: st.one_of(
        st.builds("list[{}]".format, inner),
        st.builds("dict[str, {}]".format, inner),
        st.builds("{} | {}".format, inner, inner),
    ),
    max_leaves=4,
)
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=2), st.integers()), inner,
                                            max_size=3)),
    max_leaves=6,
)


def _same_all_through(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(map(_same_all_through, a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same_all_through(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(_TYPE_TEXTS, _VALUES)
def test_a_value_held_as_is_is_what_pydantic_gives_back(type_text: str, value: Any) -> None:
    if not holds_as_is(parse_type(type_text), value):
        return
    from pydantic import ConfigDict, TypeAdapter

    checked = TypeAdapter(python_type(type_text), config=ConfigDict(allow_inf_nan=False)
                          ).validate_python(value, strict=True)
    assert _same_all_through(checked, value)


@pytest.mark.parametrize(("type_text", "value", "as_is"), [
    ("list[str]", ["a"], True),
    ("dict[str, list[int]]", {"a": [1]}, True),
    ("any", {"a": [1, 2.5, None, True]}, True),
    ("float | int", 3, True),
    ("float", 7, False),  # pydantic gives back 7.0
    ("list[float]", [1.5, 2], False),
    ("int", True, False),
    ("any", math.nan, False),
    ("dict", {"a": {1: 2}}, False),
])
def test_which_values_are_held_as_is(type_text: str, value: Any, as_is: bool) -> None:
    assert holds_as_is(parse_type(type_text), value) is as_is


@pytest.mark.parametrize(("type_text", "default", "initial"), [
    ("list[str]", ["a"], ["a"]),
    ("float", 7, 7.0),
    ("dict[str, float]", {"a": 1}, {"a": 1.0}),
])
def test_defaults_start_the_state_as_pydantic_would_give_them(type_text: str, default: Any,
                                                              initial: Any) -> None:
    schema = StateSchema({"k": Declared(type_text, default=default, has_default=True)}, {})
    state = schema.initial({})
    assert _same_all_through(state["k"], initial) and state["k"] is not default


def test_a_dry_run_of_the_bundled_workflow_does_not_import_pydantic() -> None:
    assert _run_python("""
        import sys, wfe.cli
        sys.argv = ["wfe", "run", "workflows/code_review.yaml", "--dry-run"]
        try:
            wfe.cli.main()
        except SystemExit as done:
            assert not done.code
        print("pydantic" in sys.modules)
    """)[-1] == "False"
