"""When a schedule's slots fall: cron times (cronsim) in the schedule's time zone (zoneinfo)."""

from __future__ import annotations

from collections import deque
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
    if not schedule.catch_up:
        moment = datetime.fromtimestamp(now, zone) + timedelta(microseconds=1)
        latest = next(CronSim(schedule.cron, moment, reverse=True)).timestamp()
        return [latest] if latest > since else []
    slots: deque[float] = deque(maxlen=CATCH_UP_LIMIT)
    for when in CronSim(schedule.cron, datetime.fromtimestamp(since, zone)):
        slot = when.timestamp()
        if slot > now:
            break
        slots.append(slot)
    return list(slots)


def next_slot(schedule: Schedule, now: float) -> float:
    """The first slot after `now`."""
    zone = ZoneInfo(schedule.timezone)
    return next(CronSim(schedule.cron, datetime.fromtimestamp(now, zone))).timestamp()


def slot_text(schedule: Schedule, slot: float) -> str:
    """The slot as its schedule reads it: `2026-12-07 06:00 Europe/Paris`."""
    when = datetime.fromtimestamp(slot, ZoneInfo(schedule.timezone))
    return f"{when:%Y-%m-%d %H:%M} {schedule.timezone}"
