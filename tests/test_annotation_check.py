"""`wfe validate` decides common annotations without pydantic, with pydantic's strict verdict."""

from __future__ import annotations

import enum
import functools
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

import annotated_types
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from wfe.graph.validate import _type_mismatch
from wfe.state.annotation_check import strict_verdict

LONG_INTS = [2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 2**70, 10**308, 10**400,
             2**1024 - 2**970 - 1, 2**1024 - 2**970, 2**1024, -(2**1024)]


@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def pydantic_accepts(annotation: Any, value: Any) -> bool:
    try:
        _adapter(annotation).validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _or(pair: tuple[Any, Any]) -> Any:
    try:
        return pair[0] | pair[1]
    except TypeError:  # `None | int`: None is no type
        return Union[pair]  # noqa: UP007


literal_members = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from([2**63, -(2**63) - 1, 2**70]),
    st.sampled_from(["", "a", "1"]))
literals = st.lists(literal_members, min_size=1, max_size=3).map(lambda ms: Literal[tuple(ms)])
leaf_annotations = st.one_of(
    st.sampled_from([str, int, float, bool, None, type(None), Any, object, list, dict, tuple,
                     typing.List, typing.Dict, typing.Tuple, tuple[()]]),  # noqa: UP006
    literals)


def _extend(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda ms: Union[tuple(ms)]),  # noqa: UP007
        inner.map(lambda x: Optional[x]),  # noqa: UP045
        st.tuples(inner, inner).map(_or),
        inner.map(lambda x: list[x]),
        inner.map(lambda x: typing.List[x]),  # noqa: UP006
        st.tuples(inner, inner).map(lambda kv: dict[kv[0], kv[1]]),
        inner.map(lambda x: tuple[x, ...]),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: tuple[tuple(xs)]),
        inner.map(lambda x: Annotated[x, "a note"]),
    )


annotations = st.recursive(leaf_annotations, _extend, max_leaves=6)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(LONG_INTS),
    st.floats(), st.sampled_from([-0.0, 0.0, 1.0, float(2**70), float("nan")]),
    st.text(max_size=4), st.sampled_from(["", "a", "1", "\ud800"]), st.binary(max_size=2))
keys = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(), st.text(max_size=3),
                 st.tuples(st.integers(-2, 2), st.text(max_size=2)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=3), inner, max_size=3),
    st.dictionaries(keys, inner, max_size=3),
), max_leaves=8)


def _holds_int_longer_than_64_bits(value: Any) -> bool:
    if type(value) is int:
        return value not in range(-(2**63), 2**63)
    if type(value) in (list, tuple):
        return any(map(_holds_int_longer_than_64_bits, value))
    if type(value) is dict:
        return any(map(_holds_int_longer_than_64_bits, [*value, *value.values()]))
    return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(annotations, values)
def test_the_plain_verdict_is_pydantic_s_strict_verdict(annotation: Any, value: Any) -> None:
    verdict = strict_verdict(annotation, value)
    if verdict is None:  # only a Literal's lookup of a long int is left to pydantic
        assert _holds_int_longer_than_64_bits(value)
    else:
        assert verdict == pydantic_accepts(annotation, value)


def _decides_as_pydantic(annotation: Any, value: Any, accepted: bool) -> None:
    assert pydantic_accepts(annotation, value) is accepted  # the rule is pydantic's own
    assert strict_verdict(annotation, value) is accepted


@pytest.mark.parametrize("annotation", [Any, object])
@pytest.mark.parametrize("value", [None, True, 1, 1.5, "s", b"b", [1], (1,), {1: [2]}])
def test_any_and_object_accept_every_value(annotation: Any, value: Any) -> None:
    _decides_as_pydantic(annotation, value, True)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (str, "s", True), (str, b"s", False), (str, 1, False), (str, "\ud800", True),
    (bool, True, True), (bool, 1, False), (bool, "true", False),
    (None, None, True), (type(None), None, True), (None, 0, False), (type(None), "", False),
])
def test_str_bool_and_none_accept_only_their_own_type(annotation: Any, value: Any,
                                                       accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("value", "accepted"), [
    (1, True), (-(10**400), True), (2**64, True), (True, False), (1.0, False), ("1", False),
])
def test_int_accepts_ints_of_any_size_but_no_bool_nor_float(value: Any, accepted: bool) -> None:
    _decides_as_pydantic(int, value, accepted)


@pytest.mark.parametrize(("value", "accepted"), [
    (1.5, True), (-0.0, True), (float("nan"), True), (float("inf"), True), (1, True),
    (10**308, True), (2**1024 - 2**970 - 1, True), (2**1024 - 2**970, False), (10**400, False),
    (-(2**1024), False), (True, False), ("1.5", False),
])
def test_float_accepts_floats_and_ints_that_convert_without_overflow_but_no_bool(
        value: Any, accepted: bool) -> None:
    _decides_as_pydantic(float, value, accepted)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (list[int], [1, 2], True), (list[int], [1, "a"], False), (list[int], (1, 2), False),
    (list, ["a", None], True), (typing.List, [1], True), (list, (1,), False),  # noqa: UP006
    (typing.List[str], ["a"], True), (list[list[int]], [[1], []], True),  # noqa: UP006
])
def test_a_list_accepts_only_a_list_of_accepted_items(annotation: Any, value: Any,
                                                     accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (dict[str, int], {"a": 1}, True), (dict[str, int], {"a": "b"}, False),
    (dict[str, int], {1: 1}, False), (dict[int, str], {True: "a"}, False),
    (dict, {1: None}, True), (typing.Dict, {"a": 1}, True), (dict, [("a", 1)], False),  # noqa: UP006
])
def test_a_dict_accepts_only_a_dict_of_accepted_keys_and_values(annotation: Any, value: Any,
                                                               accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (tuple[int, ...], (1, 2), True), (tuple[int, ...], (), True), (tuple[int, ...], [1], False),
    (tuple[int, ...], (1, "a"), False), (tuple[int, str], (1, "a"), True),
    (tuple[int, str], (1,), False), (tuple[int, str], ("a", 1), False),
    (tuple, (1, "a"), True), (typing.Tuple, (1,), True), (tuple, [1], False),  # noqa: UP006
    (tuple[()], (), True), (tuple[()], (1,), False),
])
def test_a_tuple_accepts_only_a_tuple_of_its_shape(annotation: Any, value: Any,
                                                   accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (int | None, None, True), (int | None, 1, True), (int | None, "1", False),
    (Optional[str], None, True), (Union[int, str], 1.5, False),  # noqa: UP007, UP045
    (Union[list[int], dict[str, int]], {"a": 1}, True), (float | bool, True, True),  # noqa: UP007
])
def test_a_union_accepts_what_any_member_accepts(annotation: Any, value: Any,
                                                 accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("annotation", "value", "accepted"), [
    (Literal["a", "b"], "a", True), (Literal["a", "b"], "c", False), (Literal["a"], b"a", False),
    (Literal[1], 1.0, True), (Literal[1], True, True), (Literal[True], 1, True),
    (Literal[0], -0.0, True), (Literal["1"], 1, False), (Literal[None], None, True),
    (Literal[None], 0, False), (Literal[1], [1], False), (Literal[2**70], 2**70 + 0.0, True),
])
def test_a_literal_accepts_a_value_equal_to_a_member(annotation: Any, value: Any,
                                                     accepted: bool) -> None:
    _decides_as_pydantic(annotation, value, accepted)


@pytest.mark.parametrize(("annotation", "pydantic_s_verdict"), [
    (Literal[1, 2**70], False),  # not what looking the value up would say
    (Literal[2**70], True),
])
def test_a_literal_of_ints_leaves_an_int_longer_than_64_bits_to_pydantic(
        annotation: Any, pydantic_s_verdict: bool) -> None:
    assert strict_verdict(annotation, 2**70) is None
    assert pydantic_accepts(annotation, 2**70) is pydantic_s_verdict


@pytest.mark.parametrize(("value", "accepted"), [(1, True), ("1", False)])
def test_annotated_with_only_text_notes_is_its_inner_type(value: Any, accepted: bool) -> None:
    _decides_as_pydantic(Annotated[int, "a count", "of things"], value, accepted)


class Point(BaseModel):
    x: int


class Movie(TypedDict):
    title: str


@dataclass
class Pair:
    a: int


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("annotation", [
    Point, Movie, Pair, Colour, "int", Literal[1.5], Sequence[int], list[int, str],
    Annotated[int, Field(gt=0)], Annotated[int, annotated_types.Gt(0)], list[Point],
    int | Point, Decimal,
])
def test_other_annotations_are_left_to_pydantic(annotation: Any) -> None:
    assert strict_verdict(annotation, 1) is None


class Text(str):
    pass


def _cycle() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


@pytest.mark.parametrize("value", [Colour.RED, Text("a"), {1}, Decimal(1), [1, {2}], _cycle()])
def test_values_of_other_types_are_left_to_pydantic(value: Any) -> None:
    assert strict_verdict(Any, value) is None


@pytest.mark.parametrize(("annotation", "value", "message"), [
    (int, "ten", "int, got str 'ten'"),
    (list[int], (1,), "list, got tuple (1,)"),
    (int | None, "x", "int | None, got str 'x'"),
    (Union[int, str], 1.5, "Union, got float 1.5"),  # noqa: UP007
    (Literal[1, 2**70], 2**70, "Literal, got int 1180591620717411303424"),
    (Point, {"x": "a"}, "Point, got dict {'x': 'a'}"),
    (Pair, {"a": 1}, "Pair, got dict {'a': 1}"),
    (Annotated[int, Field(gt=0)], 0, "Annotated, got int 0"),
    (str, 5, "str, got int 5"),
])
def test_a_constant_that_does_not_fit_is_described_as_before(annotation: Any, value: Any,
                                                            message: str) -> None:
    assert _type_mismatch(annotation, value) == message


class Opaque:
    pass


@pytest.mark.parametrize(("annotation", "value"), [
    (Opaque, 1), (list[Opaque], 1), (Point, {"x": 1}), (int, 1), (Literal[1], 1.0),
])
def test_a_constant_that_fits_or_cannot_be_checked_is_no_problem(annotation: Any,
                                                                 value: Any) -> None:
    assert _type_mismatch(annotation, value) == ""


def test_a_long_description_is_cut_at_200_characters() -> None:
    message = _type_mismatch(dict[str, list[int]], {"k": [1, "z" * 300]})
    assert len(message) == 200 and message.startswith("dict, got dict {'k': [1, 'zzz")
