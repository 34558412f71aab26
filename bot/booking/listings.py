"""Callbacks (visitors who found no free time and asked to be contacted) and the listings of
bookings and callbacks for the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.booking.context import Context
from bot.booking.model import Visitor, booking_json, iso
from bot.booking.offering import Offering
from bot.store.models import Booking, CallbackRequest, Queue


class Listings:
    def __init__(self, ctx: Context, offering: Offering):
        self.ctx = ctx
        self.offering = offering

    def request_callback(self, conversation_id: str, queue_slug: str | None, visitor: Visitor) -> None:
        with self.ctx.store.session() as s:
            q = self.offering.queue(s, queue_slug)
            exists = s.execute(
                select(CallbackRequest).where(
                    CallbackRequest.conversation_id == conversation_id, CallbackRequest.email == visitor.email
                )
            ).scalar_one_or_none()
            if exists is None:
                s.add(
                    CallbackRequest(
                        conversation_id=conversation_id,
                        queue_id=q.id,
                        email=visitor.email,
                        first_name=visitor.first_name,
                        company_name=visitor.company_name,
                        locale=visitor.locale,
                        timezone=visitor.timezone,
                        created_at=self.ctx.clock(),
                    )
                )

    def list_bookings(self) -> list[dict[str, Any]]:
        with self.ctx.store.session() as s:
            rows = s.execute(select(Booking).order_by(Booking.start, Booking.id)).scalars().all()
            return [booking_json(b) for b in rows]

    def list_callbacks(self) -> list[dict[str, Any]]:
        with self.ctx.store.session() as s:
            rows = s.execute(select(CallbackRequest, Queue.slug).join(Queue).order_by(CallbackRequest.created_at)).all()
            return [
                {
                    "id": c.id,
                    "status": c.status,
                    "queue": slug,
                    "email": c.email,
                    "first_name": c.first_name,
                    "company": c.company_name,
                    "locale": c.locale,
                    "timezone": c.timezone,
                    "created_at": iso(c.created_at),
                }
                for c, slug in rows
            ]
