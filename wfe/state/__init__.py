"""The state schema: type texts, per-key validation, reducers and strict checks.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.state.schema import Slot as Slot
    from wfe.state.schema import StateSchema as StateSchema
    from wfe.state.schema import describe_value as describe_value
    from wfe.state.types import TypeSyntaxError as TypeSyntaxError
    from wfe.state.types import TypeTree as TypeTree
    from wfe.state.types import builtin_of as builtin_of
    from wfe.state.types import exact_builtin as exact_builtin
    from wfe.state.types import fits as fits
    from wfe.state.types import holds_as_is as holds_as_is
    from wfe.state.types import is_list_type as is_list_type
    from wfe.state.types import parse_type as parse_type
    from wfe.state.types import python_type as python_type

__all__ = [
    "Slot",
    "StateSchema",
    "TypeSyntaxError",
    "TypeTree",
    "builtin_of",
    "describe_value",
    "exact_builtin",
    "fits",
    "holds_as_is",
    "is_list_type",
    "parse_type",
    "python_type",
]

_WHERE = {
    "builtin_of": "wfe.state.types",
    "describe_value": "wfe.state.schema",
    "exact_builtin": "wfe.state.types",
    "fits": "wfe.state.types",
    "holds_as_is": "wfe.state.types",
    "is_list_type": "wfe.state.types",
    "parse_type": "wfe.state.types",
    "python_type": "wfe.state.types",
    "Slot": "wfe.state.schema",
    "StateSchema": "wfe.state.schema",
    "TypeSyntaxError": "wfe.state.types",
    "TypeTree": "wfe.state.types",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
