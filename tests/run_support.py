"""A `wfe` process started from a test, and the id of the run it starts in the test's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from typer.testing import CliRunner

from wfe.cli import app

runner = CliRunner()


def wfe_process(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wfe", *map(str, args)], env=os.environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def started_run() -> str:
    for _ in range(400):
        runs = json.loads(runner.invoke(app, ["runs", "--json"]).stdout or "[]")
        if runs:
            return str(runs[0]["run_id"])
        time.sleep(0.05)
    raise AssertionError("the run never started")
