"""Pure scheduling: rules → ranges → minus busy → slots → union over a queue."""

from bot.scheduling.engine import (
    AgentSchedule,
    Availability,
    Busy,
    Rules,
    Slot,
    WeeklyHours,
    availability,
    is_free,
    queue_slots,
    working_ranges,
)
from bot.scheduling.intervals import Interval, merge, subtract

__all__ = [
    "AgentSchedule",
    "Availability",
    "Busy",
    "Interval",
    "Rules",
    "Slot",
    "WeeklyHours",
    "availability",
    "is_free",
    "merge",
    "queue_slots",
    "subtract",
    "working_ranges",
]
