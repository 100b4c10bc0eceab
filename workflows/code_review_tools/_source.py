"""Reading the code under review, and mapping `ast` positions onto its text.

`ast` reports columns as UTF-8 byte offsets; issues report 1-based character columns, so every
conversion goes through `SourceText`.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

#: The workflows folder: the parent of this package.
WORKFLOWS_DIR = Path(__file__).resolve().parent.parent

# Python's tokenizer ends lines at \n, \r\n or \r only (str.splitlines also splits at \f...).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """The lines of text with their endings, split exactly where Python splits them."""
    return _LINE.findall(text)


@dataclass(frozen=True, slots=True)
class SourceText:
    """A source text with its line table."""

    text: str
    lines: tuple[str, ...]
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourceText:
        lines = split_lines(text)
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line)
        starts.append(offset)  # so that "the line after the last" has a start too
        return cls(text, tuple(lines), tuple(starts))

    def line(self, lineno: int) -> str:
        """Line `lineno` (1-based) without its ending; "" past the end."""
        if 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].rstrip("\r\n")
        return ""

    def char_col(self, lineno: int, byte_col: int) -> int:
        """The 0-based character column of an `ast` (UTF-8 byte) column."""
        line = self.line(lineno)
        if line.isascii():
            return byte_col
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    def offset(self, lineno: int, byte_col: int) -> int:
        """The character offset in `text` of an `ast` position."""
        if lineno > len(self.lines):
            return len(self.text)
        return self.starts[lineno - 1] + self.char_col(lineno, byte_col)

    def span(self, node: ast.AST) -> tuple[int, int]:
        """The character offsets where node starts and ends."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        end_col = node.end_col_offset  # type: ignore[attr-defined]
        return start, self.offset(end_line, end_col if end_col is not None else 0)

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def indent(self, lineno: int) -> str:
        line = self.line(lineno)
        return line[: len(line) - len(line.lstrip(" \t"))]

    def newline(self) -> str:
        """The file's line ending (that of its first line), "\\n" when it has none."""
        first = self.lines[0] if self.lines else ""
        return "\r\n" if first.endswith("\r\n") else "\r" if first.endswith("\r") else "\n"


def code_lines(text: str) -> int:
    """Lines that hold code: neither blank nor only a comment."""
    count = 0
    for line in split_lines(text):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            count += 1
    return count


def resolve_path(path: str) -> Path:
    """The file or folder a `path` input names.

    A relative path is relative to the current directory, as on any command line. The default
    input, `samples/messy.py`, is relative to the workflows folder instead, so that
    `wfe run workflows/code_review.yaml` works from the repository root (or anywhere): a relative
    path that does not exist under the current directory is looked up under the workflows folder
    (the folder of the workflow file, which holds this package) before it is an error.
    """
    candidate = Path(path).expanduser()
    if candidate.exists():
        return candidate
    if not candidate.is_absolute() and (WORKFLOWS_DIR / candidate).exists():
        return WORKFLOWS_DIR / candidate
    raise FileNotFoundError(
        f"no such file or folder: {path!r} (looked in {Path.cwd()} and in {WORKFLOWS_DIR})"
    )


def display_path(path: Path) -> str:
    """path relative to the current directory when it is under it, else absolute; POSIX style."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def decode_source(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a Python file's bytes, decoded as Python decodes them (a coding line,
    a BOM, else UTF-8); encoding the text back gives the same bytes.

    Raises UnicodeDecodeError (or SyntaxError, for an unknown coding) rather than guessing: a
    file Python cannot read is reported, never silently read as latin-1.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding
