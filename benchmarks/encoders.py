"""JSON encoders on what the store writes: a step's updates (small), an appended item, and
snapshots of a state holding a list of 1k, 10k and 100k items; encode and decode, per call.

    python benchmarks/encoders.py

wfe's own encoder (the standard library's C encoder, made once: `wfe.store.records.encode`)
against `json.dumps`, and orjson and msgspec when they are importable (they are not wfe's
dependencies: `pip install --target /tmp/encs orjson msgspec` and `PYTHONPATH=/tmp/encs`).
Printed, never asserted.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from typing import Any

from wfe.store.records import decode, encode


def _item(i: int) -> dict[str, Any]:
    return {"id": i, "path": f"src/module_{i}.py", "line": i % 400, "ok": i % 3 == 0,
            "message": "unused variable 'x'", "score": i / 7}


def _payloads() -> dict[str, Any]:
    items = [_item(i) for i in range(100_000)]
    return {
        "updates {i, done}": {"i": 41, "done": False},
        "appended item": _item(7),
        "state, 1k items": {"i": 3, "items": items[:1_000]},
        "state, 10k items": {"i": 3, "items": items[:10_000]},
        "state, 100k items": {"i": 3, "items": items},
    }


def _encoders() -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    found: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "wfe (json C encoder, made once)": (lambda v: encode(v, "value", "bench"), decode),
        "json.dumps/json.loads": (
            lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False), json.loads),
    }
    try:
        import orjson

        found["orjson (bytes; .decode() to text)"] = (
            lambda v: orjson.dumps(v).decode(), orjson.loads)
    except ImportError:
        print("orjson: not importable")
    try:
        import msgspec

        enc, dec = msgspec.json.Encoder(), msgspec.json.Decoder()
        found["msgspec (bytes; .decode() to text)"] = (lambda v: enc.encode(v).decode(), dec.decode)
    except ImportError:
        print("msgspec: not importable")
    return found


def _per_call(function: Callable[[], Any]) -> float:
    number, total = 1, 0.0
    while total < 0.2:
        number *= 2
        total = min(timeit.repeat(function, number=number, repeat=3))
    return total / number


def main() -> None:
    payloads, encoders = _payloads(), _encoders()
    print(f"{'payload':<20} {'encoder':<36} {'bytes':>9} {'encode':>11} {'decode':>11}")
    for name, value in payloads.items():
        for label, (dump, load) in encoders.items():
            text = dump(value)
            encoded = _per_call(lambda dump=dump, value=value: dump(value))
            decoded = _per_call(lambda load=load, text=text: load(text))
            print(f"{name:<20} {label:<36} {len(text):>9} {_shown(encoded):>11} "
                  f"{_shown(decoded):>11}")


def _shown(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
