"""`wfe serve` on the command line: the optional extra, its options, and what it prints."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from wfe.cli import app

if TYPE_CHECKING:
    from serve_support import ServerProcess

runner = CliRunner()


def test_wfe_validate_never_imports_the_server() -> None:
    code = ("import sys; from typer.testing import CliRunner; from wfe.cli import app; "
            "CliRunner().invoke(app, ['validate', 'workflows']); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert shown.stdout.strip() == "[]", shown.stderr


def test_without_the_extra_serve_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastapi" else real(name, *a))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "wfe serve needs fastapi: pip install 'wfe[serve]'" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["no-such-folder"], "no-such-folder: no such file or folder to serve"),
    (["workflows", "--port", "70000"], "--port 70000: not a port"),
    (["workflows", "--max-body", "0"], "--max-body must be at least 1 byte"),
    (["workflows", "--token", " "], "--token (or WFE_TOKEN) is empty"),
])
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    pytest.importorskip("fastapi")
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_taken_port_is_a_usage_error(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    (tmp_path / "workflows").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "wfe", "serve", "workflows", "--port", str(port)],
            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0", "--no-token"], "--no-token is only allowed on a loopback --host"),
    (["--host", "192.0.2.1", "--no-token"], "--no-token is only allowed on a loopback --host"),
    (["--no-token", "--token", "x"], "--no-token and --token (or WFE_TOKEN) contradict"),
    (["--token", ""], "--token (or WFE_TOKEN) is empty"),
])
def test_no_token_is_refused_off_loopback_and_beside_a_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str) -> None:
    pytest.importorskip("fastapi")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workflows").mkdir()
    result = runner.invoke(app, ["serve", "workflows", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def printed_address(server: ServerProcess) -> str:
    """The page's address in the line after "listening on" (it may still be on its way)."""
    from serve_support import HANG_GUARD

    deadline = time.monotonic() + HANG_GUARD
    while "wfe serve: open " not in server.log():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.01)
    return server.log().split("wfe serve: open ", 1)[1].split()[0]


def test_by_default_a_new_token_is_required_and_printed_once_in_the_pages_address(
        tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    import httpx
    from serve_support import start_server

    (tmp_path / "workflows").mkdir()
    tokens = []
    for _ in range(2):
        server = start_server(tmp_path, "workflows", own_token=True)
        try:
            opened = printed_address(server)
            assert opened.startswith(f"{server.url}/?token=")
            token = opened.split("=", 1)[1]
            assert len(token) >= 32
            assert httpx.get(f"{server.url}/runs").status_code == 401
            assert httpx.get(f"{server.url}/runs", headers={
                "Authorization": f"Bearer {token}"}).status_code == 200
            assert httpx.get(opened).status_code == 200
        finally:
            server.stop()
        assert server.log().count(token) == 1  # the printed address, never a log line
        tokens.append(token)
    assert tokens[0] != tokens[1]


@pytest.mark.parametrize("args", [["--no-token"], ["--token", "given-token"]])
def test_a_token_given_or_refused_is_never_printed(tmp_path: Path, args: list[str]) -> None:
    pytest.importorskip("uvicorn")
    from serve_support import start_server

    (tmp_path / "workflows").mkdir()
    server = start_server(tmp_path, "workflows", *args)
    server.stop()
    assert "token=" not in server.log() and "given-token" not in server.log()


@pytest.mark.parametrize(("table", "expected"), [
    ("", []),
    ('[tool.wfe]\nimports = ["a_tools", "b.tools"]\n', ["a_tools", "b.tools"]),
])
def test_tool_wfe_imports_names_the_modules_serve_allows(tmp_path: Path, table: str,
                                                         expected: list[str]) -> None:
    from wfe.spec.project_config import configured_imports

    (tmp_path / "pyproject.toml").write_text(table)
    assert configured_imports(cwd=tmp_path) == expected


def test_tool_wfe_imports_that_is_not_a_list_of_names_is_a_usage_error(tmp_path: Path) -> None:
    from wfe.errors import UsageError
    from wfe.spec.project_config import configured_imports

    (tmp_path / "pyproject.toml").write_text('[tool.wfe]\nimports = "a_tools"\n')
    with pytest.raises(UsageError, match="imports must be a list of module names"):
        configured_imports(cwd=tmp_path)
