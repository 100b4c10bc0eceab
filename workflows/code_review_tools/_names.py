"""Name-based smells: unused imports, unused local variables, shadowed built-ins.

A careful `ast` check, not a full scope analysis like pyflakes: a name counts as used when it is
read anywhere in the scope that binds it (including nested functions, which may close over it),
which errs toward silence rather than false alarms.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ._issues import Issue, issue_at
from ._metrics import SCOPES, ScopeNode, own_nodes
from ._source import SourceText, parse_expression

#: Built-in names worth protecting (the site-added `license`, `credits`... are fair game).
BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_")) - {
    "copyright",
    "credits",
    "license",
    "exit",
    "quit",
}


@dataclass(eq=False)
class ScopeInfo:
    """A scope (module, function, lambda or class body): its own nodes and nested scopes."""

    node: ScopeNode
    own: list[ast.AST]
    children: list[ScopeInfo]
    used: set[str]  # names read here or in any nested scope

    def walk(self) -> Iterator[ScopeInfo]:
        yield self
        for child in self.children:
            yield from child.walk()


def scope_tree(node: ScopeNode) -> ScopeInfo:
    """The scopes of node, each visited once."""
    own = list(own_nodes(node))
    children = [scope_tree(n) for n in own if isinstance(n, SCOPES)]
    used = _names_read(own)
    for child in children:
        used |= child.used
    return ScopeInfo(node, own, children, used)


def name_smells(tree: ast.Module, src: SourceText, path: str) -> list[Issue]:
    root = scope_tree(tree)
    issues: list[Issue] = []
    if PurePosixPath(path).name != "__init__.py":  # a package's imports are its API
        issues += unused_imports(root, src, exported_names(root.own))
    for scope in root.walk():
        if isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef):
            issues += unused_imports(scope, src, set())
            issues += unused_locals(scope, src)
        if not isinstance(scope.node, ast.ClassDef):
            issues += shadowed_builtins(scope, src)
    return issues


def _names_read(nodes: Iterable[ast.AST]) -> set[str]:
    """Names read (or deleted, or augmented) by nodes, string annotations included."""
    used: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            used.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            used.add(node.target.id)
        elif isinstance(node, ast.Nonlocal):
            used.update(node.names)
        for annotation in _annotations(node):
            used |= _string_annotation_names(annotation)
    return used


def _annotations(node: ast.AST) -> Iterator[ast.expr]:
    if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        yield node.returns


def _string_annotation_names(annotation: ast.expr) -> set[str]:
    """Names inside quoted annotations (`x: "Decimal"`, `list["Path"]`)."""
    names: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = parse_expression(node.value.strip())
            except SyntaxError:
                continue
            names |= {n.id for n in ast.walk(parsed) if isinstance(n, ast.Name)}
    return names


def exported_names(module_nodes: Iterable[ast.AST]) -> set[str]:
    """The strings put in `__all__` by the module's own nodes: assigned, augmented, extended."""
    names: set[str] = set()
    for node in module_nodes:
        value = _all_value(node)
        if isinstance(value, ast.List | ast.Tuple):
            names |= {
                e.value
                for e in value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            names.add(value.value)  # __all__.append("name")
    return names


def _all_value(node: ast.AST) -> ast.expr | None:
    """What node puts into `__all__`: `__all__ = / += / : ... = X`, `__all__.extend(X)`..."""
    if isinstance(node, ast.Assign) and any(_is_all(t) for t in node.targets):
        return node.value
    if isinstance(node, ast.AugAssign | ast.AnnAssign) and _is_all(node.target):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("extend", "append")
        and _is_all(node.func.value)
        and node.args
    ):
        return node.args[0]
    return None


def _is_all(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "__all__"


def _import_bindings(own: Iterable[ast.AST]) -> Iterator[tuple[ast.alias, str, str]]:
    """(alias, bound name, statement text) for each import among a scope's own nodes."""
    for node in own:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name != "*" and alias.asname != alias.name:  # `as same`: a re-export
                    bound = alias.asname or alias.name
                    yield alias, bound, f"from {module} import {_alias_text(alias)}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname != alias.name:
                    bound = alias.asname or alias.name.split(".")[0]
                    yield alias, bound, f"import {_alias_text(alias)}"


def _alias_text(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def unused_imports(scope: ScopeInfo, src: SourceText, exported: set[str]) -> list[Issue]:
    """Imports made in scope whose name nothing in the scope (or `__all__`) reads."""
    used = scope.used | exported
    issues = []
    for alias, bound, statement in _import_bindings(scope.own):
        if bound not in used:
            shown = alias.asname or alias.name
            message = f"`{shown}` imported but unused"
            issues.append(issue_at(src, alias, "CR006", message, name=shown, statement=statement))
    return issues


def unused_locals(scope: ScopeInfo, src: SourceText) -> list[Issue]:
    """Plain assignments (and `except ... as name`) whose value no code in the function reads."""
    own = scope.own
    if any(isinstance(n, ast.Name) and n.id in ("locals", "vars") for n in own):
        return []  # the function reads its namespace as a whole
    declared = {name for n in own if isinstance(n, ast.Global | ast.Nonlocal) for name in n.names}
    used = scope.used
    issues, seen = [], set()
    for name, node in _local_bindings(own):
        if name in seen or name in used or name in declared or name.startswith("_"):
            continue
        seen.add(name)
        if isinstance(node, ast.ExceptHandler):
            message = f"exception bound to `{name}` is never used"
        else:
            message = f"local variable `{name}` is assigned but never used"
        issues.append(issue_at(src, node, "CR007", message, name=name))
    return issues


def _local_bindings(own: Iterable[ast.AST]) -> Iterator[tuple[str, ast.AST]]:
    for node in own:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, target
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                yield node.target.id, node.target
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name, node


def shadowed_builtins(scope: ScopeInfo, src: SourceText) -> list[Issue]:
    """The first binding of each built-in name in scope (imports excepted: those are deliberate)."""
    bindings: list[tuple[str, ast.AST]] = []
    if isinstance(scope.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        arguments = scope.node.args
        params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        params += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        bindings += [(arg.arg, arg) for arg in params]
    for node in scope.own:
        name = _bound_name(node)
        if name is not None:
            bindings.append((name, node))
    issues, seen = [], set()
    for name, node in sorted(bindings, key=lambda binding: _position(binding[1])):
        if name in BUILTIN_NAMES and name not in seen:
            seen.add(name)
            message = f"`{name}` shadows the built-in `{name}`"
            issues.append(issue_at(src, node, "CR008", message, name=name))
    return issues


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _bound_name(node: ast.AST) -> str | None:
    """The name a node binds in its scope, if it binds one (imports aside)."""
    if isinstance(node, ast.Name):
        return node.id if isinstance(node.ctx, ast.Store) else None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.ExceptHandler):
        return node.name
    return None
