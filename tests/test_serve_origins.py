"""A web page cannot drive `wfe serve`: a foreign Host, a foreign Origin and a body of another
type are refused before any route runs, and what a stranger is told names no run."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from serve_support import wait_for_status, write_served  # noqa: E402
from starlette.testclient import WebSocketDenialResponse  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from wfe.serve.app import create_app  # noqa: E402
from wfe.serve.config import ServeConfig  # noqa: E402
from wfe.serve.origins import HostRule, same_origin  # noqa: E402

BASE = "http://127.0.0.1:8321"
WS = "ws://127.0.0.1:8321"
OWN_ORIGIN = "http://127.0.0.1:8321"
FOREIGN_ORIGINS = ["http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8321",
                   "null", "http://localhost.evil.example:8321", "not a url"]
POSTED = """
name: posted
imports: [serve_tools]
state:
  i: {type: int, default: 0}
  delay: {type: float, default: 0.0}
nodes:
  once: {tool: tick}
"""


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.chdir(tmp_path)
    served = write_served(tmp_path)
    config = ServeConfig(paths=(served,), store=tmp_path / ".wfe" / "wfe.db")
    with TestClient(create_app(config), base_url=BASE) as test_client:
        yield test_client


def start(client: TestClient, **headers: str) -> httpx.Response:
    return client.post("/runs", json={"workflow": "counter", "inputs": {}}, headers=headers)


def run_ids(client: TestClient) -> list[str]:
    return [run["run_id"] for run in client.get("/runs").json()["runs"]]


# --- Host --------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8321", "127.0.0.1.nip.io:8321",
                                  "localhost.evil.example", "192.168.1.10:8321", "[::2]:8321",
                                  "127.0.0.1:8321@evil.example", "[::1]x:8321", ""])
@pytest.mark.parametrize(("method", "path"), [("GET", "/runs"), ("GET", "/workflows/counter"),
                                              ("GET", "/"), ("POST", "/runs")])
def test_a_foreign_host_is_a_400_that_carries_no_data(
        client: TestClient, host: str, method: str, path: str) -> None:
    run_id = start(client).json()["run_id"]
    response = client.request(method, path, headers={"host": host},
                              json={"workflow": "counter", "inputs": {}})
    assert response.status_code == 400
    assert response.json() == {"detail": "the Host header does not name this server"}
    assert run_ids(client) == [run_id]


def test_a_rebound_name_cannot_read_a_run_back(client: TestClient) -> None:
    run_id = start(client).json()["run_id"]
    wait_for_status(client, run_id)
    response = client.get(f"/runs/{run_id}", headers={"host": "rebind.evil.example:8321"})
    assert response.status_code == 400
    assert run_id not in response.text and "counter" not in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8321", "localhost:8321", "[::1]:8321", "LOCALHOST.",
                                  "127.0.0.1"])
def test_loopback_names_are_served(client: TestClient, host: str) -> None:
    assert client.get("/runs", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(("bind", "host", "allowed"), [
    ("wfe.lan", "wfe.lan:8321", True),
    ("wfe.lan", "other.lan:8321", False),
    ("10.0.0.5", "10.0.0.5:8321", True),
    ("10.0.0.5", "10.0.0.6:8321", False),
    ("0.0.0.0", "10.0.0.6:8321", True),
    ("0.0.0.0", "[fe80::1]:8321", True),
    ("0.0.0.0", "evil.example:8321", False),
    ("::", "localhost:8321", True),
])
def test_the_host_allow_list_adds_what_host_names(bind: str, host: str, allowed: bool) -> None:
    assert HostRule.for_bind(bind).allows(host) is allowed


@pytest.mark.parametrize(("host", "allowed"), [
    ("wfe.example.com", True), ("WFE.example.com.:443", True), ("[fd00::5]:8321", True),
    ("127.0.0.1:8321", True), ("other.example.com", False), ("example.com", False),
])
def test_allow_host_adds_a_proxys_names(host: str, allowed: bool) -> None:
    rule = HostRule.for_bind("127.0.0.1", ["wfe.example.com", "[FD00::5]"])
    assert rule.allows(host) is allowed


# --- Origin ------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_state_change_from_a_foreign_origin_is_a_403_and_changes_nothing(
        client: TestClient, origin: str) -> None:
    response = start(client, origin=origin)
    assert response.status_code == 403
    assert response.json() == {"detail": "cross-origin request refused"}
    assert run_ids(client) == []


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_cancel_from_a_foreign_origin_is_refused(client: TestClient, origin: str) -> None:
    run_id = client.post("/runs", json={"workflow": "counter",
                                        "inputs": {"n": 100000, "delay": 0.05}}).json()["run_id"]
    assert client.post(f"/runs/{run_id}/cancel", headers={"origin": origin}).status_code == 403
    assert client.get(f"/runs/{run_id}").json()["status"] == "running"
    assert client.post(f"/runs/{run_id}/cancel").status_code == 202
    assert wait_for_status(client, run_id)["status"] == "cancelled"


@pytest.mark.parametrize("headers", [{}, {"origin": OWN_ORIGIN},
                                     {"origin": "http://localhost:8321", "host": "localhost:8321"}])
def test_same_origin_and_clients_without_an_origin_may_change_state(
        client: TestClient, headers: dict[str, str]) -> None:
    assert start(client, **headers).status_code == 202


@pytest.mark.parametrize(("origin", "host", "scheme", "same"), [
    ("http://127.0.0.1:8321", "127.0.0.1:8321", "http", True),
    ("http://LOCALHOST:8321", "localhost:8321", "ws", True),
    ("http://localhost", "localhost:80", "http", True),
    ("http://[::1]:8321", "[::1]:8321", "http", True),
    ("http://127.0.0.1:8321", "localhost:8321", "http", False),
    ("http://127.0.0.1:8321/path", "127.0.0.1:8321", "http", False),
    ("http://127.0.0.1:99999", "127.0.0.1:8321", "http", False),
])
def test_same_origin_compares_scheme_name_and_port(
        origin: str, host: str, scheme: str, same: bool) -> None:
    assert same_origin(origin, host, scheme) is same


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_websocket_from_a_foreign_origin_is_refused_before_any_event(
        client: TestClient, origin: str) -> None:
    run_id = start(client).json()["run_id"]
    wait_for_status(client, run_id)
    with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(
            f"{WS}/runs/{run_id}/events", headers={"origin": origin}) as socket:
        socket.receive_text()  # pragma: no cover - never reached
    assert refused.value.status_code == 403
    assert run_id not in refused.value.text


@pytest.mark.parametrize("headers", [{}, {"origin": OWN_ORIGIN}])
def test_a_websocket_from_the_same_origin_or_no_origin_streams(
        client: TestClient, headers: dict[str, str]) -> None:
    run_id = start(client).json()["run_id"]
    wait_for_status(client, run_id)
    with client.websocket_connect(f"{WS}/runs/{run_id}/events", headers=headers) as socket:
        assert '"run_started"' in socket.receive_text()


def test_a_websocket_close_reason_names_no_run(client: TestClient) -> None:
    ids = [start(client).json()["run_id"] for _ in range(2)]
    for run_id in ids:
        wait_for_status(client, run_id)
    prefix = ids[0][:1]
    assert client.get(f"/runs/{prefix}").status_code == 400  # both ids share their first digit
    with client.websocket_connect(f"{WS}/runs/{prefix}/events") as socket, \
            pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_text()
    assert closed.value.code == 4400
    assert not any(run_id in closed.value.reason for run_id in ids)


# --- Content type ------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/json",
                                          None])
def test_a_workflow_posted_without_a_yaml_type_is_a_415(
        client: TestClient, tmp_path: Path, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/workflows", content=textwrap.dedent(POSTED).encode(),
                           headers=headers)
    assert response.status_code == 415
    assert "Content-Type must be a YAML type" in response.json()["detail"]
    assert not (tmp_path / ".wfe" / "workflows" / "posted.yaml").exists()


@pytest.mark.parametrize("content_type", ["application/yaml", "application/x-yaml", "text/yaml",
                                          "Application/YAML; charset=utf-8"])
def test_a_workflow_posted_with_a_yaml_type_is_added(client: TestClient,
                                                     content_type: str) -> None:
    response = client.post("/workflows", content=textwrap.dedent(POSTED).encode(),
                           headers={"content-type": content_type})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/yaml", None])
@pytest.mark.parametrize("path", ["/runs", "/runs/x/resume"])
def test_a_json_body_of_another_type_is_a_415(
        client: TestClient, content_type: str | None, path: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(path, content=b'{"workflow": "counter", "inputs": {}}',
                           headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Content-Type must be application/json")
    assert run_ids(client) == []


def test_json_with_a_charset_and_a_bodyless_post_are_accepted(client: TestClient) -> None:
    started = client.post("/runs", content=b'{"workflow": "counter", "inputs": {}}',
                          headers={"content-type": "application/json; charset=utf-8"})
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    wait_for_status(client, run_id)
    assert client.post(f"/runs/{run_id}/cancel").status_code == 409  # no body, no type: read


def test_every_route_that_reads_a_body_documents_its_415_and_408(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    posts = {path: operations["post"] for path, operations in paths.items() if "post" in operations}
    assert set(posts) == {"/workflows", "/runs", "/runs/{run_id}/cancel", "/runs/{run_id}/resume",
                          "/runs/{run_id}/rerun", "/runs/{run_id}/fork"}
    for path, operation in posts.items():
        assert {"408", "415"} <= set(operation["responses"]), path
