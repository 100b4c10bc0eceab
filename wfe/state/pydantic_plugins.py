"""wfe's own pydantic validators are built without pydantic's plugins.

The first validator pydantic builds with plugins enabled makes it look through the entry points of
every installed distribution for plugins: milliseconds at each start of `wfe`, spent for models
that no plugin needs. Pydantic reads PYDANTIC_DISABLE_PLUGINS whenever it builds a validator, so
wfe sets it only while it builds one of its own, as typer does for its parameters: the models of
a user's tools still get their plugins.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

VARIABLE = "PYDANTIC_DISABLE_PLUGINS"

_lock = threading.RLock()


@contextmanager
def without_plugins() -> Iterator[None]:
    """Validators built inside are built without pydantic's plugins."""
    with _lock:
        saved = os.environ.get(VARIABLE)
        os.environ[VARIABLE] = "__all__"
        try:
            yield
        finally:
            if saved is None:
                del os.environ[VARIABLE]
            else:
                os.environ[VARIABLE] = saved
