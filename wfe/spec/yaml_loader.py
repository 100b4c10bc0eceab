"""Hardened YAML loading for workflow files, keeping the line and column of every key and value.

A parser turns the text into events (wfe.spec._yaml_events: libyaml's, consumed lazily, or PyYAML's
pure-Python one; never the C loader, which recurses and crashes on deep nesting). A composer of
our own builds plain values straight from those events, one at a time, and enforces the policy:
YAML 1.2 core scalars, only JSON-compatible tags, string keys without duplicates or merge keys,
one document, bounded depth and bounded alias expansion. It never constructs anything but
dict, list, str, int, float, bool and None.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from yaml.error import Mark, MarkedYAMLError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.reader import ReaderError

from wfe.errors import Location, Problem, SpecError
from wfe.spec._yaml_events import EventStream, fast_events, python_events
from wfe.spec._yaml_text import (
    MAX_BYTES,
    Lines,
    check_characters,
    decode,
    file_error,
    forbidden_character,
    problem,
    read_source,
)

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_INT_DIGITS", "Positions"]
__all__ += ["YamlPath", "dotted_path", "load_yaml", "read_source"]

MAX_DEPTH = 64  # the top-level mapping is level 1
MAX_EXPANDED_NODES = 100_000
MAX_INT_DIGITS = 18

YamlPath = tuple[str | int, ...]
_Pos = tuple[int, int]

_CORE_TAG: Final = "tag:yaml.org,2002:"
_SCALAR_PATTERNS: Final = {
    "null": r"~|null|Null|NULL|",
    "bool": r"true|True|TRUE|false|False|FALSE",
    "int": r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+",
    "float": r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    "str": r"(?s:.*)",
}
_SCALAR_RE: Final = {kind: re.compile(pattern) for kind, pattern in _SCALAR_PATTERNS.items()}
# The first kind (in this order) whose pattern matches a whole plain scalar wins.
_IMPLICIT_RE: Final = re.compile(
    "|".join(f"(?P<{kind}>{_SCALAR_PATTERNS[kind]})" for kind in ("null", "bool", "int", "float"))
)
_NODE_TAGS: Final = {"scalar": set(_SCALAR_PATTERNS), "sequence": {"seq"}, "mapping": {"map"}}
_BAD: Final[Any] = object()  # stands for a node that already produced a Problem


class Positions:
    """Where each key and value of a loaded document stands (1-based line, col)."""

    def __init__(self) -> None:
        self._values: dict[YamlPath, _Pos] = {}
        self._keys: dict[YamlPath, _Pos] = {}

    def value(self, path: YamlPath) -> _Pos | None:
        """Start of the value node at ``path``; ``()`` is the document root."""
        return self._values.get(tuple(path))

    def key(self, path: YamlPath) -> _Pos | None:
        """Start of the mapping key whose value is at ``path``."""
        return self._keys.get(tuple(path))

    def nearest(self, path: YamlPath) -> _Pos:
        """The position of ``path``, else of its longest prefix that has one; (1, 1) at worst."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            found = self._values.get(path[:end]) or self._keys.get(path[:end])
            if found is not None:
                return found
        return (1, 1)

    def location(self, file: str, path: YamlPath, *, at_key: bool = False) -> Location:
        """A Location for ``path``: its key when ``at_key`` and the key is known, else nearest."""
        line, col = (self.key(path) if at_key else None) or self.nearest(path)
        return Location(file, line, col, dotted_path(path))

    def _record(self, table: dict[YamlPath, _Pos], path: YamlPath, mark: Mark) -> None:
        table[path] = (mark.line + 1, mark.column + 1)


def dotted_path(path: YamlPath) -> str:
    """``("nodes", "read", "next", 0, "when")`` -> ``"nodes.read.next[0].when"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def load_yaml(data: bytes, filename: str) -> tuple[Any, Positions]:
    """Parse one workflow document into plain values and the positions of its keys and values.

    Raises SpecError with every composition-level problem in document order, or with the
    first syntax error (the parser cannot go on after one).
    """
    if len(data) > MAX_BYTES:
        raise file_error(filename, f"file is {len(data)} bytes; limit is {MAX_BYTES}")
    text = decode(data, filename)
    check_characters(text, filename)
    composer, parser_failed = _compose(text, filename, fast_events(text))
    if parser_failed:
        # libyaml words syntax errors differently; PyYAML's own parser says what went wrong.
        composer, _ = _compose(text, filename, python_events(text))
    if composer.problems:
        raise SpecError(sorted(composer.problems, key=Problem.sort_key))
    return composer.document_value, composer.positions


def _compose(text: str, filename: str, events: EventStream) -> tuple[_Composer, bool]:
    """Compose the document; True when the parser itself failed (a syntax error)."""
    composer = _Composer(events, filename)
    try:
        composer.document_value = composer.document()
    except SpecError as stop:  # a problem after which composing cannot go on
        composer.problems.extend(stop.problems)
    except MarkedYAMLError as error:
        composer.problems.append(_syntax_problem(error, filename))
        return composer, True
    except ReaderError as error:
        line, col = Lines(text).at(error.position)
        message = f"character U+{error.character:04X} not allowed"
        composer.problems.append(problem("WFE006", message, filename, line, col))
        return composer, True
    except Exception as error:
        # RecursionError, MemoryError, ValueError or a parser bug: never a bare traceback.
        mark = composer.events.get_mark()
        message = f"could not parse the file ({type(error).__name__}: {error})"
        composer.problems.append(composer.problem_at("WFE002", message, mark))
        return composer, True
    return composer, False


class _Composer:
    """Builds plain values from the event stream, recording positions and problems."""

    def __init__(self, events: EventStream, filename: str) -> None:
        self.events = events
        self.document_value: Any = None
        self.filename = filename
        self.positions = Positions()
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int, Mark]] = {}  # value, expanded size, where
        self.open_anchors: set[str] = set()  # collections being composed: aliasing them recurses
        self.depth = 0
        self.expanded = 0  # nodes so far, with every alias counted as the nodes it stands for
        self.aliased = False

    def document(self) -> Any:
        self.events.take()  # StreamStartEvent
        if self.events.check_event(StreamEndEvent):
            raise file_error(self.filename, "workflow file is empty")
        self.events.take()  # DocumentStartEvent
        root_event = self.events.upcoming()
        root = self.compose(())
        self.events.take()  # DocumentEndEvent
        if not self.events.check_event(StreamEndEvent):
            second = self.events.take().start_mark
            self.report("WFE003", "only one YAML document per file", second)
        empty = isinstance(root_event, ScalarEvent) and root_event.style is None and root is None
        if empty and not root_event.value and root_event.tag is None:  # only `---` and comments
            raise file_error(self.filename, "workflow file is empty")
        if root is not _BAD and not isinstance(root, dict):
            self.report("WFE011", "top level must be a mapping", root_event.start_mark)
        return root

    def report(self, code: str, message: str, mark: Mark) -> None:
        self.problems.append(self.problem_at(code, message, mark))

    def problem_at(self, code: str, message: str, mark: Mark) -> Problem:
        return problem(code, message, self.filename, mark.line + 1, mark.column + 1)

    def compose(self, path: YamlPath | None) -> Any:
        """The next node's value; ``path`` is None where positions are not kept (in keys)."""
        event = self.events.upcoming()
        mark: Mark = event.start_mark
        if path is not None:
            self.positions._record(self.positions._values, path, mark)
        if isinstance(event, AliasEvent):
            self.events.take()
            return self.alias(event.anchor or "", mark)
        anchor = self.claim_anchor(event.anchor, mark)
        before = self.expanded
        if isinstance(event, ScalarEvent):
            self.events.take()
            self.count(1, mark)
            value = self.scalar(event, mark)
        else:
            value = self.collection(path)
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.anchors[anchor] = (value, self.expanded - before, mark)
        return value

    def claim_anchor(self, anchor: str | None, mark: Mark) -> str | None:
        if anchor is None:
            return None
        if anchor in self.anchors or anchor in self.open_anchors:
            first = _where(self.anchors[anchor][2] if anchor in self.anchors else mark)
            self.report("WFE003", f"anchor &{anchor} is defined twice (first at {first})", mark)
            return None
        self.open_anchors.add(anchor)
        return anchor

    def alias(self, name: str, mark: Mark) -> Any:
        self.aliased = True
        if name in self.open_anchors:
            self.report("WFE005", f"recursive alias *{name}", mark)
            return _BAD
        if name not in self.anchors:
            self.report("WFE002", f"unknown alias *{name} (no anchor &{name} before it)", mark)
            return _BAD
        value, size, _ = self.anchors[name]
        self.count(size, mark)
        return _clone(value)

    def count(self, nodes: int, mark: Mark) -> None:
        # Counting before anything is copied is what keeps billion laughs to milliseconds.
        self.expanded += nodes
        if self.expanded > MAX_EXPANDED_NODES:
            why = " (alias amplification)" if self.aliased else ""
            message = f"document expands to more than {MAX_EXPANDED_NODES} nodes{why}"
            raise SpecError([self.problem_at("WFE005", message, mark)])

    def scalar(self, event: ScalarEvent, mark: Mark) -> Any:
        tag, text = event.tag, event.value
        if event.style == '"':  # the one style with escapes, which the check of the text misses
            refused = forbidden_character(text)
            if refused is not None:
                self.report("WFE006", refused, mark)
                return _BAD
        if tag is None or tag == "!":
            match = _IMPLICIT_RE.fullmatch(text) if tag is None and event.implicit[0] else None
            kind = (match.lastgroup if match else None) or "str"
        else:
            kind = self.check_tag(tag, "scalar", mark) or ""
            if not kind:
                return _BAD
            if not _SCALAR_RE[kind].fullmatch(text):
                self.report("WFE011", f"{text!r} is not a valid !!{kind}", mark)
                return _BAD
        try:
            return _convert(kind, text)
        except ValueError as error:
            self.report("WFE011", str(error), mark)
            return _BAD

    def check_tag(self, tag: str, kind: str, mark: Mark) -> str | None:
        """The core type ``tag`` names if a node of ``kind`` may carry it, else report it."""
        short = tag.removeprefix(_CORE_TAG)
        if short == tag:
            custom = tag.startswith("!")
            message = f"custom tags are not supported ({tag})" if custom else ""
            self.report("WFE003", message or f"tag {tag} is not allowed", mark)
            return None
        if short in _NODE_TAGS[kind]:
            return short
        if any(short in tags for tags in _NODE_TAGS.values()):
            self.report("WFE003", f"tag !!{short} cannot be used on a {kind}", mark)
        else:
            self.report("WFE003", f"tag !!{short} is not allowed", mark)
        return None

    def collection(self, path: YamlPath | None) -> Any:
        event = self.events.take()
        mark: Mark = event.start_mark
        if self.depth >= MAX_DEPTH:
            message = f"nesting deeper than {MAX_DEPTH} levels"
            raise SpecError([self.problem_at("WFE005", message, mark)])
        self.count(1, mark)
        kind = "mapping" if isinstance(event, MappingStartEvent) else "sequence"
        tag_ok = event.tag in (None, "!") or self.check_tag(event.tag, kind, mark) is not None
        self.depth += 1
        value = self.mapping(path) if kind == "mapping" else self.sequence(path)
        self.depth -= 1
        self.events.take()  # SequenceEndEvent or MappingEndEvent
        return value if tag_ok else _BAD

    def sequence(self, path: YamlPath | None) -> list[Any]:
        items: list[Any] = []
        while not self.events.check_event(SequenceEndEvent):
            items.append(self.compose(None if path is None else (*path, len(items))))
        return items

    def mapping(self, path: YamlPath | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        while not self.events.check_event(MappingEndEvent):
            key_event = self.events.upcoming()
            mark: Mark = key_event.start_mark
            name = self.key_name(self.compose(None), key_event, mark, seen)
            child = None if path is None or name is None else (*path, name)
            if child is not None:
                self.positions._record(self.positions._keys, child, mark)
            value = self.compose(child)
            if name is not None:
                result[name] = value
        return result

    def key_name(self, key: Any, event: Any, mark: Mark, seen: dict[str, Mark]) -> str | None:
        """The key if it is a usable one, else None after reporting why not."""
        if key is _BAD:
            return None
        if not isinstance(key, str):
            self.report("WFE003", f"mapping keys must be strings (got {_describe(key)})", mark)
            return None
        plain = isinstance(event, ScalarEvent) and event.style is None and event.tag is None
        if key == "<<" and plain:
            self.report("WFE003", "merge keys (<<) are not supported", mark)
            return None
        if key in seen:
            first = _where(seen[key])
            self.report("WFE004", f"duplicate key '{key}' (first defined at {first})", mark)
            return None
        seen[key] = mark
        return key


def _convert(kind: str, text: str) -> Any:
    """The value of a scalar whose text matches the pattern of its core ``kind``."""
    if kind in ("str", "null", "bool"):
        return {"str": text, "null": None, "bool": text[:1] in ("t", "T")}[kind]
    if kind == "int":
        body = text.lstrip("+-")
        base = {"0o": 8, "0x": 16}.get(body[:2], 10)
        digits = body if base == 10 else body[2:]
        if len(digits) > MAX_INT_DIGITS:
            raise ValueError("integer literal too large")
        return (-1 if text.startswith("-") else 1) * int(digits, base)
    number = math.inf if text[-1].isalpha() else float(text)  # .inf and .nan end in a letter
    if not math.isfinite(number):
        raise ValueError("non-finite number not allowed")
    return number


def _clone(value: Any) -> Any:
    # Aliased values are copied so that changing one occurrence never changes another.
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"bool {str(value).lower()}"
    if isinstance(value, int | float):
        return f"{type(value).__name__} {value!r}"
    return "a mapping" if isinstance(value, dict) else "a sequence"


def _syntax_problem(error: MarkedYAMLError, filename: str) -> Problem:
    """WFE002 for a scanner or parser error, in words a workflow author can act on."""
    text = error.problem or "invalid YAML"
    mark, context_mark = error.problem_mark or error.context_mark, error.context_mark
    if "'\\t'" in text or "tab character" in text:
        message = "tab character used for indentation"
    elif error.context == "while scanning a quoted scalar" and "end of stream" in text:
        message, mark = "unterminated quoted string (reached end of file)", context_mark or mark
    elif text == "mapping values are not allowed here":
        message = f"{text} (check the indentation)"
    elif error.context == "while parsing a flow mapping" and "got '['" in text:
        message = (f"{text} ({error.context} at {_where(context_mark)}; inside {{ }} quote a "
                   'value with brackets: type: "list[int]")') if context_mark else text
    elif error.context and context_mark and context_mark is not mark:
        message = f"{text} ({error.context} at {_where(context_mark)})"
    else:
        message = text
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return problem("WFE002", message, filename, line, col)


def _where(mark: Mark) -> str:
    return f"{mark.line + 1}:{mark.column + 1}"
