"""wfe's own measures of each file, in a worker process, one file at a time, with a time limit.

Each file is read, decoded and parsed once; every function measure comes from that one tree.
What stops a file from being measured (it cannot be read, decoded or parsed, it is nested too
deeply for the parser, the measuring crashed or ran past its time limit) becomes an issue of
that file, never a failed run. The worker is a separate process so that a file that hangs or
exhausts the interpreter can be killed without harm to the run: `python -m
code_review_tools._worker` reads `{"paths": [...], "limits": {...}}` on stdin and writes one
JSON line per file, in order, which `measure_files` reads with a deadline per file.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import wfe

from ._issues import Issue, make_issue
from ._metrics import FunctionInfo, measure_functions
from ._source import WORKFLOWS_DIR, SourceText, code_lines, decode_source

DEFAULT_LIMITS = {"max_complexity": 10, "max_length": 50, "max_params": 5, "max_nesting": 4}
#: Seconds one file may take to be measured before it is reported (CR018) and skipped.
FILE_TIME_LIMIT = 20.0
#: Seconds a worker may take to start, and the line it writes once it has.
STARTUP_LIMIT = 60.0
READY = b"ready\n"

_LIMIT_CODES = (
    ("complexity", "max_complexity", "CR011", "complexity {value} is over {limit}"),
    ("length", "max_length", "CR012", "{value} lines is over {limit}"),
    ("params", "max_params", "CR013", "{value} parameters is over {limit}"),
    ("max_nesting", "max_nesting", "CR014", "nesting {value} is over {limit}"),
)
_KEPT = ("name", "qualname", "lineno", "complexity", "length", "max_nesting", "params")


def measure_path(path: Path, limits: Mapping[str, int]) -> dict[str, Any]:
    """`{lines, functions, issues}` of one file: its measures and wfe's own issues."""
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return _unreviewable("CR015", f"cannot be read: {reason}")
    try:
        text, _ = decode_source(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        return _unreviewable("CR016", f"cannot be decoded: {_decode_reason(error)}")
    try:
        tree = ast.parse(text, filename=str(path))
        functions = measure_functions(tree, SourceText.of(text))
    except SyntaxError as error:
        return _unreviewable("CR000", f"does not parse: {error.msg}", error.lineno or 1,
                             error.offset or 1)
    except ValueError as error:  # null bytes
        return _unreviewable("CR000", f"does not parse: {error}")
    except (RecursionError, MemoryError) as error:
        return _unreviewable("CR017", f"nested too deeply to parse ({type(error).__name__})")
    return {
        "digest": hashlib.sha256(data).hexdigest(),
        "lines": code_lines(text),
        "functions": [{key: fn[key] for key in _KEPT} for fn in functions],  # type: ignore[literal-required]
        "issues": limit_issues(functions, {**DEFAULT_LIMITS, **limits}),
    }


def _decode_reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"not valid {error.encoding} at byte {error.start}"
    if "encoding declaration" in str(error):  # the first two lines are not UTF-8
        return "not valid UTF-8, and no coding line names another encoding"
    return str(error)


def _unreviewable(code: str, message: str, line: int = 1, col: int = 1) -> dict[str, Any]:
    return {"lines": 0, "functions": [], "issues": [make_issue(line, col, code, message)]}


def limit_issues(functions: Sequence[FunctionInfo], limits: Mapping[str, int]) -> list[Issue]:
    """CR011-CR014: a function over one of the limits."""
    issues: list[Issue] = []
    for fn in functions:
        for measure, limit_key, code, text in _LIMIT_CODES:
            value, limit = int(fn[measure]), limits[limit_key]  # type: ignore[literal-required]
            if value > limit:
                message = f"`{fn['qualname']}`: " + text.format(value=value, limit=limit)
                issues.append(make_issue(fn["lineno"], fn["col"], code, message,
                                         qualname=fn["qualname"], value=value, limit=limit))
    return issues


def failed(message: str) -> dict[str, Any]:
    """The result of a file whose measuring crashed or ran out of time."""
    return _unreviewable("CR018", message)


async def measure_files(
    paths: Sequence[str], limits: Mapping[str, int], time_limit: float = FILE_TIME_LIMIT
) -> dict[str, dict[str, Any]]:
    """The measures of each file (absolute paths), from worker processes; a file that runs past
    time_limit seconds, or kills its worker, is reported as CR018 and the rest go on."""
    results: dict[str, dict[str, Any]] = {}
    pending = list(paths)
    while pending:
        done = await _run_worker(pending, limits, time_limit, results)
        pending = pending[done:]
    return results


async def _run_worker(
    paths: Sequence[str], limits: Mapping[str, int], time_limit: float,
    results: dict[str, dict[str, Any]],
) -> int:
    """Measure paths in one worker until it finishes or fails; how many paths it dealt with."""
    # The worker imports this package, which imports wfe: both from where this process has them.
    wfe_home = str(Path(wfe.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(WORKFLOWS_DIR), wfe_home, *filter(None, [os.environ.get("PYTHONPATH")])])}
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "code_review_tools._worker", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=errors, env=env, limit=1 << 28)
        return await _read_results(process, paths, limits, time_limit, results, errors)


async def _read_results(
    process: asyncio.subprocess.Process, paths: Sequence[str], limits: Mapping[str, int],
    time_limit: float, results: dict[str, dict[str, Any]], errors: IO[bytes],
) -> int:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps({"paths": list(paths), "limits": dict(limits)}).encode())
    process.stdin.close()
    try:
        if await asyncio.wait_for(process.stdout.readline(), STARTUP_LIMIT) != READY:
            raise TimeoutError
    except TimeoutError:
        await _stop(process)
        errors.seek(0)
        last = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RuntimeError("the measuring worker did not start: "
                           + (last[0] if last else "no message")) from None
    try:
        for index, path in enumerate(paths):
            try:
                line = await asyncio.wait_for(process.stdout.readline(), time_limit)
            except TimeoutError:
                results[path] = failed(f"measuring took over {time_limit:g} s; skipped")
                return index + 1
            if not line:
                code = await process.wait()
                results[path] = failed(f"measuring crashed (worker exit {code})")
                return index + 1
            results[path] = json.loads(line)
        return len(paths)
    finally:
        await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have ended already
        process.kill()
    await process.wait()


def serve() -> None:
    """The worker: measure the files named on stdin, one JSON line each on stdout (after a
    first line saying it started). Warnings the parser gives about the code are not ours."""
    warnings.simplefilter("ignore")
    sys.stdout.write(READY.decode())
    sys.stdout.flush()
    request = json.loads(sys.stdin.read())
    for path in request["paths"]:
        try:
            result = measure_path(Path(path), request["limits"])
        except Exception as error:  # a bug in a checker: this file's issue, not the run's
            result = failed(f"measuring failed: {type(error).__name__}: {error}")
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
