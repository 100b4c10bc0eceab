"""Coverage-guided fuzzing of the loader with atheris (libFuzzer for Python), as an alternative
to fuzz_loader.py's random mutations: every input runs through everything `wfe validate FILE`
does; a WfeError is an expected outcome, anything else is a crash that libFuzzer reports and
saves (as crash-<hash>).

    pip install -e '.[fuzz]'
    python benchmarks/fuzz_atheris.py -max_total_time=600          # seeds: the bundled corpus
    python benchmarks/fuzz_atheris.py -max_total_time=3600 my_corpus/   # libFuzzer options
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

with atheris.instrument_imports(include=["wfe"]):
    from fuzz_workflows import prepare_folder, seed_files, validate_case

    from wfe.errors import WfeError

CASE = prepare_folder(Path(tempfile.mkdtemp(prefix="wfe-atheris-")))


def one_input(data: bytes) -> None:
    with contextlib.suppress(WfeError):  # the expected outcome for a bad file
        validate_case(CASE, data)


def seed_corpus() -> str:
    """A folder holding the seed files, for a run that names no corpus of its own."""
    folder = Path(tempfile.mkdtemp(prefix="wfe-atheris-corpus-"))
    for path in seed_files():
        (folder / path.name).write_bytes(path.read_bytes())
    return str(folder)


def main() -> None:
    argv = sys.argv
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv = [*argv, seed_corpus()]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
