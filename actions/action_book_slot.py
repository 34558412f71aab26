"""action_book_slot: book the offer the visitor clicked, or say why not and offer fresh times."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.action_answer_question import GUEST_ERRORS
from actions.common import apply, call, context_events, lang, latest_booking, offer_again, visitor
from bot.dialogue.lexicon import says_time
from bot.errors import (
    AlreadyCancelled,
    BookingError,
    BookingInPast,
    OfferExpired,
    OfferNotFound,
    ProviderError,
    SlotInPast,
    SlotTaken,
)
from bot.i18n import format_when, zone, zone_label
from bot.i18n.texts import say
from bot.ops import runtime

log = logging.getLogger(__name__)


class ActionBookSlot(Action):
    def name(self) -> str:
        return "action_book_slot"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = context_events(tracker)
        apply(tracker, ctx)
        offer_id = next(tracker.get_latest_entity_values("slot_id"), None)
        if not isinstance(offer_id, str) or not offer_id:
            text = (tracker.latest_message or {}).get("text") or ""
            if says_time(text) or any(e.get("name") == "time_pref" for e in ctx):
                # A typed "choice" that names a day or an hour ("pode ser quarta às 15h?"): the
                # times there, as buttons (a button's payload names the offer; words cannot).
                from actions.action_offer_slots import ActionOfferSlots

                return ctx + await ActionOfferSlots().run(dispatcher, tracker, domain)
            if not tracker.get_slot("offer_cursor") and await latest_booking(tracker) is None:
                # "ok cool that works, let's set one up then" with no times on screen: a request
                # for times (the form asks only what is missing, then offers).
                return ctx + [FollowupAction("booking_form")]
            dispatcher.utter_message(text=say("pick_a_button", lang(tracker)))
            return ctx
        svc = runtime.service()
        moves = await call(svc.moves, tracker.sender_id, offer_id)
        if moves is not None:
            return ctx + await self._move(dispatcher, tracker, moves, offer_id)
        if not tracker.get_slot("email"):
            # Keep the time: the form asks for the details, then action_offer_slots books it.
            dispatcher.utter_message(text=say("slot_kept", lang(tracker)))
            return ctx + [SlotSet("chosen_slot", offer_id), FollowupAction("booking_form")]
        return ctx + await book_offer(dispatcher, tracker, offer_id)

    @staticmethod
    async def _move(
        dispatcher: CollectingDispatcher, tracker: Tracker, booking_id: str, offer_id: str
    ) -> list[EventType]:
        """The visitor picked a new time for a booking (a reschedule offer of this conversation)."""
        svc = runtime.service()
        language = lang(tracker)
        tracker.slots.update({"manage_intent": "reschedule", "manage_booking": booking_id})
        state = [SlotSet("manage_intent", "reschedule"), SlotSet("manage_booking", booking_id)]
        try:
            result = await call(svc.reschedule, tracker.sender_id, offer_id, booking_id=booking_id)
        except (OfferNotFound, OfferExpired, SlotInPast):
            return state + await offer_again(dispatcher, tracker, intro=say("slot_unavailable", language))
        except SlotTaken:
            return state + await offer_again(dispatcher, tracker, intro=say("slot_taken", language))
        except ProviderError:
            dispatcher.utter_message(text=say("reschedule_failed", language))
            return state
        except AlreadyCancelled:
            dispatcher.utter_message(text=say("already_cancelled", language))
            return [SlotSet("manage_intent", None), SlotSet("manage_booking", None)]
        except BookingInPast:
            dispatcher.utter_message(text=say("meeting_started", language))
            return [SlotSet("manage_intent", None)]
        except BookingError as exc:
            log.warning("reschedule failed: %s", exc)
            dispatcher.utter_message(text=say("manage_not_found", language))
            return [SlotSet("manage_intent", None), SlotSet("manage_booking", None)]
        tz = zone(tracker.get_slot("timezone") or result.timezone)
        when = format_when(result.start, result.end, tz, result.locale)
        dispatcher.utter_message(
            text=say("rescheduled", language, agent=result.agent_name, when=when, zone=zone_label(tz, result.locale))
        )
        return [SlotSet("offer_cursor", None), SlotSet("manage_intent", None)]


async def book_offer(dispatcher: CollectingDispatcher, tracker: Tracker, offer_id: str) -> list[EventType]:
    """Book the offer for the visitor of this conversation, or say why not and offer fresh times."""
    svc = runtime.service()
    try:
        queue = await call(svc.queue_info, tracker.get_slot("queue"))
        result = await call(svc.book, tracker.sender_id, offer_id, visitor(tracker, queue.timezone))
    except (OfferNotFound, OfferExpired, SlotInPast) as exc:
        log.info("refused offer %r: %s", offer_id[:40], type(exc).__name__)
        return await offer_again(dispatcher, tracker, intro=say("slot_unavailable", lang(tracker)))
    except SlotTaken:
        return await offer_again(dispatcher, tracker, intro=say("slot_taken", lang(tracker)))
    except ProviderError:
        return await offer_again(dispatcher, tracker, intro=say("provider_failed", lang(tracker)))
    except BookingError as exc:
        reason = getattr(exc, "reason", None)
        if reason in GUEST_ERRORS:  # a guest the meeting cannot take: nothing booked, the times stay
            guests = ", ".join(tracker.get_slot("guests") or [])
            dispatcher.utter_message(text=say(GUEST_ERRORS[reason], lang(tracker), emails=guests))
            dispatcher.utter_message(text=say("guests_dropped", lang(tracker)))
            return [SlotSet("guests", None)]
        log.warning("booking failed: %s", exc)
        dispatcher.utter_message(text=say("offer_failed", lang(tracker)))
        return []
    tz = zone(result.timezone)
    when = format_when(result.start, result.end, tz, result.locale)
    lines = [say("booked", lang(tracker), agent=result.agent_name, when=when, zone=zone_label(tz, result.locale))]
    if result.conference_url:
        lines.append(say("booked_link", lang(tracker), url=result.conference_url))
    lines.append(say("booked_confirmation", lang(tracker), email=tracker.get_slot("email"), code=result.booking_id))
    guests = [g for g in tracker.get_slot("guests") or [] if isinstance(g, str)]
    if guests:
        lines.append(say("guest_added", lang(tracker), emails=", ".join(guests)))
    dispatcher.utter_message(text="\n".join(lines))
    return [SlotSet("offer_cursor", None), SlotSet("callback_offered", False), SlotSet("guests", None)]
