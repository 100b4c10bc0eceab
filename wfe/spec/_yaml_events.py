"""YAML event streams for the composer in wfe.spec.yaml_loader.

`fast_events` uses libyaml's parser when PyYAML was built with it (about ten times faster than the
pure-Python one). Events are pulled one at a time and the composer stops at nesting level 65, so
libyaml never gets to the deep-nesting inputs on which its scanner is slow and its C composer
crashes: we never call that composer. `python_events` is PyYAML's pure-Python parser, whose
syntax-error messages the loader reports.
"""

from __future__ import annotations

from typing import Any, Protocol

from yaml.error import Mark
from yaml.events import ScalarEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

MAX_FLOW_LEVEL = 64


class EventStream(Protocol):
    def take(self) -> Any: ...

    def upcoming(self) -> Any: ...

    def check_event(self, *choices: type) -> bool: ...

    def get_mark(self) -> Mark: ...


class _PythonEvents(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser over one text."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)

    def save_possible_simple_key(self) -> None:
        # A flow collection this deep is rejected anyway; without a simple key to resolve, the
        # scanner does not read ahead 1024 characters of `[[[[`, each costing O(flow level).
        if self.flow_level < MAX_FLOW_LEVEL:
            super().save_possible_simple_key()

    def take(self) -> Any:
        return self.get_event()  # type: ignore[no-untyped-call]

    def upcoming(self) -> Any:
        return self.peek_event()  # type: ignore[no-untyped-call]


class _LibyamlEvents:
    """libyaml's parser, with its events made to look like PyYAML's (plain style is None)."""

    def __init__(self, text: str) -> None:
        self._parser = _CParser(text)
        self._line = 0
        self._column = 0

    def _normal(self, event: Any) -> Any:
        if isinstance(event, ScalarEvent) and event.style == "":
            event.style = None
        mark = event.start_mark
        self._line, self._column = mark.line, mark.column
        return event

    def take(self) -> Any:
        return self._normal(self._parser.get_event())

    def upcoming(self) -> Any:
        return self._normal(self._parser.peek_event())

    def check_event(self, *choices: type) -> bool:
        return bool(self._parser.check_event(*choices))

    def get_mark(self) -> Mark:
        return Mark("<text>", 0, self._line, self._column, "", 0)


def python_events(text: str) -> EventStream:
    return _PythonEvents(text)


def fast_events(text: str) -> EventStream:
    return _LibyamlEvents(text) if _CParser is not None else _PythonEvents(text)
