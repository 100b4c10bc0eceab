"""Workflow files as text: read within the size cap, decode strictly as UTF-8, refuse control,
bidirectional and invisible characters, and turn character offsets into line and column.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from bisect import bisect_right
from pathlib import Path
from typing import Final

from wfe.errors import Location, Problem, SpecError

MAX_BYTES = 1_048_576
_LINE_BREAK: Final = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_FORBIDDEN_CHAR: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069"
    "\ufeff\ufffe\uffff]"
)
_MAX_CHAR_PROBLEMS: Final = 20
_OS_ERRORS: Final[dict[type[OSError], str]] = {
    FileNotFoundError: "no such file",
    IsADirectoryError: "is a directory, not a file",
    PermissionError: "permission denied",
}
_NOT_REGULAR: Final = "not a regular file (a FIFO, device or socket); only regular files are read"
_NOT_UTF8_STARTS: Final = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def read_source(path: Path, display_name: str | None = None) -> bytes:
    """The bytes of a workflow file, or SpecError WFE001 if it cannot be read, is not a regular
    file (a FIFO or a device would block or never end) or is too large."""
    name = str(path) if display_name is None else display_name
    try:
        with open(path, "rb", opener=_open_without_waiting) as stream:
            _check_regular(os.fstat(stream.fileno()), name)
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise _unreadable(name, error) from None
    if len(data) > MAX_BYTES:
        # The file grew after the check, or reports no useful size (as /proc files do).
        raise file_error(name, f"file is more than {MAX_BYTES} bytes; limit is {MAX_BYTES}")
    return data


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """At most `limit` + 1 bytes of a regular file, opened without waiting for a writer and
    checked once open; None for anything else (a FIFO, a device, a folder), which is never read.
    For other readers of files a user names (`-i KEY=@FILE`); a workflow file is read_source's."""
    try:
        with open(path, "rb", opener=_open_without_waiting) as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return None
            return stream.read(limit + 1)
    except IsADirectoryError:
        return None


def _open_without_waiting(path: str, flags: int) -> int:
    # Without O_NONBLOCK, opening a FIFO waits for a writer: `wfe validate DIR` would hang.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _check_regular(info: os.stat_result, name: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError
    if not stat.S_ISREG(info.st_mode):
        raise file_error(name, _NOT_REGULAR)
    if info.st_size > MAX_BYTES:
        raise file_error(name, f"file is {info.st_size} bytes; limit is {MAX_BYTES}")


def _unreadable(name: str, error: OSError) -> SpecError:
    if error.errno == errno.ENXIO:  # a socket
        return file_error(name, _NOT_REGULAR)
    reason = _OS_ERRORS.get(type(error)) or f"cannot read file ({error.strerror or error})"
    return file_error(name, reason)


def decode(data: bytes, filename: str) -> str:
    # UTF-16/32 put a NUL among the first bytes of any text that starts with ASCII.
    if data.startswith(_NOT_UTF8_STARTS) or b"\x00" in data[:4]:
        raise file_error(filename, "workflow files must be UTF-8")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8")
        line, col = Lines(prefix).at(len(prefix))
        message = f"file is not valid UTF-8 (byte 0x{data[error.start]:02x})"
        raise SpecError([problem("WFE001", message, filename, line, col)]) from None


def check_characters(text: str, filename: str) -> None:
    problems: list[Problem] = []
    lines: Lines | None = None
    for match in _FORBIDDEN_CHAR.finditer(text):
        lines = lines or Lines(text)
        line, col = lines.at(match.start())
        problems.append(problem("WFE006", _refusal(match.group()), filename, line, col))
        if len(problems) == _MAX_CHAR_PROBLEMS:
            break
    if problems:
        raise SpecError(problems)


def forbidden_character(value: str) -> str | None:
    """Why a parsed string may not be used (a control, bidirectional or invisible character that
    an escape such as "\\e" or "\\u202e" spelled), or None when it may."""
    match = _FORBIDDEN_CHAR.search(value)
    return None if match is None else _refusal(match.group()) + " (written as an escape)"


def _refusal(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"control character U+{code:04X} not allowed"
    if code >= 0xFFFE:
        return f"noncharacter U+{code:04X} not allowed"
    return f"invisible/bidirectional control character U+{code:04X} not allowed"


class Lines:
    """Turns a character offset into a 1-based (line, col), counting breaks as PyYAML does."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def at(self, index: int) -> tuple[int, int]:
        line = bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


def problem(code: str, message: str, filename: str, line: int, col: int) -> Problem:
    return Problem(code, message, Location(filename, line, col))


def file_error(filename: str, message: str) -> SpecError:
    return SpecError([problem("WFE001", message, filename, 1, 1)])


