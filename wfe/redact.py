"""What text may leave the process or enter the store: secrets masked by value, errors cut short.

Masking works as GitHub Actions does it: once a run knows the value of a `secret: true` key, that
value is replaced by `***` wherever it turns up (an error message quoting it, a tool's log line, a
state key a tool copied it into), not only under its own key. The values are kept for the life of
the process, so a long-lived process (`wfe serve`) masks every secret it has seen in every run.
Values shorter than MIN_LENGTH characters are masked under their own key only: masking `1` or `no`
everywhere would garble every line without hiding anything.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import Any, Final

from wfe.errors import one_line

MASK: Final = "***"
MIN_LENGTH: Final = 4
#: Characters of an error message that are stored and shown; the rest is cut with a marker.
MAX_MESSAGE: Final = 4096


class Secrets:
    """The secret values known so far, as the texts they can appear as."""

    __slots__ = ("_forms", "_lock", "_pattern")

    def __init__(self) -> None:
        self._forms: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return self._pattern is not None

    def add(self, values: Iterable[Any]) -> None:
        forms = {form for value in values for form in _forms_of(value) if len(form) >= MIN_LENGTH}
        if forms <= self._forms:
            return
        with self._lock:
            self._forms = self._forms | forms
            # Longest first, so that a secret containing another is masked whole.
            alternatives = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, alternatives)))

    def text(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every secret replaced in every string in it."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            return MASK if self.text(text) != text else value
        return value


def _forms_of(value: Any) -> Iterable[str]:
    """The texts a secret value shows as: itself, each of its lines, and its escaped forms."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _forms_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _forms_of(item)
    elif isinstance(value, str):
        yield value
        yield from value.splitlines()
        yield repr(value)[1:-1]
        yield json.dumps(value)[1:-1]
        yield json.dumps(value, ensure_ascii=False)[1:-1]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


#: Every secret value this process has seen.
KNOWN = Secrets()


def remember(values: Iterable[Any]) -> None:
    """Mask these values from now on, wherever text leaves the process."""
    KNOWN.add(values)


def mask_text(text: str) -> str:
    return KNOWN.text(text)


def mask_value(value: Any) -> Any:
    return KNOWN.value(value)


def cut(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message of at most about `limit` characters, saying how much was cut."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... [{len(message) - limit} more characters cut]"


def shown_error(error: BaseException | str) -> str:
    """An error as one line for a terminal or a log: secrets masked, cut, control characters
    and line breaks escaped."""
    return one_line(cut(mask_text(str(error))))
