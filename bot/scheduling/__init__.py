"""Pure scheduling: rules → ranges → minus busy → slots → union over a queue."""

from bot.scheduling.engine import AgentSchedule, Rules, Slot, WeeklyHours, queue_slots, working_ranges
from bot.scheduling.intervals import Interval, merge, subtract

__all__ = [
    "AgentSchedule",
    "Interval",
    "Rules",
    "Slot",
    "WeeklyHours",
    "merge",
    "queue_slots",
    "subtract",
    "working_ranges",
]
