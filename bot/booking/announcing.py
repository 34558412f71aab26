"""Announcing a booking and its changes: the visitor's e-mail, the agent's notice, reminders and
webhooks, all queued in the outbox inside the caller's transaction (so they go out exactly when
the change is committed) and tried once right after the commit."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Mapping, Sequence

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.booking.context import Context
from bot.booking.model import booking_json, reminder_minutes, visitor_of
from bot.calendars.base import AgentRef
from bot.i18n import zone
from bot.messages.delivery import queue_email
from bot.messages.email import Confirmation, build_agent_notice, build_guest_mail, build_reminder
from bot.messages.webhooks import queue_event
from bot.store.models import Agent, Booking, OutboxMessage


class Announcer:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def confirmation(self, b: Booking, *, attach_ics: bool) -> Confirmation:
        """What the e-mails about ``b`` say, with the signed links when the app serves the pages."""
        visitor = visitor_of(b)
        agent = b.agent
        link = self.ctx.manage_link
        return Confirmation(
            booking_id=b.id,
            agent_name=agent.name,
            agent_email=agent.email,
            visitor_email=b.visitor_email,
            visitor_name=visitor.display_name,
            start=b.start,
            end=b.end,
            timezone=zone(b.timezone),
            locale=b.locale,
            conference_url=b.conference_url,
            subject_template=agent.invitation_subject,
            body_template=agent.invitation_body,
            person=visitor.token_person(),
            company=visitor.token_company(),
            attach_ics=attach_ics,
            manage_url=link(b.id, b.sequence, b.start, b.end, "cancel") if link else None,
            reschedule_url=(
                link(b.id, b.sequence, b.start, b.end, "reschedule") if link and b.start > self.ctx.clock() else None
            ),
            sequence=b.sequence,
            guests=tuple(b.guests or ()),
            invitations={i.lang: (i.subject, i.body) for i in agent.invitations},
        )

    def announce(
        self,
        s: Session,
        b: Booking,
        c: Confirmation,
        event: str,
        visitor_mail: EmailMessage | None,
        visitor_key: str,
        *,
        previous: tuple[datetime, datetime, AgentRef] | None = None,
        extra: Mapping[str, Any] | None = None,
        was_visitor: str = "",
        added: Sequence[str] = (),
    ) -> tuple[list[int], list[int]]:
        """In the caller's transaction: the visitor's mail, the agent's notice and the webhooks
        of ``booking.<event>``. Returns the outbox ids (mails, webhooks) to try once committed.

        A reschedule (``previous`` = old start, end, agent) tells the agent it moved; if the
        agent changed, the old agent hears it is cancelled and the new one that it is new. A
        correction (``was_visitor``: the name and e-mail before it) tells the agent who it is now.
        Guests added (``added``, no visitor mail) tell the agent who comes now."""
        mail_from = self.ctx.mail_from
        now = self.ctx.delivery.clock()
        # a booking may move (or be corrected) many times: those keys carry the sequence; guests
        # only ever grow, so their count after an addition tells additions apart
        suffix = f":{b.sequence}" if previous is not None or event == "updated" else ""
        if event == "guests_added":
            suffix = f":{len(b.guests or ())}"
        mails = []
        if visitor_mail is not None:
            mails.append(queue_email(s, visitor_mail, key=f"{visitor_key}:{b.id}{suffix}", now=now).id)
        agent_zone = zone(b.agent.timezone)
        if previous is None:
            notices = [("", build_agent_notice(event, c, agent_zone, mail_from, was_visitor=was_visitor, added=added))]
        elif previous[2].id == b.agent_id:
            notices = [("", build_agent_notice("rescheduled", c, agent_zone, mail_from, previous=previous[:2]))]
        else:
            old_agent = s.get(Agent, previous[2].id)
            was = replace(c, start=previous[0], end=previous[1], agent_name=old_agent.name, agent_email=old_agent.email)
            notices = [
                (":old", build_agent_notice("cancelled", was, zone(old_agent.timezone), mail_from)),
                (":new", build_agent_notice("created", c, agent_zone, mail_from)),
            ]
        for tag, notice in notices:
            mails.append(queue_email(s, notice, key=f"agent:{b.id}:{event}{suffix}{tag}", now=now).id)
        payload = {**booking_json(b), **(extra or {})}
        hooks = queue_event(s, f"booking.{event}", payload, key=f"{b.id}:{event}{suffix}", now=now)
        return mails, hooks

    def guest_mails(
        self,
        s: Session,
        b: Booking,
        c: Confirmation,
        kind: str = "invitation",
        *,
        only: Sequence[str] | None = None,
        was: tuple[datetime, datetime] | None = None,
    ) -> list[int]:
        """In the caller's transaction: each guest's own invitation (``kind="invitation"``), the
        move (``"moved"``, ``was`` = the old times) or the cancellation (``"cancelled"``), ICS
        attached, when we send the invitations (``c.attach_ics``: the local calendar; Google and
        Graph invite the attendees themselves). ``only``: just these guests (the ones just added).
        Keys ``guest:<booking>:<email>:<sequence>`` (``:cancel``): a retry never sends twice."""
        if not c.attach_ics:
            return []
        now = self.ctx.delivery.clock()
        ids = []
        for guest in only if only is not None else (b.guests or ()):
            who = guest if len(guest) <= 120 else hashlib.sha256(guest.encode()).hexdigest()[:32]
            tag = "cancel" if kind == "cancelled" else str(b.sequence)
            mail = build_guest_mail(c, guest, self.ctx.mail_from, kind, was=was)
            ids.append(queue_email(s, mail, key=f"guest:{b.id}:{who}:{tag}", now=now).id)
        return ids

    def kick(self, queued: tuple[list[int], list[int]]) -> None:
        """Try the just-committed messages now (the worker retries whatever fails)."""
        mails, hooks = queued
        self.ctx.delivery.kick(mails)
        self.ctx.delivery.kick(hooks, background=True)  # a slow endpoint must not hold up the chat

    def queue_reminders(self, s: Session, b: Booking, c: Confirmation, now: datetime) -> None:
        """Reminder e-mails at the queue's lead times before the start (none already past)."""
        reminder = build_reminder(c, self.ctx.mail_from)
        for minutes in reminder_minutes(b.queue.reminder_minutes):
            due = b.start - timedelta(minutes=minutes)
            if due > now:
                queue_email(s, reminder, key=f"reminder:{b.id}:{b.sequence}:{minutes}", now=now, due=due)

    @staticmethod
    def drop_reminders(s: Session, booking_id: str) -> None:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key.like(f"reminder:{booking_id}:%"), OutboxMessage.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
