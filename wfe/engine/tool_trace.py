"""A tool's traceback as wfe keeps it: the user's frames, secrets masked, size capped.

A tool's exception is a user's bug to find (SPEC section 2), so its traceback is stored with the
failed step (a routed step's `error`) or the run's error, and shown by `wfe show` and `--debug`.
It starts at the first frame outside wfe and the standard library (wfe's own frames, and the
thread or event loop that ran the call, say nothing about the bug); a tool that ran in another
process brings the traceback from there. Secret state values are replaced by `***`, and a long
traceback keeps its end (the innermost frames and the exception itself).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable

from wfe.engine.remote_error import RemoteTraceback, user_frames
from wfe.errors import NodeFailed

#: At most this many characters of a traceback are kept (its end).
MAX_CHARS = 8_000
_MASK = "***"


def tool_traceback(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """The traceback of a tool's exception, masked and capped."""
    cause = error.__cause__
    if isinstance(error, NodeFailed) and error.traceback:  # a subgraph's failed node
        text = error.traceback
    elif isinstance(cause, RemoteTraceback):
        text = str(cause)
    else:
        text = "".join(traceback.format_exception(type(error), error,
                                                  user_frames(error.__traceback__)))
    return capped(masked(text, secrets))


def masked(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def capped(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"... ({cut} characters cut)\n" + text[cut:]
