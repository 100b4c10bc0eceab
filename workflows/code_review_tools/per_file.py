"""Per-file tools for reviewing a folder: `review_file.yaml` runs `measure_file` and
`find_smells` side by side (a `parallel:` node), then `combine_review`; `code_review.yaml` maps
that subgraph over the files and `gather_reviews` puts the results in order.
"""

from __future__ import annotations

import ast
from typing import Any

from wfe import tool

from ._fixes import find_fixes, unified_diff
from ._issues import Issue, make_issue, sort_key
from ._metrics import measure_functions
from ._names import name_smells
from ._smells import comment_smells, function_smells, syntax_error_issue, tree_smells
from ._source import SourceText, code_lines, parse


def _parse(source: str, path: str) -> ast.Module | Issue:
    try:
        return parse(source, path)
    except SyntaxError as error:
        return syntax_error_issue(error)
    except ValueError as error:  # e.g. null bytes
        return make_issue(1, 1, "CR000", f"syntax error: {error}", error=str(error))


@tool
def measure_file(file: dict[str, Any]) -> dict[str, Any]:
    """Every function of one file: complexity (as mccabe), length, parameters, nesting."""
    source, path = str(file["source"]), str(file["path"])
    tree = _parse(source, path)
    if not isinstance(tree, ast.Module):
        return {"functions": []}
    return {"functions": measure_functions(tree, SourceText.of(source))}


@tool
def find_smells(file: dict[str, Any]) -> dict[str, Any]:
    """The smells of one file that do not depend on function measures."""
    source, path = str(file["source"]), str(file["path"])
    tree = _parse(source, path)
    if not isinstance(tree, ast.Module):
        return {"issues": [tree]}
    src = SourceText.of(source)
    return {"issues": [*tree_smells(tree, src, path), *name_smells(tree, src, path),
                       *comment_smells(source)]}


@tool
def combine_review(
    file: dict[str, Any],
    functions: list[dict[str, Any]],
    issues: list[dict[str, Any]],
    max_complexity: int = 10,
    max_length: int = 50,
    max_params: int = 5,
    max_nesting: int = 4,
) -> dict[str, Any]:
    """One file's review: its functions, every issue (flagged fixable or not), its diff."""
    source, path = str(file["source"]), str(file["path"])
    limits = {"max_complexity": max_complexity, "max_length": max_length,
              "max_params": max_params, "max_nesting": max_nesting}
    found: list[dict[str, Any]] = [
        *issues, *(dict(i) for i in function_smells(functions, limits))]  # type: ignore[arg-type]
    tree = _parse(source, path)
    fixable = ({(f.code, f.line, f.col) for f in find_fixes(tree, SourceText.of(source))}
               if isinstance(tree, ast.Module) else set())
    for issue in found:
        issue["fixable"] = (issue["code"], issue["line"], issue["col"]) in fixable
    original = str(file.get("original", source))
    return {"review": {
        "path": path,
        "lines": code_lines(source),
        "functions": functions,
        "issues": sorted(found, key=sort_key),
        "fixes": list(file.get("fixes", [])),
        "fixed_source": source if source != original else None,
        "diff": file.get("diff") or unified_diff(path, original, source),
    }}


@tool
def gather_reviews(file_reviews: list[dict[str, Any]]) -> dict[str, Any]:
    """The reviews of a folder's files, in file order, from the per-file subgraph runs."""
    return {"reviews": [entry["review"] for entry in file_reviews]}
