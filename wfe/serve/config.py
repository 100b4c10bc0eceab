"""What `wfe serve` was started with. Plain data: no FastAPI import, so the CLI can build it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from wfe.spec._yaml_text import MAX_BYTES
from wfe.store.records import Durability

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8321
#: The loader's own limit for a workflow file, so that any file it accepts can be posted.
DEFAULT_MAX_BODY = MAX_BYTES
#: How long a client has to send a request's line and headers, and then its body.
HEADER_SECONDS = 10.0
BODY_SECONDS = 30.0
#: The folder beside the store where `POST /workflows` keeps what it accepts.
POSTED_FOLDER = "workflows"


@dataclass(frozen=True)
class ServeConfig:
    """The served workflow files or folders, the store, and the security settings."""

    paths: tuple[Path, ...]
    store: Path
    durability: Durability = "normal"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    #: The token was made up at start (not given): the printed address carries it once.
    show_token: bool = False
    imports: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    #: Names a request's Host may give besides the loopback ones and `host` (`--allow-host`).
    allowed_hosts: tuple[str, ...] = ()
    header_seconds: float = HEADER_SECONDS
    body_seconds: float = BODY_SECONDS
    #: Sync tools run in a pool of this many threads (never on the server's event loop).
    tool_threads: int = 64
    #: Store reads of requests and watchers run in this many threads.
    read_threads: int = 4

    @property
    def posted_folder(self) -> Path:
        return self.store.parent / POSTED_FOLDER


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
