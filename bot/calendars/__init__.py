"""Calendar providers behind one protocol."""

from bot.calendars.base import AgentRef, CalendarProvider, CreatedEvent, EventRequest

__all__ = ["AgentRef", "CalendarProvider", "CreatedEvent", "EventRequest"]
