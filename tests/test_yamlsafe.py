"""wfe.spec.yaml_loader: the hardened, position-keeping YAML loader.

The files in tests/data/bad_yaml/ are copies of the research corpus (shared/research/bad_yaml,
whose index.md gives each expected line:col). Case 19 (1.2 MB) is generated here instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfe.errors import Location, SpecError
from wfe.spec import _yaml_events as yamlevents
from wfe.spec import _yaml_text as yamltext
from wfe.spec import yaml_loader as yamlsafe
from wfe.spec.yaml_loader import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_INT_DIGITS,
    Positions,
    load_yaml,
    read_source,
)

# Speed is measured in benchmarks/; tests only guard against hangs and blow-ups, with the
# corpus contract's bound (index.md: every case settles in < 3 s), far above the real figures.
HANG_GUARD_SECONDS = 3.0

CORPUS = Path(__file__).parent / "data" / "bad_yaml"


def load(text: str) -> Any:
    return load_yaml(textwrap.dedent(text).encode(), "t.yaml")[0]


def problems_of(data: bytes | str, filename: str = "t.yaml") -> list[tuple[str, int, int, str]]:
    raw = textwrap.dedent(data).encode() if isinstance(data, str) else data
    with pytest.raises(SpecError) as caught:
        load_yaml(raw, filename)
    return [(p.code, p.location.line, p.location.col, p.message) for p in caught.value.problems]


def only_problem(data: bytes | str) -> tuple[str, int, int, str]:
    found = problems_of(data)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- the corpus, file by file

REJECTED: dict[str, list[tuple[str, int, int, str]]] = {
    "01_python_object_apply.yaml": [
        ("WFE003", 9, 12, "tag !!python/object/apply:os.system is not allowed")
    ],
    "02_python_object_new.yaml": [
        ("WFE003", 8, 11, "tag !!python/object/new:subprocess.Popen is not allowed")
    ],
    "03_python_name_and_module.yaml": [
        ("WFE003", 7, 14, "tag !!python/name:os.system is not allowed"),
        ("WFE003", 10, 14, "tag !!python/module:subprocess is not allowed"),
    ],
    "04_unknown_local_tag.yaml": [("WFE003", 5, 8, "custom tags are not supported (!include)")],
    "06_recursive_alias.yaml": [("WFE005", 9, 9, "recursive alias *loop")],
    "07_deep_flow_nesting.yaml": [("WFE005", 7, 75, "nesting deeper than 64 levels")],
    "08_deep_block_nesting.yaml": [("WFE005", 8, 129, "nesting deeper than 64 levels")],
    "09_duplicate_top_level_key.yaml": [
        ("WFE004", 14, 1, "duplicate key 'nodes' (first defined at 7:1)")
    ],
    "10_duplicate_nested_key.yaml": [
        ("WFE004", 13, 7, "duplicate key 'attempts' (first defined at 12:7)"),
        ("WFE004", 16, 9, "duplicate key 'when' (first defined at 15:9)"),
    ],
    "13_non_json_types.yaml": [
        ("WFE003", 7, 30, "tag !!binary is not allowed"),
        ("WFE003", 8, 30, "tag !!set is not allowed"),
        ("WFE003", 9, 31, "tag !!omap is not allowed"),
    ],
    "14_tab_indentation.yaml": [("WFE002", 7, 1, "tab character used for indentation")],
    "15_invalid_utf8.yaml": [("WFE001", 8, 21, "file is not valid UTF-8 (byte 0xe9)")],
    "16_utf16_bom.yaml": [("WFE001", 1, 1, "workflow files must be UTF-8")],
    "31_expression_escape_chars.yaml": [
        ("WFE006", 11, 15, "control character U+0000 not allowed (written as an escape)"),
    ],
    "37_escaped_control_characters.yaml": [
        ("WFE006", 2, 7, "control character U+001B not allowed (written as an escape)"),
        ("WFE006", 3, 14, "invisible/bidirectional control character U+202E not allowed "
                          "(written as an escape)"),
        ("WFE006", 8, 30, "control character U+0007 not allowed (written as an escape)"),
        ("WFE006", 9, 3, "control character U+009B not allowed (written as an escape)"),
    ],
    "17_control_characters.yaml": [
        ("WFE006", 8, 19, "control character U+0000 not allowed"),
        ("WFE006", 8, 21, "control character U+0007 not allowed"),
    ],
    "18_bidi_and_invisible_ids.yaml": [
        ("WFE006", 10, 16, "invisible/bidirectional control character U+202E not allowed"),
        ("WFE006", 11, 8, "invisible/bidirectional control character U+202E not allowed"),
        ("WFE006", 13, 17, "invisible/bidirectional control character U+200B not allowed"),
        ("WFE006", 14, 9, "invisible/bidirectional control character U+200B not allowed"),
    ],
    "20_merge_key_amplification.yaml": [
        ("WFE003", 12, 5, "merge keys (<<) are not supported"),
        ("WFE003", 17, 5, "merge keys (<<) are not supported"),
    ],
    "21_multiple_documents.yaml": [("WFE003", 7, 1, "only one YAML document per file")],
    "22_empty_file.yaml": [("WFE001", 1, 1, "workflow file is empty")],
    "23_top_level_sequence.yaml": [("WFE011", 1, 1, "top level must be a mapping")],
    "24_non_string_keys.yaml": [
        ("WFE003", 6, 3, "mapping keys must be strings (got int 1)"),
        ("WFE003", 9, 3, "mapping keys must be strings (got null)"),
        ("WFE003", 15, 3, "mapping keys must be strings (got float 3.14)"),
    ],
    "25_complex_key.yaml": [("WFE003", 6, 5, "mapping keys must be strings (got a sequence)")],
    "26_huge_integer.yaml": [("WFE011", 8, 14, "integer literal too large")],
    # The loader refuses non-finite numbers itself; -1 and -5 (10:17, 12:18) are schema checks.
    "27_nonfinite_and_negative_numbers.yaml": [
        ("WFE011", 8, 14, "non-finite number not allowed"),
        ("WFE011", 11, 16, "non-finite number not allowed"),
    ],
    "28_unclosed_quote.yaml": [
        ("WFE002", 11, 15, "unterminated quoted string (reached end of file)")
    ],
    "29_bad_indentation.yaml": [
        ("WFE002", 8, 11, "mapping values are not allowed here (check the indentation)")
    ],
}

# Valid YAML whose defects are for the schema, graph or expression checks.
ACCEPTED = [
    "11_norway_booleans.yaml",
    "12_yaml11_numbers.yaml",
    "30_null_required_fields.yaml",
    "32_unknown_next_node.yaml",
    "33_unknown_tool.yaml",
    "34_unbounded_cycle.yaml",
    "35_unknown_field_typo.yaml",
    "36_bad_expression_in_branch.yaml",
    "38_nested_function_amplification.yaml",
    "39_template_amplification.yaml",
]


def corpus_bytes(name: str) -> bytes:
    return read_source(CORPUS / name, name)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_corpus_file_is_rejected_at_the_documented_positions(name: str) -> None:
    assert problems_of(corpus_bytes(name), name) == REJECTED[name]


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_corpus_problems_name_the_file(name: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_yaml(corpus_bytes(name), name)
    assert all(p.location.file == name for p in caught.value.problems)
    assert str(caught.value).startswith(f"{name}:")


def test_billion_laughs_is_rejected_on_line_13_without_expanding() -> None:
    data = corpus_bytes("05_billion_laughs.yaml")
    start = time.perf_counter()
    [(code, line, col, message)] = problems_of(data)
    assert time.perf_counter() - start < HANG_GUARD_SECONDS
    assert (code, line) == ("WFE005", 13)
    assert col in (10, 14)  # `&f`, the first level past the cap, or its first `*e`
    assert message == "document expands to more than 100000 nodes (alias amplification)"


@pytest.mark.parametrize("name", ACCEPTED)
def test_corpus_file_for_later_checks_loads(name: str) -> None:
    document, positions = load_yaml(corpus_bytes(name), name)
    assert isinstance(document, dict)
    assert positions.value(("nodes",)) is not None


def test_norway_booleans_case_loads_as_strings() -> None:
    document, positions = load_yaml(corpus_bytes("11_norway_booleans.yaml"), "11.yaml")
    assert document["state"]["country"]["default"] == "NO"
    assert document["state"]["approved"]["default"] == "yes"
    assert document["start"] == "on"
    assert list(document["nodes"]) == ["on", "no"]
    assert document["nodes"]["on"]["with"] == {"mode": "off"}
    assert document["nodes"]["on"]["next"] == "no"
    assert positions.value(("start",)) == (7, 8)
    assert positions.key(("nodes", "on")) == (9, 3)
    assert positions.key(("nodes", "no")) == (13, 3)
    assert positions.value(("nodes", "on", "next")) == (12, 11)
    assert positions.value(("state", "country", "default")) == (5, 33)
    assert positions.value(("state", "approved", "default")) == (6, 34)
    assert positions.value(("nodes", "on", "with", "mode")) == (11, 18)


def test_yaml11_numbers_case_loads_under_the_core_schema() -> None:
    document, positions = load_yaml(corpus_bytes("12_yaml11_numbers.yaml"), "12.yaml")
    fetch = document["nodes"]["fetch"]
    assert fetch["timeout"] == "1:30"
    assert positions.value(("nodes", "fetch", "timeout")) == (8, 14)
    assert fetch["with"] == {
        "file_mode": 755,
        "build_id": 12345,
        "version": 1.1,
        "threshold": 1000.0,
        "retries": "1_000",
    }


def test_an_escaped_line_break_in_a_quoted_string_is_left_to_the_expression_check() -> None:
    text = corpus_bytes("31_expression_escape_chars.yaml").replace(b'"ok\\0"', b'"ok"')
    document, positions = load_yaml(text, "31.yaml")
    branches = document["nodes"]["fetch"]["next"]
    assert [b.get("when") for b in branches] == ["ok", "ok\n== True", "ok;__import__('os')", None]
    assert positions.value(("nodes", "fetch", "next", 1, "when")) == (13, 15)


def test_null_values_load_as_none() -> None:
    document, _ = load_yaml(corpus_bytes("30_null_required_fields.yaml"), "30.yaml")
    assert document["name"] is None
    assert document["nodes"]["fetch"]["tool"] is None
    assert document["nodes"]["build"] is None


@pytest.mark.parametrize("name", sorted([*REJECTED, "05_billion_laughs.yaml", *ACCEPTED]))
def test_every_corpus_case_settles_without_hanging(name: str) -> None:
    data = corpus_bytes(name)
    start = time.perf_counter()
    with contextlib.suppress(SpecError):
        load_yaml(data, name)
    assert time.perf_counter() - start < HANG_GUARD_SECONDS


# ---------------------------------------------------------------- reading files


def test_oversized_file_is_rejected_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "19_oversized_file.yaml"
    path.write_bytes(b"wfe: 1\nnodes:\n" + b"  # padding padding padding\n" * 45_000)
    size = path.stat().st_size
    assert size > MAX_BYTES
    start = time.perf_counter()
    with pytest.raises(SpecError) as caught:
        read_source(path, "19_oversized_file.yaml")
    assert time.perf_counter() - start < HANG_GUARD_SECONDS
    [problem] = caught.value.problems
    assert problem.format() == (
        f"19_oversized_file.yaml:1:1: error[WFE001]: file is {size} bytes; limit is 1048576"
    )


def test_file_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES - 6) + b"\n")
    assert len(read_source(path)) == MAX_BYTES


def test_a_file_over_the_cap_is_refused_before_a_byte_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (3 * MAX_BYTES))
    sizes: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, stream: Any) -> None:
            self.stream = stream

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.stream.close()

        def read(self, size: int = -1) -> bytes:
            sizes.append(size)
            return bytes(self.stream.read(size))

        def fileno(self) -> int:
            return int(self.stream.fileno())

    monkeypatch.setattr(yamltext, "open", lambda *a, **k: Spy(real_open(*a, **k)), raising=False)
    with pytest.raises(SpecError, match="limit is 1048576"):
        read_source(path)
    assert sizes == []
    # A file whose size says nothing (as /proc files say 0) is read to one byte past the cap.
    monkeypatch.setattr(yamltext, "_check_regular", lambda *a: None)
    with pytest.raises(SpecError, match="more than 1048576 bytes; limit is 1048576"):
        read_source(path)
    assert sizes == [MAX_BYTES + 1]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.yaml", "no such file"),
        (lambda tmp: tmp, "is a directory, not a file"),
    ],
)
def test_unreadable_paths_are_file_level_problems(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        read_source(make(tmp_path), "shown.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.message) == ("WFE001", message)
    assert problem.location == Location("shown.yaml", 1, 1)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs file permissions")
def test_file_without_read_permission_is_a_file_level_problem(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_bytes(b"a: 1\n")
    path.chmod(0)
    with pytest.raises(SpecError) as caught:
        read_source(path)
    [problem] = caught.value.problems
    assert (problem.code, problem.message) == ("WFE001", "permission denied")
    assert problem.location.file == str(path)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied"), "permission denied"),
        (OSError(5, "Input/output error"), "cannot read file (Input/output error)"),
    ],
)
def test_read_errors_are_file_level_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, message: str
) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\n")

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(yamltext, "open", fail, raising=False)
    with pytest.raises(SpecError) as caught:
        read_source(path, "w.yaml")
    assert [p.format() for p in caught.value.problems] == [f"w.yaml:1:1: error[WFE001]: {message}"]


NOT_REGULAR = "not a regular file (a FIFO, device or socket); only regular files are read"


def _socket(tmp: Path) -> Path:
    import socket

    path = tmp / "s.yaml"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="devices and sockets are POSIX")
@pytest.mark.parametrize("make", [lambda tmp: Path("/dev/zero"), lambda tmp: Path("/dev/null"),
                                  _socket], ids=["/dev/zero", "/dev/null", "socket"])
def test_a_device_or_socket_is_a_file_level_problem_and_is_not_read(
    tmp_path: Path, make: Any
) -> None:
    with pytest.raises(SpecError) as caught:
        read_source(make(tmp_path), "w.yaml")
    [problem] = caught.value.problems
    assert problem.format() == f"w.yaml:1:1: error[WFE001]: {NOT_REGULAR}"


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_validating_a_folder_with_a_fifo_reports_it_and_does_not_wait(tmp_path: Path) -> None:
    import subprocess

    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "parent.yaml").write_text("nodes:\n  sub:\n    workflow: pipe.yaml\n")
    # The timeout only turns a hang (what a FIFO did before) into a failure.
    done = subprocess.run([sys.executable, "-m", "wfe", "validate", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.splitlines()[:2] == [
        f"{tmp_path / 'parent.yaml'}:3:15: error[WFE070]: subgraph pipe.yaml: {NOT_REGULAR}",
        f"{tmp_path / 'pipe.yaml'}:1:1: error[WFE001]: {NOT_REGULAR}",
    ]


def test_read_source_returns_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"a: 1\n")
    assert read_source(path) == b"a: 1\n"


def test_load_yaml_refuses_data_over_the_cap() -> None:
    assert only_problem(b"#" * (MAX_BYTES + 1))[:3] == ("WFE001", 1, 1)


# ---------------------------------------------------------------- encoding and characters


@pytest.mark.parametrize(
    "data",
    [
        "a: 1\n".encode("utf-16"),
        "a: 1\n".encode("utf-16-le"),
        "a: 1\n".encode("utf-16-be"),
        "a: 1\n".encode("utf-32"),
        "a: 1\n".encode("utf-32-le"),
        "a: 1\n".encode("utf-32-be"),
    ],
    ids=["utf16-bom", "utf16le", "utf16be", "utf32-bom", "utf32le", "utf32be"],
)
def test_utf16_and_utf32_are_rejected_at_1_1(data: bytes) -> None:
    assert only_problem(data) == ("WFE001", 1, 1, "workflow files must be UTF-8")


def test_utf8_bom_is_stripped_and_positions_start_after_it() -> None:
    document, positions = load_yaml(b"\xef\xbb\xbfname: x\n", "t.yaml")
    assert document == {"name": "x"}
    assert positions.key(("name",)) == (1, 1)


def test_invalid_utf8_reports_the_bad_byte_by_character_column() -> None:
    # "é" is two bytes but one column
    assert only_problem(b"a: 1\nb: caf\xc3\xa9 \xe9\n") == (
        "WFE001",
        2,
        9,
        "file is not valid UTF-8 (byte 0xe9)",
    )


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\x01", "control character"),
        ("\x0b", "control character"),
        ("\x1b", "control character"),
        ("\x7f", "control character"),
        ("\x85", "control character"),
        ("\x9f", "control character"),
        ("\u200b", "invisible/bidirectional control character"),
        ("\u200f", "invisible/bidirectional control character"),
        ("\u202a", "invisible/bidirectional control character"),
        ("\u202e", "invisible/bidirectional control character"),
        ("\u2060", "invisible/bidirectional control character"),
        ("\u2066", "invisible/bidirectional control character"),
        ("\u2069", "invisible/bidirectional control character"),
        ("\ufeff", "invisible/bidirectional control character"),
        ("\ufffe", "noncharacter"),
    ],
)
def test_forbidden_characters_are_reported_where_they_stand(char: str, kind: str) -> None:
    data = f"a: 1\n# comment {char}\n".encode()
    assert only_problem(data) == ("WFE006", 2, 11, f"{kind} U+{ord(char):04X} not allowed")


def test_tabs_and_crlf_line_endings_are_allowed() -> None:
    document, positions = load_yaml(b"a: 'x\ty'\r\nb:\r\n  c: 1\r\n", "t.yaml")
    assert document == {"a": "x\ty", "b": {"c": 1}}
    assert positions.key(("b", "c")) == (3, 3)


def test_character_problems_are_capped() -> None:
    found = problems_of(b"a: '" + b"\x01" * 100 + b"'\n")
    assert len(found) == 20


# ---------------------------------------------------------------- scalar typing (YAML 1.2 core)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        *[(word, word) for word in ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF"]],
        *[(word, True) for word in ["true", "True", "TRUE"]],
        *[(word, False) for word in ["false", "False", "FALSE"]],
        ("tRUE", "tRUE"),
        *[(word, None) for word in ["~", "null", "Null", "NULL", ""]],
        ("nULL", "nULL"),
        ("0755", 755),
        ("012345", 12345),
        ("08", 8),
        ("-12", -12),
        ("+3", 3),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", "0b101"),
        ("-0x1F", "-0x1F"),
        ("1:30", "1:30"),
        ("12:30:00", "12:30:00"),
        ("1_000", "1_000"),
        ("1.5", 1.5),
        ("1.10", 1.1),
        ("1e3", 1000.0),
        ("1.0e3", 1000.0),
        ("-2.5E-1", -0.25),
        (".5", 0.5),
        ("1.", 1.0),
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01 10:00:00", "2024-01-01 10:00:00"),
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("'true'", "true"),
        ('"123"', "123"),
        ("! 123", "123"),
        ("9" * MAX_INT_DIGITS, int("9" * MAX_INT_DIGITS)),
        ("0x" + "f" * MAX_INT_DIGITS, int("f" * MAX_INT_DIGITS, 16)),
    ],
)
def test_plain_scalars_follow_the_yaml_12_core_schema(literal: str, expected: Any) -> None:
    value = load(f"v: {literal}\n")["v"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("!!str 123", "123"),
        ("!!str true", "true"),
        ("!!int '42'", 42),
        ("!!float 1", 1.0),
        ("!!bool 'false'", False),
        ("!!null ''", None),
        ("!!seq [1]", [1]),
        ("!!map {a: 1}", {"a": 1}),
        ("!<tag:yaml.org,2002:str> 5", "5"),
    ],
)
def test_core_tags_are_accepted(literal: str, expected: Any) -> None:
    value = load(f"v: {literal}\n")["v"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("!!int abc", "'abc' is not a valid !!int"),
        ("!!bool yes", "'yes' is not a valid !!bool"),
        ("!!float 1.5.0", "'1.5.0' is not a valid !!float"),
        ("!!null x", "'x' is not a valid !!null"),
    ],
)
def test_core_tags_on_values_that_do_not_fit_are_rejected(literal: str, message: str) -> None:
    assert only_problem(f"v: {literal}\n") == ("WFE011", 1, 4, message)


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("!!timestamp 2024-01-01", "tag !!timestamp is not allowed"),
        ("!!binary aGVsbG8=", "tag !!binary is not allowed"),
        ("!!set {a}", "tag !!set is not allowed"),
        ("!!omap [{a: 1}]", "tag !!omap is not allowed"),
        ("!!pairs [{a: 1}]", "tag !!pairs is not allowed"),
        ("!!merge x", "tag !!merge is not allowed"),
        ("!!python/tuple [1]", "tag !!python/tuple is not allowed"),
        ("!include other.yaml", "custom tags are not supported (!include)"),
        ("!<tag:example.com,2000:x> 1", "tag tag:example.com,2000:x is not allowed"),
        ("!!str [1]", "tag !!str cannot be used on a sequence"),
        ("!!seq {a: 1}", "tag !!seq cannot be used on a mapping"),
        ("!!map x", "tag !!map cannot be used on a scalar"),
    ],
)
def test_other_tags_are_rejected_at_the_tag(literal: str, message: str) -> None:
    assert only_problem(f"v: {literal}\n") == ("WFE003", 1, 4, message)


def test_integer_literal_over_the_digit_cap_is_rejected() -> None:
    assert only_problem("v: " + "1" * (MAX_INT_DIGITS + 1)) == (
        "WFE011",
        1,
        4,
        "integer literal too large",
    )


@pytest.mark.parametrize("literal", [".inf", "-.inf", "+.INF", ".nan", ".NaN", "1e999", "-1e999"])
def test_non_finite_numbers_are_rejected(literal: str) -> None:
    assert only_problem(f"v: {literal}\n") == ("WFE011", 1, 4, "non-finite number not allowed")


def test_quoted_non_finite_words_stay_strings() -> None:
    assert load("v: '.inf'\n") == {"v": ".inf"}


def test_loaded_values_are_plain_json_types() -> None:
    document = load(
        """
        a: 2024-01-01
        b: [1, 1.5, true, null, x, {c: d}]
        """
    )
    assert document == {"a": "2024-01-01", "b": [1, 1.5, True, None, "x", {"c": "d"}]}
    assert not math.isnan(document["b"][1])


# ---------------------------------------------------------------- keys, anchors, documents


@pytest.mark.parametrize(
    ("key", "got"),
    [
        ("1", "int 1"),
        ("-7", "int -7"),
        ("3.14", "float 3.14"),
        ("true", "bool true"),
        ("null", "null"),
        ("~", "null"),
        ("[a, b]", "a sequence"),
        ("{a: b}", "a mapping"),
    ],
)
def test_non_string_keys_are_rejected(key: str, got: str) -> None:
    assert only_problem(f"ok: 1\n? {key}\n: v\n") == (
        "WFE003",
        2,
        3,
        f"mapping keys must be strings (got {got})",
    )


def test_quoted_and_yes_no_keys_are_strings() -> None:
    assert load("'1': a\nyes: b\n\"null\": c\non: d\n") == {
        "1": "a",
        "yes": "b",
        "null": "c",
        "on": "d",
    }


def test_duplicate_keys_in_flow_mappings_are_rejected() -> None:
    assert only_problem("a: {x: 1, y: 2, x: 3}\n") == (
        "WFE004",
        1,
        17,
        "duplicate key 'x' (first defined at 1:5)",
    )


def test_duplicate_keys_at_several_depths_are_all_reported() -> None:
    assert problems_of("a:\n  - {b: 1, b: 2}\n  - c: {d: 1}\n    c: 2\na: 3\n") == [
        ("WFE004", 2, 12, "duplicate key 'b' (first defined at 2:6)"),
        ("WFE004", 4, 5, "duplicate key 'c' (first defined at 3:5)"),
        ("WFE004", 5, 1, "duplicate key 'a' (first defined at 1:1)"),
    ]


def test_merge_key_is_rejected_but_a_quoted_one_is_a_plain_key() -> None:
    assert only_problem("base: &b {x: 1}\nc:\n  <<: *b\n") == (
        "WFE003",
        3,
        3,
        "merge keys (<<) are not supported",
    )
    assert load("'<<': 1\n") == {"<<": 1}


def test_anchors_and_aliases_are_allowed_and_copied() -> None:
    document = load(
        """
        retry: &retry {attempts: 3, backoff: [1, 2]}
        a: {retry: *retry}
        name: &n fetch
        start: *n
        """
    )
    assert document["a"]["retry"] == {"attempts": 3, "backoff": [1, 2]}
    assert document["start"] == "fetch"
    document["a"]["retry"]["backoff"].append(3)
    assert document["retry"]["backoff"] == [1, 2]


def test_recursive_alias_in_a_flow_mapping_is_rejected() -> None:
    assert only_problem("a: &x {b: *x}\n") == ("WFE005", 1, 11, "recursive alias *x")


def test_unknown_alias_and_redefined_anchor_are_reported() -> None:
    assert problems_of("a: *nope\nb: &x 1\nc: &x 2\n") == [
        ("WFE002", 1, 4, "unknown alias *nope (no anchor &nope before it)"),
        ("WFE003", 3, 4, "anchor &x is defined twice (first at 2:4)"),
    ]


def test_expansion_just_under_the_cap_loads_and_just_over_fails() -> None:
    # The root, the keys `a` and `b`, `b`'s list and `a`'s 999 nodes make 1003; each `*a` adds 999.
    items = ", ".join(["x"] * 998)
    under = f"a: &a [{items}]\nb: [" + ", ".join(["*a"] * 99) + "]\n"
    document = load(under)
    assert len(document["b"]) == 99
    over = f"a: &a [{items}]\nb: [" + ", ".join(["*a"] * 100) + "]\n"
    code, line, _, message = only_problem(over)
    assert (code, line) == ("WFE005", 2)
    assert (
        message == f"document expands to more than {MAX_EXPANDED_NODES} nodes (alias amplification)"
    )


def test_wide_document_without_aliases_is_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "MAX_EXPANDED_NODES", 1000)  # 100 000 nodes take seconds
    load("a: [" + "1," * 997 + "]\n")
    assert only_problem("a: [" + "1," * 998 + "]\n") == (
        "WFE005",
        1,
        1999,  # the 998th item: 3 nodes before it
        "document expands to more than 1000 nodes",
    )


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n  \n", "---\n", "--- # c\n...\n"])
def test_empty_documents_are_reported_at_1_1(text: str) -> None:
    assert only_problem(text) == ("WFE001", 1, 1, "workflow file is empty")


@pytest.mark.parametrize("text", ["- a\n", "just text\n", "42\n", "~\n", "''\n", "[a: 1]\n"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert only_problem(text) == ("WFE011", 1, 1, "top level must be a mapping")


def test_second_document_is_reported_at_its_start() -> None:
    assert only_problem("a: 1\n---\nb: 2\n") == ("WFE003", 2, 1, "only one YAML document per file")


def test_document_end_marker_alone_is_fine() -> None:
    assert load("a: 1\n...\n") == {"a": 1}


def test_composition_problems_are_all_reported_in_document_order() -> None:
    found = problems_of(
        """
        a: !!binary aGk=
        b: 1
        b: 2
        1: x
        c: {<<: {d: 1}}
        e: .nan
        f: !foo bar
        """
    )
    assert [(line, code) for code, line, _, _ in found] == [
        (2, "WFE003"),
        (4, "WFE004"),
        (5, "WFE003"),
        (6, "WFE003"),
        (7, "WFE011"),
        (8, "WFE003"),
    ]


# ---------------------------------------------------------------- depth


def nested(levels: int, open_: str, close: str) -> str:
    # the top-level mapping is level 1, so `v:` holds levels 2..levels
    return "v: " + open_ * (levels - 1) + "1" + close * (levels - 1) + "\n"


@pytest.mark.parametrize(("open_", "close"), [("[", "]"), ("{a: ", "}")])
def test_nesting_at_the_limit_loads(open_: str, close: str) -> None:
    load(nested(MAX_DEPTH, open_, close))


@pytest.mark.parametrize(("open_", "close", "col"), [("[", "]", 67), ("{a: ", "}", 256)])
def test_nesting_past_the_limit_is_reported_at_the_opening_token(
    open_: str, close: str, col: int
) -> None:
    assert only_problem(nested(MAX_DEPTH + 1, open_, close)) == (
        "WFE005",
        1,
        col,
        "nesting deeper than 64 levels",
    )


def test_deep_block_mappings_are_reported_at_the_first_key_too_deep() -> None:
    text = "".join(" " * i + "k:\n" for i in range(MAX_DEPTH)) + " " * MAX_DEPTH + "x: 1\n"
    assert only_problem(text) == ("WFE005", 65, 65, "nesting deeper than 64 levels")


@pytest.mark.parametrize("opening", ["[", "{"])
def test_fifty_thousand_nested_openings_are_rejected_without_hanging(opening: str) -> None:
    data = ("a: " + opening * 50_000 + "\n").encode()
    start = time.perf_counter()
    code, _, _, _ = only_problem(data)
    assert time.perf_counter() - start < HANG_GUARD_SECONDS
    assert code == "WFE005"


# ---------------------------------------------------------------- syntax errors


def test_syntax_error_stops_at_the_first_and_keeps_earlier_findings() -> None:
    assert problems_of("a: 1\na: 2\nb: [1, 2\nc: 'x\n") == [
        ("WFE004", 2, 1, "duplicate key 'a' (first defined at 1:1)"),
        ("WFE002", 4, 2, "expected ',' or ']', but got ':' (while parsing a flow sequence at 3:4)"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n\tb: 1\n", ("WFE002", 2, 1, "tab character used for indentation")),
        ("a: 'abc\nb: 1\n", ("WFE002", 1, 4, "unterminated quoted string (reached end of file)")),
        ('a: "abc\n', ("WFE002", 1, 4, "unterminated quoted string (reached end of file)")),
        (
            "a: b: c\n",
            ("WFE002", 1, 5, "mapping values are not allowed here (check the indentation)"),
        ),
        (
            'a: "\\q"\n',
            (
                "WFE002",
                1,
                6,
                "found unknown escape character 'q' (while scanning a double-quoted scalar at 1:4)",
            ),
        ),
    ],
)
def test_syntax_errors_get_friendly_messages(text: str, expected: tuple[Any, ...]) -> None:
    assert only_problem(text) == expected


@pytest.mark.parametrize("error", [RecursionError("deep"), MemoryError(), ValueError("odd")])
def test_unexpected_loader_exceptions_become_spec_errors(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def explode(self: Any) -> None:
        raise error

    monkeypatch.setattr(yamlevents._PythonEvents, "save_possible_simple_key", explode)
    monkeypatch.setattr(yamlsafe, "fast_events", yamlevents.python_events)
    code, line, col, message = only_problem("a: 1\n")
    assert (code, line, col) == ("WFE002", 1, 1)
    assert message.startswith(f"could not parse the file ({type(error).__name__}")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#?,\n\t \\.01~<")), max_size=60))
def test_arbitrary_text_either_loads_or_raises_spec_error(text: str) -> None:
    try:
        document, positions = load_yaml(text.encode(), "fuzz.yaml")
    except SpecError as error:
        assert error.problems
        assert all(p.location.line >= 1 and p.location.col >= 1 for p in error.problems)
    else:
        assert isinstance(document, dict)
        assert positions.value(()) is not None


# ---------------------------------------------------------------- positions

WORKFLOW = """\
wfe: 1
nodes:
  read:
    tool: read_file
    with: {path: "x.py", limit: 10}
    next:
      - when: ok == True
        then: review
      - then: end
  review:
    tool: review
    tags:
    - a
    - [b, c]
"""


@pytest.fixture
def positions() -> Positions:
    return load_yaml(WORKFLOW.encode(), "w.yaml")[1]


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ((), (1, 1), None),
        (("wfe",), (1, 6), (1, 1)),
        (("nodes",), (3, 3), (2, 1)),
        (("nodes", "read"), (4, 5), (3, 3)),
        (("nodes", "read", "with"), (5, 11), (5, 5)),
        (("nodes", "read", "with", "path"), (5, 18), (5, 12)),
        (("nodes", "read", "with", "limit"), (5, 33), (5, 26)),
        (("nodes", "read", "next"), (7, 7), (6, 5)),
        (("nodes", "read", "next", 0), (7, 9), None),
        (("nodes", "read", "next", 0, "when"), (7, 15), (7, 9)),
        (("nodes", "read", "next", 1, "then"), (9, 15), (9, 9)),
        (("nodes", "review", "tags", 0), (13, 7), None),
        (("nodes", "review", "tags", 1), (14, 7), None),
        (("nodes", "review", "tags", 1, 1), (14, 11), None),
    ],
)
def test_positions_of_keys_and_values(
    positions: Positions, path: tuple[str | int, ...], value: Any, key: Any
) -> None:
    assert positions.value(path) == value
    assert positions.key(path) == key


def test_positions_of_unknown_paths_are_none(positions: Positions) -> None:
    assert positions.value(("nodes", "nope")) is None
    assert positions.key(("nodes", "nope")) is None


def test_nearest_falls_back_to_the_longest_known_prefix(positions: Positions) -> None:
    assert positions.nearest(("nodes", "read", "with", "path")) == (5, 18)
    assert positions.nearest(("nodes", "read", "retry", "attempts")) == (4, 5)
    assert positions.nearest(("nodes", "read", "next", 5, "when")) == (7, 7)
    assert positions.nearest(("missing", "deeper")) == (1, 1)
    assert Positions().nearest(("a",)) == (1, 1)


def test_location_uses_the_dotted_key_path(positions: Positions) -> None:
    path = ("nodes", "read", "next", 0, "when")
    assert positions.location("w.yaml", path) == Location(
        "w.yaml", 7, 15, "nodes.read.next[0].when"
    )
    assert positions.location("w.yaml", path, at_key=True) == Location(
        "w.yaml", 7, 9, "nodes.read.next[0].when"
    )
    assert positions.location("w.yaml", ()) == Location("w.yaml", 1, 1, "")


def test_location_at_key_falls_back_to_nearest(positions: Positions) -> None:
    location = positions.location("w.yaml", ("nodes", "read", "next", 0), at_key=True)
    assert (location.line, location.col, location.key) == (7, 9, "nodes.read.next[0]")
    missing = positions.location("w.yaml", ("nodes", "read", "timeout"), at_key=True)
    assert (missing.line, missing.col) == (4, 5)


def test_alias_values_are_placed_at_the_alias() -> None:
    _, positions = load_yaml(b"d: &d {x: 1}\nn:\n  a: *d\n", "t.yaml")
    assert positions.value(("n", "a")) == (3, 6)
    assert positions.nearest(("n", "a", "x")) == (3, 6)


def test_empty_value_position_is_recorded() -> None:
    _, positions = load_yaml(b"name:\nnext: 1\n", "t.yaml")
    assert positions.key(("name",)) == (1, 1)
    assert positions.value(("name",)) is not None




def test_large_workflow_loads_with_positions_everywhere() -> None:
    parts = ["wfe: 1\nstart: n0\nnodes:\n"]
    for i in range(750):
        parts.append(
            f'  n{i}:\n    tool: noop\n    with: {{index: {i}, note: "padding padding"}}\n'
            f"    next:\n      - when: x > {i}\n        then: n{i + 1}\n      - then: end\n"
        )
    data = "".join(parts).encode()
    assert len(data) > 100_000
    # How much positions add to parsing is measured in benchmarks/, never asserted here.
    document, positions = load_yaml(data, "big.yaml")
    assert len(document["nodes"]) == 750
    assert positions.value(("nodes", "n749", "next", 0, "then")) is not None


@pytest.mark.parametrize("name", sorted([*REJECTED, "05_billion_laughs.yaml", *ACCEPTED]))
def test_libyaml_and_python_parsers_give_the_same_result(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    def outcome() -> Any:
        try:
            return load_yaml(corpus_bytes(name), name)[0]
        except SpecError as error:
            return [p.format() for p in error.problems]

    fast = outcome()
    monkeypatch.setattr(yamlsafe, "fast_events", yamlevents.python_events)
    assert outcome() == fast
