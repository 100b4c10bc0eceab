"""Which requests a browser may have sent on a page's behalf, and which it may not.

A web page can make the browser send requests to 127.0.0.1, and through DNS rebinding under a
name of its own. Three rules close that door without getting in the way of curl or the page:

- Host: a request must name this server: a loopback name (127.0.0.1, localhost, [::1]), the
  `--host` it listens on, or a name given with `--allow-host` (a reverse proxy's). A rebound
  name (`evil.example` resolving to 127.0.0.1) is refused.
  On a wildcard address (0.0.0.0, ::) any IP literal and the machine's own name are accepted too:
  rebinding needs a name, and the server cannot know its other names.
- Origin: a state-changing request (POST, PUT, PATCH, DELETE) and every WebSocket that carries an
  Origin must come from this server's own origin. A client that sends none (curl, scripts) is not
  a browser acting for a page and passes.
- Content type: a body is read only as what it says it is: `POST /workflows` takes YAML, every
  other body JSON. `text/plain`, the type a page may send anywhere without asking, is a 415.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_TYPES = frozenset({"application/json"})
#: The one route whose body is YAML; every other body is JSON.
YAML_ROUTES = frozenset({"/workflows"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class HostRule:
    """The names a request's Host may give for this server."""

    names: frozenset[str]
    any_address: bool = False

    @classmethod
    def for_bind(cls, bind_host: str, also: Iterable[str] = ()) -> HostRule:
        host = _bare(bind_host)
        names = LOOPBACK_NAMES | {_bare(name) for name in also}
        if host in WILDCARD_HOSTS:
            return cls(names | {socket.gethostname().lower()}, any_address=True)
        return cls(names | {host})

    def allows(self, host_header: str | None) -> bool:
        """Whether a Host header names this server (no header: HTTP/1.0, not a browser)."""
        if host_header is None:
            return True
        name, _ = split_host(host_header)
        if name in self.names:
            return True
        return self.any_address and _is_ip_literal(name)


def split_host(value: str) -> tuple[str, int | None]:
    """`name[:port]` or `[v6][:port]`, lowercased, without a trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        name, colon, port_text = value.rpartition(":")
        if not colon or ":" in name:
            name, port_text = value, ""
    if port_text and not port_text.isdigit():
        return value, None  # `name:8321@evil`: names nothing this server answers to
    return name.rstrip("."), int(port_text) if port_text else None


def same_origin(origin: str, host_header: str | None, scheme: str) -> bool:
    """Whether a browser's Origin is the origin the request was sent to (its Host)."""
    if host_header is None:
        return False
    try:
        parts = urlsplit(origin.strip())
        origin_port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        return False
    name, port = split_host(host_header)
    own_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return (parts.scheme == own_scheme and parts.hostname.rstrip(".") == name
            and (origin_port or _DEFAULT_PORTS[parts.scheme])
            == (port or _DEFAULT_PORTS[own_scheme]))


def media_type(content_type: str | None) -> str | None:
    """`application/json` of `Application/JSON; charset=utf-8`."""
    if content_type is None:
        return None
    return content_type.partition(";")[0].strip().lower() or None


def body_type_problem(path: str, content_type: str | None, has_body: bool) -> str | None:
    """Why a request's declared body type is refused (a 415), or None."""
    wanted = YAML_TYPES if path in YAML_ROUTES else JSON_TYPES
    given = media_type(content_type)
    if given is None and not has_body:
        return None  # nothing to misread: POST /runs/ID/cancel, a resume without inputs
    if given in wanted:
        return None
    expected = "a YAML type (application/yaml)" if path in YAML_ROUTES else "application/json"
    return f"Content-Type must be {expected}, not {given or 'missing'}"


def _bare(name: str) -> str:
    """`[::1]` as `::1`, `Wfe.Example.` as `wfe.example`."""
    return name.strip().strip("[]").lower().rstrip(".")


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
