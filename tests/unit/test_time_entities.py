"""The NLU component TimeEntities: the entity `time` from Duckling in-process, and the actions'
use of it — only when it was read in the zone, language and minute the words are meant in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.understanding import heard
from bot.rasa_ext.time_entities import TimeEntities, time_entity

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # a Tuesday
LONDON = {"timezone": "Europe/London", "locale": "en_GB"}


def test_a_time_in_a_message_is_an_entity_with_its_span_and_how_it_was_read():
    text = "hi, can I book a demo next Tuesday afternoon? my email is jo@acme.example"
    e = time_entity(text, LONDON, NOW)
    assert e is not None and e["entity"] == "time" and e["extractor"] == "TimeEntities"
    assert text[e["start"] : e["end"]] == "next Tuesday afternoon"
    assert e["value"]["first"] == "2026-12-08" and (e["value"]["lo"], e["value"]["hi"]) == (12 * 60, 18 * 60)
    assert e["additional_info"] == {"timezone": "Europe/London", "lang": "en", "reference": NOW.isoformat()}


def test_other_languages_and_bounds():
    e = time_entity("Hallo, ich hätte gern einen Termin am Freitag gegen 14 Uhr", {"timezone": "Europe/Berlin"}, NOW)
    assert e["additional_info"]["lang"] == "de" and e["value"]["first"] == "2026-12-04" and e["value"]["at"] == 14 * 60
    e = time_entity("jeudi, pas avant 9h svp", {"timezone": "Europe/Paris", "locale": "fr_FR"}, NOW)
    assert e["value"]["first"] == "2026-12-03" and e["value"]["lo"] == 9 * 60 and e["value"]["bound"] is True


def test_no_time_no_entity():
    for text in ("hello", "Ferrero", "jo@acme2026.example", '/choose_slot{"slot_id":"abc"}', "", "the first one"):
        assert time_entity(text, LONDON, NOW) is None, text


def test_bad_metadata_reads_in_utc():
    e = time_entity("tomorrow at 10am", {"timezone": "Mars/Olympus"}, NOW)
    assert e["additional_info"]["timezone"] == "UTC" and e["value"]["at"] == 10 * 60
    assert time_entity("tomorrow at 10am", "not a dict", NOW)["additional_info"]["timezone"] == "UTC"


def test_the_component_adds_the_entity_beside_others():
    msg = Message(data={TEXT: "thursday at 3pm please", "metadata": LONDON, ENTITIES: [{"entity": "slot_id", "value": "x"}]})
    out = TimeEntities().process([msg])[0]
    assert [e["entity"] for e in out.get(ENTITIES)] == ["slot_id", "time"]
    assert TimeEntities().process([Message(data={TEXT: "hello", "metadata": LONDON})])[0].get(ENTITIES) in (None, [])


def test_the_actions_use_the_entity_only_when_it_was_read_as_they_would_read_it():
    london = ZoneInfo("Europe/London")
    e = time_entity("thursday at 3pm please", LONDON, NOW)
    e["value"] = {**e["value"], "at": 16 * 60}  # marked: proves which reading was used
    assert heard("thursday at 3pm please", "en", london, NOW, entity=e).pref.at == 16 * 60
    # another zone (a stated one beats the metadata), another language, another time: read again
    assert heard("thursday at 3pm please", "en", ZoneInfo("America/Chicago"), NOW, entity=e).pref.at == 15 * 60
    in_french = heard("thursday at 3pm please", "fr", london, NOW, entity=e).pref
    assert in_french is None or in_french.at != 16 * 60
    assert heard("thursday at 3pm please", "en", london, NOW + timedelta(days=1), entity=e).pref.at == 15 * 60
    # "I'm in Chicago, thursday at 3pm": the words mean Chicago's 3pm, not the metadata's
    said = heard("I'm in Chicago, thursday at 3pm", "en", london, NOW, entity=time_entity("I'm in Chicago, thursday at 3pm", LONDON, NOW))
    assert said.zone.key == "America/Chicago" and said.pref.at == 15 * 60
    # a form answer is an answer, whatever the NLU read in it
    assert heard("April", "en", london, NOW, answering="first_name", entity=time_entity("April", LONDON, NOW)).pref is None
    # a forged entity is not trusted blindly: no reference, no use
    forged = {"entity": "time", "value": {"first": "2027-01-01"}, "additional_info": {"timezone": "Europe/London", "lang": "en"}}
    assert heard("thursday at 3pm please", "en", london, NOW, entity=forged).pref.first.isoformat() == "2026-12-03"
