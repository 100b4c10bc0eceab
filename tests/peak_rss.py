"""The peak memory of a `wfe` child process, as the child itself saw it.

getrusage's ru_maxrss is no good here: Linux keeps the high-water mark across execve, so a child
that pytest forks (or vforks) starts with the pytest process's own peak (hundreds of MiB after
a few thousand tests). VmHWM in /proc/self/status is the peak of the process's current image.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: Run as `python -c`: `wfe ARGS`, then the peak written to $WFE_TEST_PEAK (bytes).
MEASURED = """
import atexit, os, resource, sys
def record():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    with open(os.environ["WFE_TEST_PEAK"], "w") as out:
        out.write(str(peak))
atexit.register(record)
sys.argv = ["wfe", *sys.argv[1:]]
from wfe.cli import main
main()
"""


def wfe_measured(*args: str, cwd: Path, env: dict[str, str] | None = None,
                 **options: Any) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the `wfe` command line with ARGS in `cwd`; also its peak RSS in bytes."""
    peak_file = cwd / ".peak"
    done = subprocess.run([sys.executable, "-c", MEASURED, *args], cwd=cwd,
                          env={**(env or os.environ), "WFE_TEST_PEAK": str(peak_file)},
                          capture_output=True, text=True, check=False, **options)
    return done, int(peak_file.read_text())
