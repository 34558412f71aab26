"""After the booking: finding a visitor's bookings, correcting the visitor's details, adding guests,
cancelling.

Every change is checked against the booking's ``sequence``: a signed link carries the sequence
it was sent with, and once the booking changes (cancelled, moved) older links do nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.booking.announcing import Announcer
from bot.booking.context import Context
from bot.booking.model import booking_json, guest_list, log, ref, visitor_of
from bot.errors import (
    AlreadyCancelled,
    BookingError,
    BookingInPast,
    BookingNotFound,
    ConfigError,
    GuestError,
    MeetingNotOver,
    NotYourBooking,
    ProviderUnavailable,
)
from bot.inputs import clean_email, clean_text
from bot.messages.email import build_cancellation, build_confirmation
from bot.messages.webhooks import queue_event
from bot.store.models import Booking, BookingBlock

#: What an agent marks a past meeting as.
ATTENDANCE = ("held", "no_show")


def confirmed(s: Session, booking_id: str | None, sequence: int | None = None) -> Booking:
    """The confirmed booking, else BookingNotFound (none, not confirmed, or a ``sequence`` from
    a link sent before a change) or AlreadyCancelled."""
    b = s.get(Booking, booking_id) if isinstance(booking_id, str) and len(booking_id) <= 32 else None
    if b is None or (sequence is not None and sequence != b.sequence and b.status != "cancelled"):
        raise BookingNotFound("no such booking")
    if b.status == "cancelled":
        raise AlreadyCancelled("the meeting was cancelled")
    if b.status != "confirmed":
        raise BookingNotFound("no such booking")
    return b


def movable(s: Session, booking_id: str | None, now: datetime, sequence: int | None = None) -> Booking:
    """The confirmed booking that has not started yet (see :func:`confirmed`), else BookingInPast."""
    b = confirmed(s, booking_id, sequence)
    if b.start <= now:
        raise BookingInPast("the meeting has started")
    return b


class Changes:
    def __init__(self, ctx: Context, announcer: Announcer):
        self.ctx = ctx
        self.announcer = announcer

    def get_booking(self, booking_id: str) -> dict[str, Any] | None:
        with self.ctx.store.session() as s:
            b = s.get(Booking, booking_id) if isinstance(booking_id, str) and len(booking_id) <= 32 else None
            return None if b is None else {**booking_json(b), "sequence": b.sequence}

    def find_bookings(
        self, *, conversation_id: str | None = None, email: str | None = None, code: str | None = None
    ) -> list[dict[str, Any]]:
        """The visitor's upcoming confirmed bookings, soonest first: those made in this
        conversation, or the one whose booking code (the whole code, or at least its first 8
        characters) and visitor e-mail both match. Anything else finds nothing."""
        now = self.ctx.clock()
        query = select(Booking).where(Booking.status == "confirmed", Booking.end > now)
        if conversation_id:
            query = query.where(Booking.conversation_id == conversation_id)
        else:
            code = (code or "").strip().lower()
            email = (email or "").strip().lower()
            if not (8 <= len(code) <= 32 and all(ch in "0123456789abcdef" for ch in code) and "@" in email):
                return []
            query = query.where(Booking.id.like(f"{code}%"), func.lower(Booking.visitor_email) == email)
        with self.ctx.store.session() as s:
            rows = s.execute(query.order_by(Booking.start).limit(10)).scalars().all()
            if not conversation_id and len(rows) != 1:
                return []  # an ambiguous short code identifies nobody
            return [{**booking_json(b), "sequence": b.sequence} for b in rows]

    def cancel(self, booking_id: str, *, sequence: int | None = None) -> dict[str, Any]:
        """Cancel a confirmed booking: the provider event first (so a failure changes nothing),
        then, in one transaction, the booking, its hold, the visitor's notice (ICS CANCEL when
        we sent the invitation), the agent's notice and the webhooks.

        ``sequence`` (from a signed link) must match: a link from before a change does nothing.
        """
        now = self.ctx.clock()
        with self.ctx.store.session() as s:
            b = confirmed(s, booking_id, sequence)
            if b.end <= now:
                raise BookingInPast("the meeting is over")
            agent, provider_name, event_id, seq = ref(b.agent), b.provider, b.provider_event_id, b.sequence
        provider = self.ctx.providers.get(provider_name)
        if provider is None:
            raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
        if event_id:
            provider.cancel_event(agent, event_id)  # a missing event is fine; an outage raises
        announcer = self.announcer
        with self.ctx.store.session() as s:
            res = s.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "confirmed", Booking.sequence == seq)
                .values(status="cancelled", cancelled_at=now, updated_at=now, sequence=seq + 1)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # cancelled (or changed) by someone else meanwhile
                raise AlreadyCancelled("already cancelled")
            s.execute(delete(BookingBlock).where(BookingBlock.booking_id == booking_id))
            announcer.drop_reminders(s, booking_id)
            b = s.get(Booking, booking_id)
            c = announcer.confirmation(b, attach_ics=not provider.sends_invitations)
            queued = announcer.announce(s, b, c, "cancelled", build_cancellation(c, self.ctx.mail_from), "cancellation")
            queued[0].extend(announcer.guest_mails(s, b, c, "cancelled"))  # local calendar: ICS CANCEL each
            result = booking_json(b)
        log.info("booking %s cancelled", booking_id)
        announcer.kick(queued)
        return result

    def mark_attendance(self, booking_id: str, attendance: str, *, agent_id: int | None = None) -> dict[str, Any]:
        """After the meeting, its agent says whether it was held or the visitor did not come.

        ``attendance``: ``"held"`` or ``"no_show"``; ``agent_id``: who marks it (None: an admin or
        the CLI) — another agent's booking raises NotYourBooking. A no-show queues the
        ``booking.no_show`` webhook (signed, retried by the outbox) once per marking; the booking
        stays confirmed, so it still counts for the round robin (a no-show is not credited back).
        Marking again changes the mark."""
        if attendance not in ATTENDANCE:
            raise ConfigError(f"attendance is one of {', '.join(ATTENDANCE)}, not {attendance!r}")
        now = self.ctx.clock()
        with self.ctx.store.session() as s:
            b = confirmed(s, booking_id)
            if agent_id is not None and b.agent_id != agent_id:
                raise NotYourBooking("another agent's booking")
            if b.end > now:
                raise MeetingNotOver("the meeting is not over yet")
            changed = b.attendance != attendance
            b.attendance, b.attendance_at, b.updated_at = attendance, now, now
            hooks: list[int] = []
            if changed and attendance == "no_show":
                # one event per marking: marked again after "held", it is sent again
                key = f"{b.id}:no_show:{now.timestamp():.0f}"
                hooks = queue_event(s, "booking.no_show", booking_json(b), key=key, now=now)
            s.flush()
            result = booking_json(b)
        log.info("booking %s marked %s", booking_id, attendance)
        if hooks:
            self.announcer.kick(([], hooks))
        return result

    def correct_visitor(
        self, booking_id: str, *, email: str | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        """The visitor corrected their e-mail or first name after booking: the provider event's
        attendee first (so an outage changes nothing), then, in one transaction, the booking
        (``sequence`` + 1, so links mailed to the wrong address stop working), its reminders,
        the corrected confirmation to the (new) address, the agent's notice and the
        ``booking.updated`` webhook. Nothing to change: the booking as it is."""
        new_email = clean_email(email) if email is not None else None
        new_name = clean_text(first_name, 200) if first_name is not None else None
        if (email is not None and new_email is None) or (first_name is not None and not new_name):
            raise BookingError("that is not an e-mail address or a name")
        now = self.ctx.clock()
        with self.ctx.store.session() as s:
            b = movable(s, booking_id, now)
            changed = {
                k: v
                for k, v in (("visitor_email", new_email), ("visitor_first_name", new_name))
                if v is not None and v != getattr(b, k)
            }
            if not changed:
                return booking_json(b)
            agent, provider_name, event_id, seq = ref(b.agent), b.provider, b.provider_event_id, b.sequence
            old = visitor_of(b)
            was = f"{old.display_name} <{old.email}>"
            attendee = changed.get("visitor_email", b.visitor_email)
            name = " ".join(p for p in (changed.get("visitor_first_name", b.visitor_first_name), b.visitor_last_name) if p)
            guests = list(b.guests or ())
        provider = self.ctx.providers.get(provider_name)
        if provider is None:
            raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
        if event_id:
            provider.update_attendee(agent, event_id, attendee, name or attendee, guests)  # an outage raises
        announcer = self.announcer
        with self.ctx.store.session() as s:
            b = s.get(Booking, booking_id)
            if b is None or b.status != "confirmed" or b.sequence != seq or list(b.guests or ()) != guests:
                raise AlreadyCancelled("the booking changed meanwhile")
            person = dict(b.person or {})
            for column, key in (("visitor_email", "email"), ("visitor_first_name", "first_name")):
                if column in changed:
                    setattr(b, column, changed[column])
                    if key in person:
                        person[key] = changed[column]
            b.person, b.sequence, b.updated_at = person, seq + 1, now
            s.flush()
            announcer.drop_reminders(s, booking_id)
            c = announcer.confirmation(b, attach_ics=not provider.sends_invitations)
            announcer.queue_reminders(s, b, c, now)
            mail = build_confirmation(c, self.ctx.mail_from, corrected=True)
            queued = announcer.announce(s, b, c, "updated", mail, "corrected", was_visitor=was)
            result = booking_json(b)
        log.info("booking %s: visitor details corrected (%s)", booking_id, ", ".join(sorted(changed)))
        announcer.kick(queued)
        return result

    def add_guests(self, booking_id: str, emails: list[str]) -> dict[str, Any]:
        """The visitor brings colleagues to an upcoming confirmed booking: each address cleaned
        and lower-cased, those already on the booking left out (nothing is sent twice; nobody
        new: the booking as it is, no mail, no webhook). GuestError (``invalid``, ``agent`` — the
        agent's or the visitor's own address —, ``too_many`` — over ``queues.max_guests``)
        changes nothing; a cancelled or past booking raises what :func:`movable` raises.

        Like a correction, the provider goes first — the event's attendees become the visitor and
        every guest (Google patch with ``sendUpdates=all``, Graph PATCH: they invite the new
        ones) — so an outage raises and changes nothing. Then, in one transaction: the booking's
        guests, each new guest's own invitation with an ICS REQUEST when we send the invitations
        (the local calendar; key ``guest:<booking>:<email>:<sequence>``), the agent's "guests
        added" notice and the ``booking.guests_added`` webhook. The sequence stays: the visitor's
        links keep working and nothing changed for the visitor."""
        if not isinstance(emails, (list, tuple)):
            raise GuestError("invalid", "a list of e-mail addresses is needed")
        now = self.ctx.clock()
        with self.ctx.store.session() as s:
            b = movable(s, booking_id, now)
            have = list(b.guests or ())
            new = guest_list(emails, have=have, refuse=(b.agent.email, b.visitor_email), limit=b.queue.max_guests)
            if not new:
                return booking_json(b)
            agent, provider_name, event_id, seq = ref(b.agent), b.provider, b.provider_event_id, b.sequence
            visitor = visitor_of(b)
            attendee, name = b.visitor_email, visitor.display_name
        guests = have + new
        provider = self.ctx.providers.get(provider_name)
        if provider is None:
            raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
        if event_id:
            provider.update_attendee(agent, event_id, attendee, name, guests)  # an outage raises
        announcer = self.announcer
        with self.ctx.store.session() as s:
            res = s.execute(
                update(Booking)
                .where(
                    Booking.id == booking_id,
                    Booking.status == "confirmed",
                    Booking.sequence == seq,
                    Booking.guests == have,  # the same JSON text: nobody added guests meanwhile
                )
                .values(guests=guests, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # cancelled, moved, corrected or given other guests meanwhile
                raise AlreadyCancelled("the booking changed meanwhile")
            b = s.get(Booking, booking_id)
            c = announcer.confirmation(b, attach_ics=not provider.sends_invitations)
            queued = announcer.announce(s, b, c, "guests_added", None, "", added=new, extra={"added": new})
            queued[0].extend(announcer.guest_mails(s, b, c, only=new))
            result = booking_json(b)
        log.info("booking %s: %d guest(s) added", booking_id, len(new))
        announcer.kick(queued)
        return result
