"""The tool registry: `@tool` marks a function; a Registry collects marked functions by name.

The decorator only sets an attribute and returns the function unchanged; registration is explicit
(`Registry.register`, `Registry.register_module`), so importing a module never mutates global state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Any, TypeVar, get_type_hints, overload

from wfe.errors import Location, Problem, SpecError, did_you_mean

F = TypeVar("F", bound=Callable[..., Any])

TOOL_ATTRIBUTE = "__wfe_tool__"
#: Parameter names that are filled by wfe itself rather than from `with:` or the state.
STATE_PARAM = "state"
CONTEXT_PARAM = "ctx"


@dataclass(frozen=True, slots=True)
class ToolMark:
    """What `@tool` records on a function."""

    name: str | None
    version: str | None


@overload
def tool(fn: F, /) -> F: ...
@overload
def tool(name: str | None = None, /, *, version: str | None = None) -> Callable[[F], F]: ...


def tool(
    fn_or_name: Callable[..., Any] | str | None = None, /, *, version: str | None = None
) -> Any:
    """Mark a function as a wfe tool: `@tool`, `@tool("name")` or `@tool(version="2")`."""

    def mark(fn: F) -> F:
        name = fn_or_name if isinstance(fn_or_name, str) else None
        setattr(fn, TOOL_ATTRIBUTE, ToolMark(name=name, version=version))
        return fn

    if callable(fn_or_name):
        return mark(fn_or_name)
    return mark


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a tool: its name, its annotation (resolved), and its default if any."""

    name: str
    annotation: Any
    has_default: bool
    default: Any


@dataclass(eq=False)
class ToolDef:
    """A registered tool: the function and what binding needs to know about it, computed once."""

    name: str
    fn: Callable[..., Any]
    declared_version: str | None = None
    params: tuple[Param, ...] = field(init=False)
    accepts_any_keyword: bool = field(init=False)
    is_async: bool = field(init=False)

    def __post_init__(self) -> None:
        signature = inspect.signature(self.fn)
        hints = _type_hints(self.fn)
        params = []
        accepts_any = False
        for p in signature.parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                accepts_any = True
                continue
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
                continue
            annotation = hints.get(p.name, p.annotation)
            has_default = p.default is not inspect.Parameter.empty
            params.append(Param(p.name, annotation, has_default, p.default))
        self.params = tuple(params)
        self.accepts_any_keyword = accepts_any
        self.is_async = inspect.iscoroutinefunction(self.fn)

    @property
    def module(self) -> str:
        return getattr(self.fn, "__module__", "?") or "?"

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.fn) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    @property
    def where(self) -> str:
        code = getattr(self.fn, "__code__", None)
        if code is None:
            return self.module
        return f"{code.co_filename}:{code.co_firstlineno}"

    @property
    def signature(self) -> str:
        return f"{self.name}{inspect.signature(self.fn)}"

    @cached_property
    def version(self) -> str:
        """The declared version, else a hash of the function's source (for caching)."""
        if self.declared_version is not None:
            return self.declared_version
        # deferred: hashlib (~3 ms) is for cache keys; `import wfe` in a tool module goes without
        import hashlib

        try:
            source = inspect.getsource(self.fn)
        except (OSError, TypeError):
            source = self.fn.__qualname__
        return hashlib.sha256(source.encode()).hexdigest()[:16]


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(fn)
    except Exception:
        return {}


class Registry:
    """Tools by name. Resolving an unknown name fails with a did-you-mean."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolDef] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[ToolDef]:
        return iter(sorted(self._tools.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def get(self, name: str) -> ToolDef | None:
        return self._tools.get(name)

    def suggest(self, name: str) -> str:
        return did_you_mean(name, self._tools)

    def register(self, fn: Callable[..., Any], name: str | None = None) -> ToolDef:
        """Register fn under name (default: its @tool name, else its function name)."""
        mark = getattr(fn, TOOL_ATTRIBUTE, None)
        version = mark.version if isinstance(mark, ToolMark) else None
        if name is None:
            name = mark.name if isinstance(mark, ToolMark) and mark.name else fn.__name__
        existing = self._tools.get(name)
        if existing is not None:
            if existing.fn is fn:
                return existing
            new = ToolDef(name, fn, version)
            message = (
                f"two tools are named '{name}': {existing.where} and {new.where}; "
                f"rename one with @tool(\"other_name\")"
            )
            raise SpecError([Problem("WFE033", message, Location(new.where))])
        definition = ToolDef(name, fn, version)
        self._tools[name] = definition
        return definition

    def register_module(self, module: ModuleType) -> list[ToolDef]:
        """Register every @tool-marked function the module defines or imports."""
        found = []
        for value in list(vars(module).values()):
            if callable(value) and isinstance(getattr(value, TOOL_ATTRIBUTE, None), ToolMark):
                found.append(self.register(value))
        return found

    def register_all(self, functions: Iterable[Callable[..., Any]]) -> None:
        for fn in functions:
            self.register(fn)
