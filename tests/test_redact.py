"""Secret values are masked by value wherever text leaves the process or enters the store, and
error messages are cut to a bounded size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wfe.redact import MASK, Secrets, cut

PLANTED = "s3cret-Pl4nted-9a1f"

LEAKY_TOOLS = '''
from wfe import tool, log


@tool
def fail_with(token: str) -> dict:
    raise ValueError(f"the service refused {token!r}")


@tool
def log_it(token: str) -> dict:
    log(f"using {token}")
    return {"echo": f"copied: {token}"}


@tool
def keep(value: object) -> dict:
    return {"echo": str(value)}
'''

HEADER = """
imports: [leaky_tools]
state:
  token: {type: str, env: WFE_TOKEN, secret: true}
  echo: {type: str, default: ""}
nodes:
"""

LEAKS = {
    "int() of the secret": "  n: {tool: keep, with: {value: '${ int(token) }'}}",
    "float() of the secret": "  n: {tool: keep, with: {value: '${ float(token) }'}}",
    "the secret as a missing key": "  n: {tool: keep, with: {value: '${ inputs[token] }'}}",
    "the secret in a tool's exception": "  n: {tool: fail_with}",
    "the secret logged and copied": "  n: {tool: log_it}",
    "the inputs passed whole": "  n: {tool: keep, with: {value: '${ inputs }'}}",
}


def _wfe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WFE_TOKEN": PLANTED, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "wfe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("body", LEAKS.values(), ids=LEAKS.keys())
def test_a_secret_value_is_masked_wherever_it_shows(tmp_path: Path, body: str) -> None:
    (tmp_path / "leaky_tools.py").write_text(LEAKY_TOOLS)
    (tmp_path / "wf.yaml").write_text(HEADER + body + "\n")
    store = str(tmp_path / "wfe.db")
    texts: dict[str, str | bytes] = {}
    for mode in ("--json", "--quiet"):
        run = _wfe("run", "wf.yaml", mode, "-i", f"token={PLANTED}", "--store", store,
                   "--output", "out.json", cwd=tmp_path)
        texts.update({f"run {mode} stdout": run.stdout, f"run {mode} stderr": run.stderr})
    texts["plain run"] = _wfe("run", "wf.yaml", "--no-store", cwd=tmp_path).stderr  # env
    texts["--output"] = (tmp_path / "out.json").read_text()
    run_id = json.loads(texts["run --json stdout"].splitlines()[0])["run_id"]
    for command in (["show", run_id], ["show", run_id, "--json"], ["logs", run_id],
                    ["logs", run_id, "--json"]):
        shown = _wfe(*command, "--store", store, cwd=tmp_path)
        texts[" ".join(command[::2])] = shown.stdout + shown.stderr
    for suffix in ("", "-wal"):
        if Path(store + suffix).exists():
            texts["store" + suffix] = Path(store + suffix).read_bytes()
    assert MASK in texts["run --json stdout"]  # the leak happened, and was masked
    for where, text in texts.items():
        needle = PLANTED.encode() if isinstance(text, bytes) else PLANTED
        assert needle not in text, f"the secret leaked into {where}"


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("hunter22", "the password is hunter22.", "the password is ***."),
        ("it's\n2 lines", "got \"it's\\n2 lines\" and 2 lines", "got \"***\" and ***"),
        ("quote\"d", '{"k": "quote\\"d"}', '{"k": "***"}'),
        ("abc", "abc is too short to mask", "abc is too short to mask"),
    ],
)
def test_a_secret_is_masked_in_each_form_it_is_written_in(secret, text, expected) -> None:
    secrets = Secrets()
    secrets.add([secret])
    assert secrets.text(text) == expected


def test_masking_a_value_masks_keys_items_and_numbers() -> None:
    secrets = Secrets()
    secrets.add(["tok-1234", 987654])
    value = {"tok-1234": ["a tok-1234", 987654, 5], "n": True}
    assert secrets.value(value) == {MASK: [f"a {MASK}", MASK, 5], "n": True}


def test_an_error_message_over_4_kb_is_cut_with_a_marker() -> None:
    assert cut("x" * 5000) == "x" * 4096 + "... [904 more characters cut]"
    assert cut("short") == "short"


HUGE_ERROR_TOOLS = '''
from wfe import tool, log


@tool
def shout() -> dict:
    log("y" * 1_000_000)
    raise RuntimeError("x" * 1_000_000)
'''


def test_a_huge_tool_error_and_log_line_are_cut_wherever_shown_or_stored(tmp_path: Path) -> None:
    # Before, the 1 MB message also took `wfe show` minutes: Rich's highlighter is quadratic in
    # long unbroken text (it is off there now, and the message is cut).
    (tmp_path / "huge_tools.py").write_text(HUGE_ERROR_TOOLS)
    (tmp_path / "wf.yaml").write_text(textwrap.dedent("""
        imports: [huge_tools]
        nodes:
          n: {tool: shout}
    """))
    store = tmp_path / "wfe.db"
    events = _wfe("run", "wf.yaml", "--json", "--store", str(store), cwd=tmp_path)
    plain = _wfe("run", "wf.yaml", "--store", str(store), cwd=tmp_path)
    run_id = json.loads(events.stdout.splitlines()[0])["run_id"]
    show = _wfe("show", run_id, "--store", str(store), cwd=tmp_path)
    logs = _wfe("logs", run_id, "--store", str(store), cwd=tmp_path)
    for output in (events.stdout, plain.stderr, show.stdout, logs.stdout):
        assert "more characters cut]" in output
        assert len(output) < 30_000
    assert store.stat().st_size < 500_000


CACHED_TOOLS = '''
from wfe import tool


@tool
def greet(token: str) -> dict:
    return {"echo": f"hello {token}"}
'''


def test_a_cached_result_holding_a_secret_value_is_not_stored(tmp_path: Path) -> None:
    (tmp_path / "cached_tools.py").write_text(CACHED_TOOLS)
    (tmp_path / "wf.yaml").write_text(HEADER.replace("leaky_tools", "cached_tools")
                                      + "  n: {tool: greet, cache: true}\n")
    store = tmp_path / "wfe.db"
    run = _wfe("run", "wf.yaml", "-i", f"token={PLANTED}", "--store", str(store), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert PLANTED.encode() not in store.read_bytes()
    wal = store.with_name(store.name + "-wal")
    assert not wal.exists() or PLANTED.encode() not in wal.read_bytes()
