"""Values given as text outside a workflow file (`-i KEY=VALUE`, `env:` variables, answers typed
at a prompt), read as YAML 1.2 core scalars and then for the key they are given to.

A quoted scalar is a string, as YAML says (`"3"` is the string 3). A plain one is read as YAML
reads it (`3` is an int, `yes` a string, `[a, b]` a list), except that a key whose type takes
strings gets the text itself when the YAML value is not of its type: a `str` key given `3` gets
"3", so that a token or a version number is never refused for looking like a number.
"""

from __future__ import annotations

import re
from typing import Any

from wfe.errors import SpecError
from wfe.spec.yaml_loader import load_yaml
from wfe.state.types import TypeTree, holds_as_is

__all__ = ["ScalarError", "parse_scalar", "typed_scalar"]

_NULL = re.compile(r"^(?:~|null|Null|NULL)?$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]{1,18}$|^0o[0-7]{1,18}$|^0x[0-9a-fA-F]{1,16}$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
#: Texts read by the YAML loader: flow collections and quoted scalars.
_LOADED = ("[", "{", '"', "'")


class ScalarError(ValueError):
    """The text is not a YAML value (an unclosed quote or bracket); the message says why."""


def parse_scalar(text: str) -> Any:
    """A value as YAML 1.2 core reads a scalar: `3` is an int, `yes` stays a string, `"3"` is
    the string 3. Raises ScalarError when the text is not a YAML value."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        return int(text[2:], 16) if text.startswith("0x") else int(text)
    if _FLOAT.match(text):
        return float(text)
    if text.startswith(_LOADED):
        return _load_value(text)
    return text


def typed_scalar(text: str, tree: TypeTree | None) -> Any:
    """The value of `text` for a key of type `tree` (None: a key not declared)."""
    try:
        value = parse_scalar(text)
    except ScalarError:
        if tree is not None and holds_as_is(tree, text):
            return text
        raise
    if tree is None or type(value) is str or text.startswith(("'", '"')):
        return value
    if holds_as_is(tree, value) or _widened(tree, value) or not holds_as_is(tree, text):
        return value
    return text


def _widened(tree: TypeTree, value: Any) -> bool:
    """An int given where a float is wanted: taken (it becomes a float), not left as text."""
    if tree.name == "union":
        return any(_widened(member, value) for member in tree.args)
    return type(value) is int and tree.name == "float"


def _load_value(text: str) -> Any:
    try:
        document, _ = load_yaml(f"value: {text}\n".encode(), "value")
    except SpecError as error:  # the text is not repeated: it may be a secret's
        raise ScalarError(f"not a YAML value: {error.errors[0].message}") from None
    if not isinstance(document, dict) or "value" not in document or len(document) != 1:
        raise ScalarError("not one YAML value")
    return document["value"]
