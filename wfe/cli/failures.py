"""Turning errors into one line on stderr and an exit code (SPEC section 2)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from wfe.errors import SpecError, WfeError
from wfe.redact import mask_text, shown_error

#: Set by `wfe --debug`: show the traceback of every error.
DEBUG = False


def print_problems(error: SpecError) -> None:
    for problem in sorted(error.problems, key=lambda p: p.sort_key()):
        sys.stderr.write(problem.format() + "\n")


@contextmanager
def handle_errors() -> Iterator[None]:
    """Map WfeError to its message and exit code; anything else is an internal error."""
    try:
        yield
    except typer.Exit:
        raise
    except SpecError as error:
        print_problems(error)
        _debug_traceback()
        raise typer.Exit(error.exit_code) from None
    except WfeError as error:
        sys.stderr.write(f"error: {shown_error(error)}\n")
        _debug_traceback()
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # The reader went away (`wfe run --json | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None
    except Exception as error:
        sys.stderr.write(f"internal error: {type(error).__name__}: {shown_error(error)} "
                         "(run with --debug for details)\n")
        _debug_traceback()
        raise typer.Exit(1) from None


def _debug_traceback() -> None:
    if DEBUG:
        sys.stderr.write(mask_text(traceback.format_exc()))
