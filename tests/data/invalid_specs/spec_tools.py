"""The tools every case in this folder names with `imports: [spec_tools]`.

Their `return {...}` literals are what `wfe validate` reads to know which state keys a tool writes.
"""

from wfe import tool


@tool
def noop() -> None:
    """Do nothing."""
    return None


@tool
def inc(i: int) -> dict:
    """Add one to the state key `i`."""
    return {"i": i + 1}


@tool
def count_words(text: str) -> dict:
    """Write `words`, which a case may leave undeclared."""
    return {"words": len(text.split())}


@tool
def score_a() -> dict:
    """Write `score` (as `score_b` does)."""
    return {"score": 1}


@tool
def score_b() -> dict:
    """Write `score` (as `score_a` does)."""
    return {"score": 2}


@tool
def greet(name: str) -> str:
    """A value for `out:`."""
    return f"hello {name}"


@tool
def sort_words(text: str) -> dict:
    """Write `sorted_words`; the dict its helper returns is not the tool's."""

    def order(word: str) -> dict:
        return {"length": len(word)}

    return {"sorted_words": sorted(text.split(), key=lambda w: order(w)["length"])}
