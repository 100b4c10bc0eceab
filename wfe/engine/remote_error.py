"""A tool's exception raised in another process, carried back to the engine.

Every executor that runs a tool elsewhere (`isolation: process`, a cluster's worker) reports the
exception the same way: the exception pickled when it can be, and always its type's name, module
and bases' names, its message and its formatted traceback. Back in the engine the exception is
itself again when it unpickles, else a stand-in class of the same name and module (a
RemoteToolError), so `retry: {on: [...]}` and `on_error` route it the same wherever it ran. The
traceback travels as the exception's `__cause__` (a RemoteTraceback), which is what `wfe show`
and `--debug` print. The engine recognises these types; the executors (wfe.executors) produce
them, importing them from here. Standard library only: worker processes import this module.
"""

from __future__ import annotations

import dataclasses
import functools
import pickle
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


class RemoteTraceback(Exception):
    """The traceback of a tool's exception where it ran (set as its `__cause__`)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RemoteToolError(Exception):
    """Base of the stand-ins for a tool's exception that could not travel back itself; each
    stand-in class has the original's name and module, and `type_names` holds the names of the
    original's class and bases (what `retry: {on: [...]}` and `on_error` match)."""

    type_names: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorReport:
    """A tool's exception as it travels back from where it ran."""

    pickled: bytes | None
    type_name: str
    module: str
    type_names: tuple[str, ...]
    message: str
    traceback: str


def report(error: BaseException, dumps: Callable[[object], bytes] | None = None) -> ErrorReport:
    """The exception as it travels; `dumps` pickles it (plain pickle unless given)."""
    try:
        pickled: bytes | None = (dumps or _dumps)(error)
    except Exception:
        pickled = None
    kind = type(error)
    trace = traceback.format_exception(kind, error, user_frames(error.__traceback__))
    return ErrorReport(pickled, kind.__name__, kind.__module__,
                       tuple(cls.__name__ for cls in kind.__mro__), str(error), "".join(trace))


def rebuild(sent: ErrorReport) -> Exception:
    """The exception itself if it survives the trip, else a stand-in of the same name."""
    error: object = None
    if sent.pickled is not None:
        try:
            error = pickle.loads(sent.pickled)
        except Exception:
            error = None
    if not isinstance(error, Exception):  # SystemExit and the like must not end the engine
        error = stand_in(sent)
    error.__cause__ = RemoteTraceback(sent.traceback)
    return error


def stand_in(sent: ErrorReport) -> RemoteToolError:
    kind = type(sent.type_name, (RemoteToolError,), {
        "__module__": sent.module, "__qualname__": sent.type_name,
        "type_names": frozenset(sent.type_names)})
    return kind(sent.message)  # type: ignore[no-any-return]


def user_frames(frames: TracebackType | None) -> TracebackType | None:
    """From the first frame outside wfe and the standard library (wfe's own frames, and the
    thread or event loop that ran the call, say nothing about the bug); all if none is."""
    first = frames
    while first is not None and _not_the_users(first.tb_frame.f_code.co_filename):
        first = first.tb_next
    return first if first is not None else frames


def _not_the_users(file: str) -> bool:
    wfe, stdlib, installed = _places()
    return file.startswith(wfe) or (file.startswith(stdlib) and not file.startswith(installed))


@functools.cache
def _places() -> tuple[str, str, tuple[str, str]]:
    """wfe's folder, the standard library's, and where packages are installed (which may lie
    under the standard library's)."""
    # Imported here for start-up time: only a tool's first traceback needs it.
    import sysconfig

    paths = sysconfig.get_paths()
    return (str(Path(__file__).resolve().parents[1]), paths["stdlib"],
            (paths["purelib"], paths["platlib"]))


def _dumps(value: object) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
