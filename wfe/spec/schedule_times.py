"""When a schedule's slots fall: cron times (cronsim) in the schedule's time zone (zoneinfo)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim

from wfe.spec.schedule import Schedule

#: `catch_up: true` starts at most this many missed slots, the latest ones.
CATCH_UP_LIMIT = 100


def due_slots(schedule: Schedule, since: float, now: float) -> list[float]:
    """The slots after `since` and at or before `now` to start, oldest first (epoch seconds):
    every one with `catch_up`, else only the latest."""
    zone = ZoneInfo(schedule.timezone)
    moment = datetime.fromtimestamp(now, zone) + timedelta(microseconds=1)
    limit = CATCH_UP_LIMIT if schedule.catch_up else 1
    slots: list[float] = []
    # Backwards from now: a long outage costs no more than the slots that will run.
    for when in CronSim(schedule.cron, moment, reverse=True):
        slot = when.timestamp()
        if slot <= since or len(slots) == limit:
            break
        slots.append(slot)
    return slots[::-1]


def next_slot(schedule: Schedule, now: float) -> float:
    """The first slot after `now`."""
    zone = ZoneInfo(schedule.timezone)
    return next(CronSim(schedule.cron, datetime.fromtimestamp(now, zone))).timestamp()


def slot_text(schedule: Schedule, slot: float) -> str:
    """The slot as its schedule reads it: `2026-12-07 06:00 Europe/Paris`."""
    when = datetime.fromtimestamp(slot, ZoneInfo(schedule.timezone))
    return f"{when:%Y-%m-%d %H:%M} {schedule.timezone}"
