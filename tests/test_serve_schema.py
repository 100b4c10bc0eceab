"""`wfe serve` against its own OpenAPI schema: schemathesis generates requests for every route
(a bounded number each) and checks that none is a 500 and every response matches the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from serve_support import ServerProcess, start_server, write_served  # noqa: E402

TOKEN = "schema-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root: Path = tmp_path_factory.mktemp("schema")
    write_served(root)
    server = start_server(root, "workflows", env={"WFE_STORE": str(root / "wfe.db"),
                                                  "WFE_TOKEN": TOKEN})
    with server.client(TOKEN) as client:  # a few runs for the generated ids to find
        for inputs in ({"n": 2}, {"n": 1}):
            client.post("/runs", json={"workflow": "counter", "inputs": inputs})
        client.post("/runs", json={"workflow": "approval"})
    yield server
    server.stop()


def test_every_route_answers_as_its_schema_says(live_server: ServerProcess) -> None:
    # The schemathesis pytest plugin's lazy loading does not run on pytest 9: drive it directly.
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10  # every route of the API (a failed load would give none)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers=AUTH, timeout=30, checks=CHECKS)

        answers_as_documented()
