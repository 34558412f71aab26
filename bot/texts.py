"""Everything the assistant says, one entry per message: the English source texts.

Translations live in gettext catalogs, ``bot/i18n/locales/<lang>.po`` (msgctxt = key,
msgid = this English text): translators use the usual PO tools. Custom actions say every text
(the domain has no responses), so each text has exactly one home and one translation per
language. ``say(key, lang, **values)`` fills ``{placeholders}``.
"""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # conversation
    "greet": "Hi! I'm the booking assistant. I can find a time with our team and book you a meeting. "
    'Just say "book a meeting".',
    "goodbye": "Thanks for stopping by. Have a great day!",
    "out_of_scope": "Sorry, I can't help with that. I'm the booking assistant: I can find a time with our team "
    'and book a meeting with a video link and a calendar invitation. Say "book a meeting" to start.',
    "default": "Sorry, I didn't understand that. I can find a time with our team and book a meeting. "
    'Say "book a meeting" to start.',
    "change_by_email": "I can't change bookings in chat yet. To cancel, use the link in your confirmation "
    "e-mail; to move the meeting, reply to that e-mail and your contact will find a new time with you.",
    "language_switched": "Sure, let's continue in English.",
    "timezone_changed": "Got it: I'll show times in {zone}.",
    "timezone_unknown": "Sorry, I don't know that place or time zone. Try a city, like \"I'm in Chicago\".",
    # the booking form
    "ask_email": "Happy to set that up. What's your e-mail address? The invitation goes there.",
    "invalid_email": "That doesn't look like an e-mail address. Please type it like name@company.com.",
    "ask_first_name": "Thanks! And your first name?",
    "invalid_first_name": "Sorry, I didn't get that. What's your first name?",
    "ask_company": "Which company are you with?",
    "invalid_company": "Sorry, I didn't get that. Which company are you with?",
    "booking_stopped": 'No problem, I\'ve stopped. Nothing was booked. Say "book a meeting" whenever you want '
    "to pick a time.",
    # offering
    "offer_intro": "Here are the next open times. Pick the one that suits you.",
    "offer_more": "Here are some later times.",
    "offer_window": "Here is what's free {window}.",
    "no_slots_in_window": "I have nothing free {window}. Here are the nearest times.",
    "times_in_zone": "Times are in {zone}.",
    "no_slots": "I'm sorry, there is no free time with our team in the next two weeks. "
    "Shall I pass your e-mail on so someone gets back to you?",
    "no_more_slots": "That's all the free time I have in the next two weeks. "
    "Shall I pass your e-mail on so someone gets back to you to find a time?",
    "offer_failed": "Sorry, I can't look up the calendars right now. Nothing was booked. "
    "Please try again in a few minutes.",
    "pick_a_button": 'Please tap one of the times above, or say "other times" to see more.',
    "callback_stored": "Done: I've passed {email} on to the team. Someone will get back to you soon.",
    "callback_declined": 'Alright, I won\'t pass anything on. Say "book a meeting" any time to look for a slot again.',
    # booking
    "slot_unavailable": "Sorry, that time is not available any more. Here are the next open times.",
    "slot_taken": "Sorry, someone just booked that time. Here are the next open times.",
    "provider_failed": "I could not reach the calendar to book that time, so nothing was booked. "
    "Please pick another time.",
    "need_details_first": "Before I book that, I need a few details.",
    "booked": "You're booked! {agent} will meet you on {when} ({zone}).",
    "booked_link": "Meeting link: {url}",
    "booked_confirmation": "A confirmation is on its way to {email}. Booking code: {code}",
    # the confirmation e-mail (the agent's invitation body stays as the agent wrote it)
    "email_subject": "Your meeting with {agent}",
    "email_when": "When",
    "email_with": "With",
    "email_join": "Join",
    "email_code": "Booking code",
    "email_cancel": "Need to cancel?",
    "email_reminder_subject": "Reminder: your meeting with {agent}, {when}",
    "email_reminder_body": "A reminder of your meeting with {agent} on {when}.",
    "email_cancelled_subject": "Cancelled: your meeting with {agent}",
    "email_cancelled_body": "Your meeting with {agent} on {when} is cancelled. Nothing else is needed from you.",
    # the page behind the link in the confirmation e-mail
    "page_cancel_title": "Cancel your meeting",
    "page_cancel_question": "Do you want to cancel your meeting with {agent} on {when}?",
    "page_cancel_button": "Yes, cancel the meeting",
    "page_cancelled": "Your meeting with {agent} on {when} is cancelled. We've sent you an e-mail.",
    "page_already_cancelled": "This meeting is already cancelled.",
    "page_link_invalid": "This link is not valid any more. It may have expired or the meeting may have "
    "changed; please use the link in your newest e-mail.",
    "page_meeting_past": "This meeting has already taken place.",
    "page_cancel_failed": "Sorry, the meeting could not be cancelled right now. Nothing was changed; "
    "please try again in a few minutes.",
}


def template(key: str, lang: str = "en") -> str:
    """The text with its ``{placeholders}`` unfilled, in ``lang`` (English when untranslated)."""
    from bot.i18n.catalog import catalog

    return (catalog(lang).get(key) if lang != "en" else None) or TEXTS[key]


def say(key: str, lang: str = "en", **values: object) -> str:
    return template(key, lang).format(**values)
