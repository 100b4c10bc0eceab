"""Run ids: short, unique, sortable by time (48 bits of milliseconds, 20 random bits)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_run_id(now: float | None = None) -> str:
    """A 14-character id; later runs sort after earlier ones."""
    millis = int((time.time() if now is None else now) * 1000)
    return _encode(millis, 10) + _encode(secrets.randbits(20), 4)
