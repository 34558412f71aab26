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
    "language_switched": "Sure, let's continue in English.",
    "timezone_changed": "Got it: I'll show times in {zone}.",
    "timezone_unknown": "Sorry, I don't know that place or time zone. Try a city, like \"I'm in Chicago\".",
    # the booking form
    "ask_email": "Happy to set that up. What's your e-mail address? The invitation goes there.",
    "invalid_email": "That doesn't look like an e-mail address. Please type it like name@company.com.",
    "ask_first_name": "Thanks! And your first name?",
    "invalid_first_name": "Sorry, I didn't get that. What's your first name?",
    # the form's question again, after an answer that did not do (no "Thanks!" this time)
    "reask_email": "What's your e-mail address?",
    "reask_first_name": "What's your first name?",
    "reask_company": "Which company are you with?",
    "ask_company": "Which company are you with?",
    "invalid_company": "Sorry, I didn't get that. Which company are you with?",
    "booking_stopped": 'No problem, I\'ve stopped. Nothing was booked. Say "book a meeting" whenever you want '
    "to pick a time.",
    # offering
    "offer_intro": "Here are the next open times. Pick the one that suits you.",
    "offer_more": "Here are some later times.",
    "offer_window": "Here is what's free {window}.",
    "no_slots_in_window": "I have nothing free {window}. Here are the nearest times.",
    "offer_pref": 'Here are the open times that fit what you asked for.',
    "no_slots_in_pref": 'I have nothing free at the times you asked for. Here are the nearest times.',
    "no_slots_in_workday": 'Nothing is free during your working day (Monday to Friday, 8:00 to 19:00 your time) soon. Here are the nearest times.',
    "email_why": "I need an e-mail address to send you the invitation and the meeting link. What's yours?",
    "email_corrected": "Got it, I'll use {email}.",
    "name_corrected": 'Sorry about that, {name}.',
    "booking_corrected": "I've corrected your booking and sent the confirmation again to {email}.",
    "booking_correct_failed": "I couldn't correct your booking just now. Please use the link in your "
    "confirmation e-mail, or try again in a few minutes.",
    "slot_kept": "I'll keep that time for you. Before I book it, I need a few details.",
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
    # questions about the meeting (actions/action_answer_question.py)
    "q_who_booked": "You'll meet {agent}. Their name and e-mail address are in your invitation too.",
    "q_who_before": "You'll meet one of our team. The person is picked when you book, and their name is in your confirmation.",
    "q_length": 'The meeting takes {minutes} minutes.',
    "q_medium_booked": 'Your meeting is on {tool}. You join with this link: {url}',
    "q_medium_booked_nolink": 'Your meeting is {tool}; the details are in your invitation.',
    "q_medium_before": "Our meetings are on {tool}. The link comes with your invitation; there's nothing to install.",
    "q_medium_not": "It isn't on {asked}.",
    "tool_local": 'our video room in the browser',
    "tool_none": 'without a video link',
    "tool_either": '{first} or {second}, depending on who you meet',
    "q_zone_booked": 'Your meeting is on {time} in {zone}.',
    "q_zone_shown": 'The times above in {zone}:',
    "q_zone_nothing": "Once you've picked a time, I can tell you what time that is in {zone}. Times are shown in your own zone.",
    "q_zone_unknown": 'Which city or time zone do you mean? For example: "what time is that in New York?"',
    "q_next_booked": "You're all set: the confirmation went to {email}, with the meeting link and links to move or cancel the meeting.",
    "q_next_before": "You pick a time, I ask for your e-mail and name if I don't have them, and you get a confirmation with the meeting link and links to move or cancel it.",
    "q_price": "I can't give prices here, sorry. Our team can, in a meeting.",
    "q_product": "I can't answer questions about the product here, sorry. Our team can, in a meeting.",
    "q_support": "I'm only the booking assistant, so I can't look into problems with an account or the product, sorry.",
    "q_ask_in_meeting": 'You can ask {agent} in your meeting on {when}.',
    "q_offer_callback": 'Shall I ask someone from the team to get back to you? Or say "book a meeting" to pick a time.',
    "q_offer_meeting": 'Say "book a meeting" and I\'ll find a time with them.',
    "q_general": "I can tell you who you'll meet, how long the meeting takes, how you join it and what happens after booking. What would you like to know?",
    "times_still_open": "The times above are still open: tap one when you're ready.",
    "guest_ask": 'Of course. What\'s their e-mail address? For example: "add anna@example.com".',
    "guest_noted": "Sure: I'll invite {emails} too when you book.",
    "guest_added": "Done: I've invited {emails} to your meeting.",
    "guest_invalid": "{emails} doesn't look like an e-mail address I can invite. Could you check it?",
    "guest_agent": "{emails} is already in the meeting (it's your host's address or your own), so there's no need to invite it.",
    "guest_too_many": "Sorry, that's more guests than a meeting can have. Your meeting keeps the guests it has.",
    "guest_failed": "I couldn't add the guest just now. Please try again in a few minutes, or use the link in your confirmation.",
    "guests_dropped": "Nothing is booked yet: pick a time again and I'll book it without that guest.",
    "message_too_long": 'That message is too long for me: please keep it under {limit} characters. Nothing was sent on.',
    "name_not_plain": "That doesn't look like a first name, so I haven't kept it.",
    "company_not_plain": "That doesn't look like a company name, so I haven't kept it.",
    # the routing file's qualification questions (their own texts are in routing.yml)
    "qualify_not_number": "Sorry, I need a number there, like 50.",
    "qualify_not_country": "Sorry, I didn't recognise a country in that.",
    "qualify_not_choice": "Sorry, I didn't get which one. Please pick one of the buttons.",
    # booking
    "slot_unavailable": "Sorry, that time is not available any more. Here are the next open times.",
    "slot_taken": "Sorry, someone just booked that time. Here are the next open times.",
    "provider_failed": "I could not reach the calendar to book that time, so nothing was booked. "
    "Please pick another time.",
    "need_details_first": "Before I book that, I need a few details.",
    "booked": "You're booked! {agent} will meet you on {when} ({zone}).",
    "booked_link": "Meeting link: {url}",
    "booked_confirmation": "A confirmation is on its way to {email}. Booking code: {code}",
    # changing a booking in chat
    "manage_ask_code": "I can help with that. Please send me the e-mail address you booked with and the "
    "booking code from your confirmation e-mail, like this: name@company.com 3f2a9c1b",
    "manage_not_found": "I couldn't find an upcoming meeting for that e-mail address and booking code. "
    "Please check both and send them again, or use the links in your confirmation e-mail.",
    "manage_too_many_tries": "I can't look up more booking codes in this conversation. "
    "Please use the links in your confirmation e-mail.",
    "manage_which": "I found your meeting with {agent} on {when} ({zone}). What would you like to do?",
    "manage_move_button": "Move it",
    "manage_cancel_button": "Cancel it",
    "cancel_confirm": "Do you want to cancel your meeting with {agent} on {when} ({zone})?",
    "cancel_yes": "Yes, cancel it",
    "cancel_no": "No, keep it",
    "cancelled_in_chat": "Done: your meeting with {agent} on {when} is cancelled. You'll get an e-mail too.",
    "cancel_kept": "Alright, your meeting stays as it is.",
    "cancel_failed": "Sorry, I couldn't cancel the meeting right now, so nothing changed. "
    "Please try again in a few minutes.",
    "already_cancelled": "That meeting is already cancelled.",
    "meeting_started": "That meeting has already started, so it can't be changed any more.",
    "reschedule_offer": "Here are new times with {agent}. Your meeting is now on {when}.",
    "reschedule_offer_mixed": "Here are new times: the first ones with {agent}, the others with a colleague. "
    "Your meeting is now on {when}.",
    "reschedule_offer_others": "{agent} has no other free time soon, so these times are with a colleague. "
    "Your meeting is now on {when}.",
    "reschedule_none": "There's no other free time in the next two weeks, so your meeting stays on {when}.",
    "rescheduled": "Done: your meeting is moved to {when} ({zone}) with {agent}. A new confirmation is on its way.",
    "reschedule_failed": "I could not reach the calendar to move your meeting, so nothing changed. "
    "Please pick another time or try again later.",
    # the default invitation (bot.messages.email.DEFAULT_SUBJECT/DEFAULT_BODY): our tokens
    # ({{person.first_name | "there"}}), not {placeholders}; an agent's own text stays as written
    "invitation_subject_default": "Your meeting with {{agent.name}}",
    "invitation_body_default": 'Hi {{person.first_name | "there"}},\n\n'
    "thank you for booking a meeting. I look forward to learning more about "
    '{{company.name | "your team"}} and how we can help.\n\n'
    "Best regards,\n{{agent.name}}",
    # the confirmation e-mail's fixed parts
    "email_when": "When",
    "email_with": "With",
    "email_join": "Join",
    "email_code": "Booking code",
    "email_cancel": "Need to cancel?",
    "email_reschedule": "Need another time?",
    "email_moved_subject": "Moved: your meeting with {agent}, {when}",
    "email_moved_body": "Your meeting with {agent} has moved to {when}. It was on {was}.",
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
    "page_reschedule_title": "Move your meeting",
    "page_reschedule_intro": "Your meeting with {agent} is on {when}. Pick a new time:",
    "page_reschedule_same": "With {agent}",
    "page_reschedule_colleague": "With a colleague from the same team",
    "page_reschedule_button": "Move my meeting",
    "page_reschedule_later": "Later times",
    "page_reschedule_none": "There is no other free time in the next two weeks. Your meeting stays as it is.",
    "page_reschedule_taken": "Sorry, that time is not available any more. Please pick another one.",
    "page_rescheduled": "Done: your meeting is now on {when} with {agent}. We've sent you an e-mail.",
    "page_reschedule_failed": "Sorry, the meeting could not be moved right now. Nothing was changed; "
    "please try again in a few minutes.",
    # guests the visitor brings (the reschedule page's form, the guests' own e-mails)
    "email_invited_by": "Invited by",
    "page_guest_legend": "Bring a colleague",
    "page_guest_label": "Their e-mail address",
    "page_guest_button": "Invite",
    "page_guest_added": "Done: {email} is invited to the meeting.",
    "page_guest_already": "{email} is already invited.",
    "page_guest_invalid": "That doesn't look like an e-mail address. Please check it and try again.",
    "page_guest_agent": "That address is already on the meeting: it is yours or {agent}'s. "
    "Please enter your colleague's address.",
    "page_guest_too_many": "A meeting can have at most {limit} guests, so no one more can be added.",
    "page_guest_failed": "Sorry, your guest could not be invited right now. Nothing was changed; "
    "please try again in a few minutes.",
}


def template(key: str, lang: str = "en") -> str:
    """The text with its ``{placeholders}`` unfilled, in ``lang`` (English when untranslated)."""
    from bot.i18n.catalog import catalog

    return (catalog(lang).get(key) if lang != "en" else None) or TEXTS[key]


def say(key: str, lang: str = "en", **values: object) -> str:
    return template(key, lang).format(**values)
