"""`schedule:` of a workflow file: when `wfe schedule` and `wfe serve --schedule` start it.

Cron expressions are read by cronsim (five fields, the syntax of Debian's cron), time zones by
the standard `zoneinfo`; both are checked when the file is loaded, at their position.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from wfe.spec.record import Record, Section, field
from wfe.spec.rules import Anything, Choice, Either, Flag, ListOf, MapOf, Text

_STATE_KEY = Text(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$", name="state key",
                  shape="must be an identifier: a letter, then letters, digits or '_'")


def _cron(value: str) -> str:
    # deferred: cronsim (~1 ms, with calendar) is for files with `schedule:`; every load (`wfe
    # validate`, a dry run) imports this module
    from cronsim import CronSim, CronSimError

    try:
        CronSim(value, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as error:
        raise ValueError(f"cron {value!r} does not parse: {error} (five fields: minute hour "
                         "day-of-month month day-of-week, such as '0 6 * * 1-5')") from None
    return value


def _timezone(value: str) -> str:
    # deferred as cronsim is: zoneinfo (~1.5 ms, with sysconfig's data) is for `schedule:` only
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Paris or "
                         "UTC)") from None
    return value


class Schedule(Record):
    """One schedule: start the workflow at each time `cron` names, in `timezone`."""

    cron: str = field(Text(refine=_cron), doc="five fields: minute hour day-of-month month "
                                              "day-of-week, such as '0 6 * * 1-5'")
    timezone: str = field(Text(refine=_timezone), default="UTC",
                          doc="the IANA time zone the cron times are in")
    inputs: dict[str, Any] = field(MapOf(_STATE_KEY, Anything()), default_factory=dict,
                                   doc="the run's inputs, as `-i` gives them")
    overlap: Literal["skip", "queue", "allow"] = field(
        Choice("skip", "queue", "allow"), default="skip",
        doc="when the previous run of this schedule still runs: skip this slot, queue it, or "
            "start it anyway")
    catch_up: bool = field(Flag(), default=False,
                           doc="true: run every slot missed while no scheduler ran; false: "
                               "the latest one only, once")


_ONE = Section(Schedule)
_MANY = ListOf(_ONE)
#: `schedule:` takes one schedule or a list of them.
SCHEDULES = Either(lambda value: _MANY if type(value) is list else _ONE, [_ONE, _MANY])


def schedules_of(value: Schedule | list[Schedule] | None) -> list[Schedule]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
