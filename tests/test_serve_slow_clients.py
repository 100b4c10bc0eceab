"""Slow clients cannot hold `wfe serve`'s connections: a request's head and its body each have a
deadline (short here, so that the tests do not wait; nothing is asserted about time)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from serve_support import HANG_GUARD, write_served  # noqa: E402

from wfe.serve.app import create_app  # noqa: E402
from wfe.serve.config import ServeConfig  # noqa: E402
from wfe.serve.server import listening_socket, uvicorn_config  # noqa: E402

DEADLINE = 0.5
HEAD = b"POST /runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture
def address(tmp_path: Path) -> Iterator[tuple[str, int]]:
    config = ServeConfig(paths=(write_served(tmp_path),), store=tmp_path / "wfe.db",
                         header_seconds=DEADLINE, body_seconds=DEADLINE)
    config = replace(config, port=0)
    sock = listening_socket(config.host, config.port)
    server = uvicorn.Server(uvicorn_config(create_app(config), config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    yield sock.getsockname()[:2]
    server.should_exit = True
    thread.join(HANG_GUARD)


def trickle(address: tuple[str, int], first: bytes, byte: bytes) -> bytes:
    """Send `first`, then `byte` again and again until the server answers or hangs up; what
    it sent back (b"" when it closed the connection without a word)."""
    with socket.create_connection(address, timeout=HANG_GUARD) as client:
        client.settimeout(0.05)
        client.sendall(first)
        give_up = time.monotonic() + HANG_GUARD
        while time.monotonic() < give_up:
            try:
                return client.recv(65536)
            except TimeoutError:
                pass
            try:
                client.sendall(byte)
            except OSError:  # closed while sending
                return b""
        raise AssertionError("the server kept the slow client's connection open")


@pytest.mark.parametrize("first", [b"", b"G", HEAD])
def test_a_client_that_never_finishes_its_request_head_is_hung_up_on(
        address: tuple[str, int], first: bytes) -> None:
    assert trickle(address, first, b"a" if first == HEAD else b"") == b""


def test_a_body_that_does_not_arrive_in_time_is_a_408(address: tuple[str, int]) -> None:
    answer = trickle(address, HEAD + b"Content-Length: 1000000\r\n\r\n{", b" ")
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"request body not received within 0.5 s" in answer


def test_a_prompt_client_is_answered_on_the_same_connection_again(
        address: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*address, timeout=HANG_GUARD)
    try:
        for _ in range(2):
            connection.request("GET", "/runs")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b'{"runs":[]}')
    finally:
        connection.close()
