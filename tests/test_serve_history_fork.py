"""A run's history and forks over HTTP: `GET /runs/{id}/history` is `wfe history ID --json`,
`POST /runs/{id}/fork` is `wfe fork ID --at STEP -i ...` (the same code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient
from serve_support import wait_for_status, write_served
from typer.testing import CliRunner

from wfe.cli import app as cli
from wfe.serve.app import create_app
from wfe.serve.config import ServeConfig

TOKEN = "history-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.chdir(tmp_path)
    config = ServeConfig(paths=(write_served(tmp_path),), store=tmp_path / ".wfe" / "wfe.db",
                         token=TOKEN)
    with TestClient(create_app(config), base_url="http://127.0.0.1:8321",
                    headers=AUTH) as test_client:
        yield test_client


def finished_run(client: TestClient, **inputs: object) -> str:
    response = client.post("/runs", json={"workflow": "counter", "inputs": inputs})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    wait_for_status(client, run_id)
    return run_id


def test_the_history_route_answers_what_wfe_history_json_prints(
        client: TestClient, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    run_id = finished_run(client, n=2)
    answer = client.get(f"/runs/{run_id[:8]}/history")
    assert answer.status_code == 200, answer.text
    result = CliRunner().invoke(cli, ["history", run_id, "--json", "--store",
                                      str(tmp_path / ".wfe" / "wfe.db")])
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in (result.output + capfd.readouterr().out).splitlines()
               if line.startswith("{")]
    assert answer.json() == {"run_id": run_id, "steps": printed}


def test_the_history_holds_the_state_after_each_step_not_the_last_one(
        client: TestClient) -> None:
    run_id = finished_run(client, n=2)
    steps = client.get(f"/runs/{run_id}/history").json()["steps"]
    assert [(s["node"], s["state"]["i"]) for s in steps] == [(None, 0), ("tick", 1), ("tick", 2)]
    assert steps[1]["updates"] == {"i": 1} and "attempt" not in steps[0]


def test_a_fork_starts_a_linked_run_from_the_state_after_the_step_with_edits(
        client: TestClient) -> None:
    old = finished_run(client, n=2)
    answer = client.post(f"/runs/{old}/fork", json={"at": 1, "inputs": {"n": 4}})
    assert answer.status_code == 202, answer.text
    new = answer.json()["run_id"]
    document = wait_for_status(client, new)
    assert (document["status"], document["parent_run_id"]) == ("succeeded", old)
    assert document["state"]["n"] == 4 and document["state"]["i"] == 4
    assert [step["step"] for step in document["steps"]] == [2, 3, 4]


def test_a_fork_over_http_leaves_the_state_wfe_fork_leaves(
        client: TestClient, tmp_path: Path) -> None:
    old = finished_run(client, n=2)
    over_http = wait_for_status(client, client.post(
        f"/runs/{old}/fork", json={"at": 1, "inputs": {"n": 3}}).json()["run_id"])
    result = CliRunner().invoke(cli, ["fork", old, "--at", "1", "-i", "n=3", "--quiet",
                                      "--store", str(tmp_path / ".wfe" / "wfe.db"),
                                      "--output", "out.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out.json").read_text()) == over_http["state"]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"at": 9}, 422, "no step 9"),
    ({"at": -1}, 422, "no step -1"),
    ({"at": 2**70}, 422, f"no step {2**70}"),
    ({"at": 1, "inputs": {"n": "four"}}, 422, "n"),
    ({"at": 1, "inputs": {"nope": 1}}, 422, "nope"),
    ({"at": "1"}, 422, "body.at"),
    ({"at": 1, "extra": 1}, 422, "body.extra"),
    ({}, 422, "body.at"),
])
def test_a_bad_fork_request_is_refused_with_a_one_line_detail(
        client: TestClient, body: dict[str, object], status: int, detail: str) -> None:
    old = finished_run(client, n=2)
    response = client.post(f"/runs/{old}/fork", json=body)
    assert (response.status_code, "\n" in response.json()["detail"]) == (status, False)
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("request_of", [
    lambda c: c.get("/runs/0000000000zzzz/history"),
    lambda c: c.post("/runs/0000000000zzzz/fork", json={"at": 0}),
])
def test_an_unknown_run_has_no_history_and_no_fork(client: TestClient, request_of: object) -> None:
    assert request_of(client).status_code == 404  # type: ignore[operator]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_fork_not_sent_as_json_is_a_415(client: TestClient, content_type: str) -> None:
    old = finished_run(client)
    response = client.post(f"/runs/{old}/fork", content=b'{"at": 1}',
                           headers={"content-type": content_type})
    assert response.status_code == 415


@pytest.mark.parametrize(("method", "route", "headers", "status"), [
    ("GET", "history", {"Authorization": "Bearer wrong"}, 401),
    ("GET", "history", {"Host": "evil.example"}, 400),
    ("POST", "fork", {"Authorization": "Bearer wrong"}, 401),
    ("POST", "fork", {"Host": "evil.example"}, 400),
    ("POST", "fork", {"Origin": "http://evil.example"}, 403),
])
def test_history_and_fork_are_guarded_as_the_other_run_routes(
        client: TestClient, method: str, route: str, headers: dict[str, str],
        status: int) -> None:
    run_id = finished_run(client)
    response = client.request(method, f"/runs/{run_id}/{route}", headers=headers,
                              json={"at": 1} if method == "POST" else None)
    assert response.status_code == status
    assert len(client.get("/runs").json()["runs"]) == 1  # no fork began


def test_both_routes_are_described_in_the_api_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "200" in schema["paths"]["/runs/{run_id}/history"]["get"]["responses"]
    assert "202" in schema["paths"]["/runs/{run_id}/fork"]["post"]["responses"]
    assert {"RunHistory", "HistoryStep", "ForkRun"} <= set(schema["components"]["schemas"])
