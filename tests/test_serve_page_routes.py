"""The API routes the page acts through: a workflow's state schema (the run form), runs of one
workflow, and a re-run from a node (`wfe resume --from NODE -i ...` over HTTP)."""

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


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.chdir(tmp_path)
    config = ServeConfig(paths=(write_served(tmp_path),), store=tmp_path / ".wfe" / "wfe.db")
    with TestClient(create_app(config), base_url="http://127.0.0.1:8321") as test_client:
        yield test_client


def finished_run(client: TestClient, workflow: str = "counter", **inputs: object) -> str:
    response = client.post("/runs", json={"workflow": workflow, "inputs": inputs})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    wait_for_status(client, run_id)
    return run_id


def test_a_workflow_document_carries_its_state_schema_for_the_run_form(
        client: TestClient) -> None:
    state = {key["key"]: key for key in client.get("/workflows/counter").json()["state"]}
    assert list(state) == ["i", "n", "delay", "pad"]
    assert state["n"] == {"key": "n", "type": "int", "description": "", "required": False,
                          "has_default": True, "default": 3, "secret": False}
    blocking = client.get("/workflows/blocking").json()["state"]
    assert blocking[0]["key"] == "release" and blocking[0]["required"] is True


def test_runs_are_listed_for_one_workflow(client: TestClient) -> None:
    counter = finished_run(client)
    finished_run(client, "approval")
    listed = client.get("/runs", params={"workflow": "counter"}).json()["runs"]
    assert [run["run_id"] for run in listed] == [counter]


def test_a_rerun_starts_a_linked_run_from_the_node_with_the_state_edited(
        client: TestClient) -> None:
    old = finished_run(client, n=2)
    answer = client.post(f"/runs/{old}/rerun", json={"node": "tick", "inputs": {"n": 4}})
    assert answer.status_code == 202, answer.text
    new = answer.json()["run_id"]
    assert new != old
    document = wait_for_status(client, new)
    assert document["status"] == "succeeded"
    assert document["parent_run_id"] == old and document["start"] == "tick"
    assert document["state"]["n"] == 4 and document["state"]["i"] == 4


def test_a_rerun_over_http_leaves_the_state_the_command_line_leaves(
        client: TestClient, tmp_path: Path) -> None:
    old = finished_run(client, n=2)
    over_http = wait_for_status(client, client.post(
        f"/runs/{old}/rerun", json={"node": "tick", "inputs": {"n": 3}}).json()["run_id"])
    store = str(tmp_path / ".wfe" / "wfe.db")
    result = CliRunner().invoke(cli, ["resume", old, "--from", "tick", "-i", "n=3",
                                      "--store", store, "--quiet", "--output", "out.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out.json").read_text()) == over_http["state"]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"node": "nowhere"}, 400, "nowhere"),
    ({"node": "tick", "inputs": {"n": "four"}}, 422, "n"),
    ({"node": "tick", "extra": 1}, 422, "body.extra"),
    ({}, 422, "body.node"),
])
def test_a_bad_rerun_request_is_refused_with_a_one_line_detail(
        client: TestClient, body: dict[str, object], status: int, detail: str) -> None:
    old = finished_run(client)
    response = client.post(f"/runs/{old}/rerun", json=body)
    assert (response.status_code, "\n" in response.json()["detail"]) == (status, False)
    assert detail in response.json()["detail"]


def test_the_rerun_route_is_described_in_the_api_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/runs/{run_id}/rerun"]["post"]
    assert "202" in operation["responses"]
    assert "RerunRun" in schema["components"]["schemas"]
