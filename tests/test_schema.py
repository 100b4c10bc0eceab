"""`wfe schema`: the JSON Schema an editor checks workflow files with, derived from the same
declarations the loader checks them with, so that the two agree."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import jsonschema
import pytest
from fuzz_schema import schema_workflow

from wfe.errors import SpecError
from wfe.graph.load import load_spec_bytes
from wfe.nodes import RECORDS
from wfe.spec.models import json_schema
from wfe.spec.yaml_loader import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p for p in (ROOT / "workflows").rglob("*.y*ml"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(RECORDS))


def schema_errors(validator: jsonschema.Draft202012Validator, text: str) -> list[str]:
    document, _ = load_yaml(textwrap.dedent(text).lstrip("\n").encode(), "wf.yaml")
    return [error.message for error in validator.iter_errors(document)]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema(RECORDS))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_workflow_follows_the_schema(validator, path):
    document, _ = load_yaml(path.read_bytes(), str(path))
    assert [e.message for e in validator.iter_errors(document)] == []


def test_every_file_the_loader_accepts_follows_the_schema(validator):
    # An editor must never flag a file that runs; generated files cover every key and form.
    rng = random.Random(20261122)
    accepted = 0
    for _ in range(400):
        data = schema_workflow(rng, ["1 +", "__import__('os')"])
        try:
            load_spec_bytes(data, "wf.yaml")
        except SpecError:
            continue
        accepted += 1
        document, _ = load_yaml(data, "wf.yaml")
        assert [e.message for e in validator.iter_errors(document)] == [], data.decode()
    assert accepted > 100


@pytest.mark.parametrize(
    "text",
    [
        "nodez: {}\n",
        "nodes: {a: {tool: t, retries: 3}}\n",
        "nodes: {a: {tool: 5}}\n",
        "nodes: {'bad name': {tool: t}}\n",
        "nodes: {a: {tool: t, timeout: soon}}\n",
        "nodes: {a: {tool: t, retry: {attempts: 0}}}\n",
        "nodes: {a: {tool: t, next: [{when: x}]}}\n",
        "nodes: {a: {tool: t, isolation: fiber}}\n",
        "wfe: 2\nnodes: {a: {tool: t}}\n",
        "state: {2fast: int}\nnodes: {a: {tool: t}}\n",
        "schedule: {cron: '0 6 * * *', overlap: wait}\nnodes: {a: {tool: t}}\n",
        "schedule: [{timezone: UTC}]\nnodes: {a: {tool: t}}\n",
        "nodes: {a: {tool: t, pool: [github]}}\n",
        "nodes: {a: {map: xs, tool: t, tolerate: -1}}\n",
        "nodes: {a: {map: xs, tool: t, tolerate: lots}}\n",
        "nodes: {a: {map: xs, tool: t, tolerate: true}}\n",
        "nodes: {a: {map: xs, tool: t, errors: [e]}}\n",
        "on_end: {finished: a}\nnodes: {a: {tool: t}}\n",
        "on_end: {failed: [a]}\nnodes: {a: {tool: t}}\n",
        "nodes: {a: {interrupt: {timeout: soon}}}\n",
        "nodes: {a: {interrupt: {timeout: 1m, on_timeout: 'b c'}}}\n",
    ],
)
def test_the_schema_refuses_what_the_loader_refuses_for_its_shape(validator, text):
    with pytest.raises(SpecError):
        load_spec_bytes(text.encode(), "wf.yaml")
    assert schema_errors(validator, text)


@pytest.mark.parametrize("text", [
    "nodes: {a: {tool: t, pool: github}}\n",
    "schedule: {cron: '0 6 * * 1-5'}\nnodes: {a: {tool: t}}\n",
    "state: {p: str}\nschedule:\n  - {cron: '0 6 * * *', timezone: Europe/Paris, inputs: {p: x},"
    " overlap: queue, catch_up: true}\n  - {cron: '*/5 * * * *'}\nnodes: {a: {tool: t}}\n",
    "nodes: {a: {map: xs, tool: t, tolerate: 3, errors: e}}\n",
    "nodes: {a: {parallel: {b: {tool: t}}, tolerate: '12.5%'}}\n",
    "nodes: {a: {parallel: {b: {workflow: c.yaml, inputs: {x: 1}, outputs: {y: z}}}}}\n",
    "on_end: {succeeded: a, failed: a, cancelled: a, always: a}\nnodes: {a: {tool: t}}\n",
    "nodes: {a: {interrupt: {message: m, timeout: 2h, on_timeout: b}}, b: {tool: t}}\n",
])
def test_the_new_keys_follow_the_schema(validator, text):
    load_spec_bytes(text.encode(), "wf.yaml")
    assert schema_errors(validator, text) == []


def test_durations_may_be_written_with_a_unit(validator):
    assert schema_errors(validator, "nodes: {a: {tool: t, timeout: 10s, cache: {ttl: 1h}}}\n") \
        == []
