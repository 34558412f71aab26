"""What the assistant says from custom actions, one entry per message (English for now).

Responses that rules utter live in ``domain.yml``; the texts the actions say live here, so each
text has exactly one home. ``say(key, **values)`` fills ``{placeholders}``.
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "ask_email": "Happy to set that up. What's your e-mail address? The invitation goes there.",
    "invalid_email": "That doesn't look like an e-mail address. Please type it like name@company.com.",
    "ask_first_name": "Thanks! And your first name?",
    "invalid_first_name": "Sorry, I didn't get that. What's your first name?",
    "ask_company": "Which company are you with?",
    "invalid_company": "Sorry, I didn't get that. Which company are you with?",
    "offer_intro": "Here are the next open times. Pick the one that suits you.",
    "offer_more": "Here are some later times.",
    "times_in_zone": "Times are in {zone}.",
    "no_slots": "I'm sorry, there is no free time with our team in the next two weeks. "
    "Shall I pass your e-mail on so someone gets back to you?",
    "no_more_slots": "That's all the free time I have in the next two weeks. "
    "Shall I pass your e-mail on so someone gets back to you to find a time?",
    "offer_failed": "Sorry, I can't look up the calendars right now. Nothing was booked. "
    "Please try again in a few minutes.",
    "slot_unavailable": "Sorry, that time is not available any more. Here are the next open times.",
    "slot_taken": "Sorry, someone just booked that time. Here are the next open times.",
    "provider_failed": "I could not reach the calendar to book that time, so nothing was booked. "
    "Please pick another time.",
    "pick_a_button": 'Please tap one of the times above, or say "other times" to see more.',
    "need_details_first": "Before I book that, I need a few details.",
    "booked": "You're booked! {agent} will meet you on {when} ({zone}).",
    "booked_link": "Meeting link: {url}",
    "booked_confirmation": "A confirmation is on its way to {email}. Booking code: {code}",
    "callback_stored": "Done: I've passed {email} on to the team. Someone will get back to you soon.",
}


def say(key: str, **values: object) -> str:
    return TEXTS[key].format(**values)
