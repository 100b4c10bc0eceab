"""`wfe serve`: check the options, then hand over to wfe.serve (FastAPI and uvicorn load only
here, and only when the `serve` extra is installed)."""

from __future__ import annotations

import importlib.util
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from wfe.cli.scheduler import in_background, stamped
from wfe.errors import UsageError
from wfe.serve.config import ServeConfig, is_loopback
from wfe.spec.project_config import configured_imports, configured_keep
from wfe.store import Store, durability_setting, store_path

DEFAULT_PATHS = (Path("workflows"),)


@dataclass
class ServeOptions:
    paths: list[Path] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8321
    token: str | None = None
    store: Path | None = None
    imports: list[str] = field(default_factory=list)
    max_body: int = 1_048_576
    no_token: bool = False
    allow_hosts: list[str] = field(default_factory=list)
    schedule: bool = False


def require_extra() -> None:
    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"wfe serve needs {' and '.join(missing)}: pip install 'wfe[serve]'")


def serve_workflows(options: ServeOptions) -> int:
    require_extra()
    # optional extra `serve`: fastapi and uvicorn may not be installed (checked just above)
    from wfe.serve.server import run_server

    paths = tuple(options.paths) or DEFAULT_PATHS
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder to serve")
    if not 0 <= options.port <= 65535:
        raise UsageError(f"--port {options.port}: not a port (0 to 65535; 0 picks a free one)")
    if options.max_body < 1:
        raise UsageError("--max-body must be at least 1 byte")
    token, made_up = _token(options)
    store = store_path(options.store)
    Store.open(store).close()  # a store that cannot be used is a usage error here, not later
    config = ServeConfig(
        paths=paths, store=store, durability=durability_setting(None),
        host=options.host, port=options.port, token=token, show_token=made_up,
        imports=tuple(dict.fromkeys([*options.imports, *configured_imports()])),
        max_body=options.max_body, allowed_hosts=tuple(options.allow_hosts),
    )
    if not options.schedule:
        return run_server(config)
    configured_keep()  # a `keep` that does not parse is a usage error now
    with in_background(paths, store, stamped(sys.stderr.write)):
        return run_server(config)


def _token(options: ServeOptions) -> tuple[str | None, bool]:
    """The token and whether it was made up here: the one given, none with --no-token (on a
    loopback host only), else a new random one, as Jupyter does."""
    if options.no_token:
        if options.token is not None:
            raise UsageError("--no-token and --token (or WFE_TOKEN) contradict each other")
        if not is_loopback(options.host):
            raise UsageError(f"--no-token is only allowed on a loopback --host, not "
                             f"{options.host}: anyone who can reach it could run workflows")
        return None, False
    if options.token is not None:
        if not options.token.strip():
            raise UsageError("--token (or WFE_TOKEN) is empty; --no-token serves without one")
        return options.token, False
    return secrets.token_hex(24), True
