"""Expressions and "${ }" templates: parsed once, checked statically, bounded.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.expr.expression import Expression as Expression
    from wfe.expr.expression import ExpressionRejected as ExpressionRejected
    from wfe.expr.expression import compile_expression as compile_expression
    from wfe.expr.expression import evaluate_at_load as evaluate_at_load
    from wfe.expr.expression import printable as printable
    from wfe.expr.template import Template as Template
    from wfe.expr.template import compile_template as compile_template
    from wfe.expr.template import has_template as has_template
    from wfe.expr.template import text_of as text_of

__all__ = [
    "Expression",
    "ExpressionRejected",
    "Template",
    "compile_expression",
    "compile_template",
    "evaluate_at_load",
    "has_template",
    "printable",
    "text_of",
]

_WHERE = {
    "compile_expression": "wfe.expr.expression",
    "compile_template": "wfe.expr.template",
    "evaluate_at_load": "wfe.expr.expression",
    "Expression": "wfe.expr.expression",
    "ExpressionRejected": "wfe.expr.expression",
    "has_template": "wfe.expr.template",
    "printable": "wfe.expr.expression",
    "Template": "wfe.expr.template",
    "text_of": "wfe.expr.template",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
