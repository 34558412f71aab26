"""The intent guard's words: colloquial cancel, move and stop phrases in our six languages, their
typos, and what must not be read as one (names, questions, bookings, small talk)."""

from __future__ import annotations

import time

import pytest

from bot.dialogue.lexicon import (
    NOT_TYPOS,
    asks_to_cancel,
    is_explicit_stop,
    says_book,
    says_cancel,
    says_move,
)


def _cases(by_language: dict[str, list[str]]) -> list:
    return [pytest.param(text, id=f"{lang}:{text}") for lang, texts in by_language.items() for text in texts]


CANCELS = {
    "en": [
        "cancel my meeting",
        "drop the demo I booked",
        "please scrap our meeting on friday",
        "can you ditch my 3pm call",
        "nix the call tomorrow",
        "kill the meeting we booked",
        "wipe my appointment pls",
        "call off the meeting",
        "call the demo off",
        "get rid of my booking",
        "take my appointment off the calendar",
        "our demo is off, please remove it",
        "unbook my slot",
        "I need to cancel",
        "scrap it",
        "I won't be able to make it, please cancel",
        "cancle my meeting",
        "cancell the call",
        "cnacel the demo",
        "canxel my appointment",
        "cancel my meetng",
        "hi, cancel my 2pm pls",
    ],
    "fr": [
        "annule mon rdv",
        "annulez-le svp",
        "annnuler le rendez-vous",
        "anuller mon rdv",
        "je veux décommander mon rendez-vous",
        "décommande la réunion de jeudi",
        "supprime mon rdv de jeudi",
        "supprimez la réunion svp",
        "efface mon rendez vous",
        "zappe le rdv de demain",
        "vire la réunion de lundi",
        "je me désiste pour le rendez-vous de mardi",
        "je pourrai pas venir, annulez",
        "je dois annuler",
    ],
    "de": [
        "Termin absagen",
        "ich muss den Termin leider absagen",
        "sag das Meeting ab",
        "sagen Sie bitte unseren Termin am Freitag ab",
        "bitte den Termin streichen",
        "termin canceln",
        "Buchung stornieren",
        "bitte den termin stonieren",
        "termin absgen",
        "den Termin löschen",
        "der Termin fällt aus",
        "den Call bitte rausnehmen",
        "entferne meinen Termin",
        "ich brauche den gebuchten Termin nicht mehr",
    ],
    "es": [
        "cancela mi cita",
        "cancelr la reunion",
        "kancelar mi reunion",
        "canselar la llamada",
        "anula la reunión del jueves",
        "quita mi cita del martes",
        "borra la reunión que agendé",
        "bórrala porfa",
        "elimina mi reserva",
        "quiero anular mi cita",
        "ya no voy a poder ir, cancélala",
        "dale de baja a mi cita",
        "ya no necesito la reunión",
    ],
    "pt": [
        "desmarcar a reunião",
        "desmarca minha call",
        "cancela a reuniao de amanha",
        "tira a minha reunião de quinta",
        "apaga a reunião que marquei",
        "remove meu agendamento",
        "exclui a reunião",
        "quero desmarcar",
        "cancelr minha reuniao",
        "não vou poder ir, cancela por favor",
        "tira da agenda a demo de terça",
    ],
    "it": [
        "disdire l'appuntamento",
        "didire l'appuntamento",
        "annulla la riunione",
        "annnulla l'incontro",
        "annulare la riunione",
        "cancella la mia prenotazione",
        "togli la call di domani",
        "elimina il mio appuntamento",
        "toglila per favore",
        "disdico l'appuntamento di lunedì",
        "non riesco a venire, annullate per favore",
        "far saltare la call di domani",
    ],
}

MOVES = {
    "en": [
        "can we move the call to friday",
        "can we move?",
        "move it to 4pm",
        "switch my appointment to tuesday",
        "bump it to 3pm",
        "bump our call to next week",
        "swap to another day",
        "can we do it another day",
        "push our meeting back an hour",
        "bring the meeting forward",
        "delay our call by a day",
        "I need to postpone our meeting",
        "postponing the demo would help",
        "rebook my call for another time",
        "change the date of my meeting",
        "reschdule my demo",
        "reschedual the call",
        "reshedule appointment pls",
        "my meeting needs to be moved",
    ],
    "fr": [
        "décaler mon rdv",
        "reporter la réunion",
        "on peut reporter ?",
        "je voudrais déplacer mon rendez-vous",
        "resceduler le call",
        "bouger le rdv à jeudi",
        "avance la réunion",
        "repousser notre appel",
        "décalé la réunion stp",
        "changer l'heure du rdv",
        "reprogrammer l'appel",
        "un autre jour svp",
        "deplaer mon rdv",
    ],
    "de": [
        "Termin verschieben",
        "verschiben bitte",
        "können wir den Call verlegen",
        "Termin umlegen",
        "den Termin nach hinten schieben",
        "können wir das Meeting vorziehen",
        "geht der Termin auch einen Tag später?",
        "ich möchte umbuchen",
        "den Termin auf Freitag legen",
        "schieb den Termin auf morgen",
        "Termin umplanen",
    ],
    "es": [
        "mover mi cita",
        "cambiar la hora de la reunión",
        "pasar la reunión a otro día",
        "reprogramar la llamada",
        "aplazar la cita",
        "podemos posponer la demo",
        "retrasa la reunión una hora",
        "adelantar la llamada",
        "reprogamar mi reunion",
        "correr la reunión una hora",
        "¿movemos la llamada?",
        "pasa la cita al viernes",
    ],
    "pt": [
        "remarcar a reunião",
        "adiar a call",
        "passar para outro dia",
        "mudar o horário",
        "reagendar a demo",
        "trocar o dia da reunião",
        "dá pra antecipar a call?",
        "empurra a reunião pra tarde",
        "adia minha reunião",
        "remacar minha reuniao",
        "a reunião pode ser movida para amanhã?",
        "joga a reunião pra sexta",
    ],
    "it": [
        "spostare l'appuntamento",
        "sposta la call a giovedì",
        "rimandare la riunione",
        "posticipare l'incontro",
        "anticipare la call",
        "spsotare la demo",
        "rinviare l'appuntamento",
        "riprogrammare la call",
        "possiamo fare un altro giorno?",
        "far slittare la riunione",
        "possiamo posticpare?",
    ],
}

STOPS = {
    "en": [
        "stop",
        "stoooop",
        "forget the whole thing",
        "never mind",
        "nevrmind",
        "no thanks, forget it",
        "scrap that",
        "let's drop it",
        "cancle that",
        "I'd like to stop this conversation",
        "enough",
        "call it off",
        "ok i give up",
    ],
    "fr": [
        "laisse béton",
        "laisse tomber",
        "arrête",
        "arrete stp",
        "on arrête là",
        "ça suffit",
        "oublie ça",
        "j'ai changé d'avis",
        "annule tout",
        "stop, laisse tomber",
        "arrêtez tout svp",
    ],
    "de": [
        "vergiss es",
        "hör auf",
        "abbrechen",
        "abbrechn",
        "lass gut sein",
        "schluss jetzt",
        "ich hab es mir anders überlegt",
        "ich will abbrechen",
        "egal, vergiss es",
    ],
    "es": [
        "olvídalo",
        "déjalo",
        "para ya",
        "basta",
        "ya no quiero",
        "detente",
        "no quiero seguir",
        "cansela eso",
        "olvidalo, no sigas",
    ],
    "pt": [
        "esquece",
        "deixa pra lá",
        "chega",
        "para com isso",
        "desisto",
        "quero parar",
        "mudei de ideia",
        "não quero continuar",
        "esquece isso",
    ],
    "it": [
        "lascia stare",
        "lascia perdere",
        "basta così",
        "fermati",
        "annulla tutto",
        "ci ho ripensato",
        "non importa",
        "lasciamo perdere dai",
        "annnulla",
    ],
}

#: Company and person names given as answers to the form: never a cancel, a move or a stop.
NAMES = [
    "Drop Box Ltd",
    "Cancela Transportes",
    "Basta Pasta",
    "Stop & Shop",
    "Ferrero",
    "Spostamenti Rapidi SpA",
    "Move Logistics",
    "Moving Pictures Inc",
    "Kill Bill Productions",
    "Cancelleria Rossi",
    "Candela Ruiz",
    "Canela Santos",
    "Report Media Ltd",
    "Avance Consulting",
    "Passe Partout",
    "Borras Hermanos",
    "Olivia Cancel",
    "Paolo Fermi",
    "Pare Silva",
    "Annuel Group",
    "Storto Srl",
    "Swap Finance",
    "Bump Studios",
    "Push Digital",
]

#: Questions about a meeting, requests for one and small talk: none changes a booking.
OTHERS = [
    "how long is the meeting?",
    "who will I meet?",
    "is it on Teams?",
    "c'est avec qui ?",
    "wie lange dauert das?",
    "what's the agenda of the call?",
    "do I need to prepare anything for the demo?",
    "¿cuánto dura la reunión?",
    "quanto dura la riunione?",
    "a reunião é online?",
    "can I bring a colleague to the meeting?",
    "will you send me the link?",
    "I'd like to book a demo",
    "book another meeting",
    "je voudrais un rdv mardi",
    "ich möchte einen Termin buchen",
    "quiero agendar una reunión",
    "gostaria de marcar uma reunião",
    "vorrei prenotare una call",
    "can I get a call next week?",
    "I want to schedule a demo for my team",
    "hi",
    "hello there",
    "thanks!",
    "how are you?",
    "what's the weather like?",
    "tell me a joke",
    "drop me a line at mark@acme.com",
    "merci beaucoup",
    "merci d'avance",
    "danke schön",
    "gracias",
    "obrigado antecipadamente",
    "grazie in anticipo",
    "ok",
    "sounds good",
    "I forgot my password",
    "sorry for the delay",
    "no change",
    "ça passe",
    "qué pasa",
    "lo que pasa es que tengo prisa",
    "I'm moving to Berlin next month",
    "please send me a report",
    "necesito el reporte de ventas",
    "ich habe eine andere Frage",
    "anders gesagt, wie viel kostet das?",
    "c'est annuel ?",
    "j'ai oublié le rdv, c'était quand ?",
    "tirar uma dúvida sobre a reunião",
    "can you switch to french?",
    "is there a charger in the meeting room?",
    "what changes in the new version?",
    "the candle shop",
    "sí, pueden pasar mis datos al equipo",
    "pode passar meus dados para a equipe",
]


@pytest.mark.parametrize("text", _cases(CANCELS))
def test_cancel_words(text):
    assert says_cancel(text)
    assert asks_to_cancel(text)


@pytest.mark.parametrize("text", _cases(MOVES))
def test_move_words(text):
    assert says_move(text)


@pytest.mark.parametrize("text", _cases(STOPS))
def test_stop_phrases(text):
    assert is_explicit_stop(text)


@pytest.mark.parametrize("text", NAMES)
def test_names_are_no_cancel_move_or_stop(text):
    assert not asks_to_cancel(text)
    assert not says_move(text)
    assert not is_explicit_stop(text)


@pytest.mark.parametrize("text", OTHERS)
def test_questions_bookings_and_small_talk_change_nothing(text):
    assert not says_cancel(text)
    assert not asks_to_cancel(text)
    assert not says_move(text)
    assert not is_explicit_stop(text)


@pytest.mark.parametrize(
    "text",
    ["I'd like to book a demo", "book another meeting", "je voudrais un rdv mardi", "vorrei prenotare una call"],
)
def test_booking_requests_stay_bookings(text):
    assert says_book(text)


@pytest.mark.parametrize(
    "text",
    [
        "canxl my meeting",  # five letters: no typo
        "cancer",  # a real word one edit from "cancel"
        "annuel",  # ... from "annule"
        "publie",  # ... from "oublie"
        "forgot",  # ... from "forget"
        "changes",  # ... from "changer"
        "can cel my meeting",  # never across words
        "re schedule the call",
        "resch",  # listed stems of five letters are matched exactly only
    ],
)
def test_what_is_no_typo(text):
    assert not says_cancel(text)
    assert not says_move(text)
    assert not is_explicit_stop(text)


def test_exclusions_are_folded_words():
    assert all(w.isalpha() and w == w.lower() for w in NOT_TYPOS)


def test_the_guard_is_fast():
    texts = [f"hi, I would like to book a demo next tuesday afternoon, option {i}" for i in range(300)]
    start = time.perf_counter()
    for text in texts:
        says_cancel(text), asks_to_cancel(text), says_move(text), is_explicit_stop(text)
    assert (time.perf_counter() - start) / len(texts) < 0.005
