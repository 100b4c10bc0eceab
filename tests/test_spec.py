"""Loading a workflow file into typed models: every schema problem with its file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from wfe.errors import SpecError
from wfe.graph.load import load_spec_bytes


def problems(yaml: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec_bytes(textwrap.dedent(yaml).lstrip("\n").encode(), "wf.yaml")
    return [p.format() for p in caught.value.problems]


def test_valid_file_loads_with_defaults():
    loaded = load_spec_bytes(b"nodes:\n  a: {tool: t}\n", "flow.yaml")
    assert loaded.name == "flow"
    assert loaded.spec.start_node == "a"
    assert loaded.spec.limits.max_steps == 1000 and loaded.spec.limits.timeout == 600
    assert loaded.nodes["a"].next is None


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (
            """
            nodes:
              a:
                tool: t
                retires: 3
            """,
            "wf.yaml:4:5: error[WFE010]: unknown key 'retires' (did you mean 'retry'?)",
        ),
        (
            """
            nodes:
              a:
                tool: t
                timout: 3
            """,
            "wf.yaml:4:5: error[WFE010]: unknown key 'timout' (did you mean 'timeout'?)",
        ),
        (
            """
            nodes:
              a:
                tool: t
                retry: {attempts: 3, delya: 1}
            """,
            "wf.yaml:4:26: error[WFE010]: unknown key 'delya' (did you mean 'delay'?)",
        ),
        (
            "nodez: {}\n",
            "wf.yaml:1:1: error[WFE010]: unknown key 'nodez' (did you mean 'nodes'?)",
        ),
        (
            """
            wfe: 2
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:6: error[WFE013]: unsupported format version 2 (this wfe reads version 1)",
        ),
        (
            """
            nodes:
              a: {tool: t, timeout: "1:30"}
            """,
            "wf.yaml:2:25: error[WFE011]: nodes.a.timeout: '1:30' is not a number of seconds or "
            "a duration such as 10s or 2m",
        ),
        (
            """
            nodes:
              a: {tool: t, retry: {attempts: 0}}
            """,
            "wf.yaml:2:34: error[WFE011]: nodes.a.retry.attempts: input should be greater than "
            "or equal to 1",
        ),
        (
            """
            nodes:
              a:
                tool: t
                next: [{when: x}]
            """,
            "wf.yaml:4:12: error[WFE012]: nodes.a.next[0]: missing required key 'then'",
        ),
        (
            """
            nodes:
              a:
                tool: 5
            """,
            "wf.yaml:3:11: error[WFE011]: nodes.a.tool must be a string, got int 5",
        ),
        (
            """
            name:
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:1: error[WFE011]: name: empty value (leave the key out to use the default)",
        ),
        (
            """
            nodes:
              a: {tool: t}
              build:
            """,
            "wf.yaml:3:3: error[WFE011]: nodes.build must be a mapping, got null (an empty value)",
        ),
        (
            """
            nodes:
              "bad name": {tool: t}
            """,
            "wf.yaml:2:3: error[WFE011]: node name 'bad name' must start with a letter and hold "
            "only letters, digits, '_' and '-' (at most 64)",
        ),
        (
            """
            state:
              2fast: int
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:2:3: error[WFE011]: state key '2fast' must be an identifier: a letter, then "
            "letters, digits or '_'",
        ),
        (
            """
            state:
              x: {type: int, defualt: 1}
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:2:18: error[WFE010]: unknown key 'defualt' (did you mean 'default'?)",
        ),
        (
            "description: no nodes\n",
            "wf.yaml:1:1: error[WFE012]: (top level): missing required key 'nodes'",
        ),
        (
            "nodes: {}\n",
            "wf.yaml:1:8: error[WFE011]: nodes: a workflow needs at least one node",
        ),
        (
            """
            start: "a b"
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:8: error[WFE011]: start: node name 'a b' must start with a letter and hold "
            "only letters, digits, '_' and '-' (at most 64)",
        ),
        (
            """
            start: "a\\n"
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:8: error[WFE011]: start: node name 'a\\n' must start with a letter and "
            "hold only letters, digits, '_' and '-' (at most 64)",
        ),
        (
            """
            nodes:
              a: {workflow: sub.yaml, inputs: {"bad key": 1}}
            """,
            "wf.yaml:2:36: error[WFE011]: state key 'bad key' must be an identifier: a letter, "
            "then letters, digits or '_'",
        ),
        (
            """
            nodes:
              a: {tool: t, isolation: fiber}
            """,
            "wf.yaml:2:27: error[WFE011]: nodes.a.isolation: input should be 'thread' or "
            "'process'",
        ),
        (
            """
            nodes:
              a: {tool: t, next: [{then: b}, 5]}
            """,
            "wf.yaml:2:34: error[WFE011]: nodes.a.next[1] must be a mapping, got int 5",
        ),
        (
            """
            wfe: true
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:6: error[WFE013]: unsupported format version True (this wfe reads "
            "version 1)",
        ),
        (
            """
            state:
              x: [int]
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:2:6: error[WFE011]: state.x must be a mapping, got a list",
        ),
        (
            """
            nodes:
              a: {tool: t, retry: {backoff: 0.5}}
            """,
            "wf.yaml:2:33: error[WFE011]: nodes.a.retry.backoff: input should be greater than or "
            "equal to 1",
        ),
        (
            """
            imports: [my..tools]
            nodes: {a: {tool: t}}
            """,
            "wf.yaml:1:11: error[WFE011]: imports[0]: 'my..tools' is not a module name (such as "
            "my_tools or package.tools)",
        ),
    ],
)
def test_schema_problem_is_reported_at_its_position(yaml, expected):
    assert expected in problems(yaml)


def test_every_problem_is_reported_in_one_pass_in_document_order():
    found = problems("""
        nodes:
          a:
            tool: t
            retires: 1
          b:
            tool: t
            timout: 2
    """)
    assert [p.split(": error")[0] for p in found] == ["wf.yaml:4:5", "wf.yaml:7:5"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10", 10.0), ("1.5", 1.5), ('"10s"', 10.0), ('"2m"', 120.0), ('"500ms"', 0.5),
     ('"1h"', 3600)],
)
def test_durations_accept_seconds_and_units(text, seconds):
    loaded = load_spec_bytes(f"nodes:\n  a: {{tool: t, timeout: {text}}}\n".encode(), "wf.yaml")
    assert loaded.nodes["a"].timeout == seconds


@pytest.mark.parametrize("text", ["0", "-5", '"soon"', "true", '"8d"', '"\u0661s"', "[1]"])
def test_durations_must_be_positive_numbers(text):
    assert problems(f"nodes:\n  a: {{tool: t, timeout: {text}}}\n")


def test_yaml_11_words_stay_strings_where_names_are_meant():
    loaded = load_spec_bytes(b"start: on\nnodes:\n  on: {tool: t, next: no}\n  no: {tool: t}\n",
                             "wf.yaml")
    assert loaded.spec.start_node == "on"
    assert loaded.nodes["on"].next == "no"


def test_retry_on_key_is_the_string_on():
    loaded = load_spec_bytes(b"nodes:\n  a: {tool: t, retry: {on: [KeyError]}}\n", "wf.yaml")
    retry = loaded.nodes["a"].retry
    assert retry is not None and retry.on == ["KeyError"]


def test_state_shorthand_and_full_entries_expand_alike():
    loaded = load_spec_bytes(b"state:\n  a: int\n  b: {type: int}\nnodes: {n: {tool: t}}\n", "w")
    fields = loaded.spec.state_fields()
    assert fields["a"].type == fields["b"].type == "int"
    assert not fields["a"].has_default


def test_a_section_reached_through_an_alias_is_reported_at_its_own_keys():
    found = problems("""
        defaults:
          retry: &patient {attempts: 3, jitter: "on"}
        nodes:
          a: {tool: t, retry: *patient}
    """)
    assert "wf.yaml:2:41: error[WFE011]: defaults.retry.jitter must be true or false, got str " \
           "'on'" in found
    assert any(p.startswith("wf.yaml:4:23: error[WFE011]: nodes.a.retry.jitter") for p in found)


def test_long_values_are_shortened_in_messages():
    [found] = problems(f"nodes:\n  a: {{tool: t, timeout: '{'9' * 300}x'}}\n")
    assert len(found) < 200 and "..." in found


def test_records_are_frozen_and_compared_by_value():
    first = load_spec_bytes(b"nodes:\n  a: {tool: t, retry: {attempts: 2}}\n", "wf.yaml").spec
    second = load_spec_bytes(b"nodes:\n  a: {retry: {attempts: 2}, tool: t}\n", "wf.yaml").spec
    assert first == second and hash(first.limits) == hash(second.limits)
    with pytest.raises(AttributeError):
        first.name = "changed"  # type: ignore[misc]


def test_a_record_knows_which_keys_the_file_gave():
    retry = load_spec_bytes(b"nodes:\n  a: {tool: t, retry: {delay: 2s}}\n",
                            "wf.yaml").nodes["a"].retry
    assert retry is not None and retry.given == {"delay"}
    assert (retry.attempts, retry.delay, retry.max_delay) == (1, 2.0, 60.0)


def test_an_explicit_empty_default_is_a_default_of_null():
    fields = load_spec_bytes(b"state:\n  x: {type: any, default:}\nnodes: {a: {tool: t}}\n",
                             "wf.yaml").spec.state_fields()
    assert fields["x"].has_default and fields["x"].default is None

