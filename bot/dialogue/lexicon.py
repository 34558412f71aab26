"""Words that carry a visitor's intent, in our six languages, for decisions a classifier must not
make alone.

A classifier trained on a few hundred examples scores short unknown strings ("Ferrero", "Basta
Pasta", "Cancel Group") high on random intents. The intents that *start something* — stop the
booking, cancel or move a meeting — therefore need the words that say so; without them the
message is read as what else it can be (an answer to the form's question, a new booking).

Every function takes raw text and works on its folded form (lower case, no accents), because
visitors type without accents ("arrete", "nachste", "olvidalo").
"""

from __future__ import annotations

import re
from functools import cache

from bot.i18n.detect import fold

#: Phrases that stop a booking in progress. Matched as whole words.
STOP = [
    # en
    "stop", "cancel", "cancel it", "forget", "forget it", "forget about it", "never mind", "nevermind", "nvm",
    "no thanks", "no thank you", "not now", "quit", "abort", "exit", "leave it", "changed my mind",
    "dont want", "don't want", "do not want", "not interested", "not anymore", "maybe later", "later",
    # fr
    "arrete", "arretez", "arreter", "annule", "annulez", "annuler", "laisse tomber", "laissez tomber",
    "oublie", "oubliez", "oublie ca", "non merci", "pas maintenant", "plus tard", "change d'avis",
    "pas interesse", "pas interessee", "je ne veux plus", "ca ira",
    # de
    "stopp", "abbrechen", "abbruch", "brich ab", "vergiss es", "vergessen sie es", "vergiss das",
    "lass mal", "lassen wir das", "lass es", "nein danke", "nicht jetzt", "spater", "keine lust",
    "kein interesse", "doch nicht", "will nicht mehr",
    # es
    "para", "parar", "basta", "cancela", "cancelar", "cancelalo", "olvidalo", "olvidelo", "olvida",
    "dejalo", "dejemoslo", "dejalo asi", "no gracias", "ahora no", "mas tarde", "ya no",
    "cambie de opinion", "no me interesa",
    # pt
    "pare", "cancele", "esquece", "esqueca", "deixa", "deixa pra la", "deixa para la", "nao obrigado",
    "nao obrigada", "agora nao", "desisto", "mudei de ideia", "nao quero mais", "nao me interessa",
    # it
    "ferma", "fermati", "fermo", "annulla", "annullare", "lascia perdere", "lasciamo perdere",
    "lascia stare", "no grazie", "non ora", "piu tardi", "ho cambiato idea", "non mi interessa",
    "non voglio piu",
]

#: Words that may stand beside a stop phrase without changing it ("ok please just stop the booking").
FILLER = set(
    """
    ok okay oh ah hm hmm um uh please pls plz just actually sorry thanks thank you no nope nah
    don't dont continue go on anymore more ach nee na naja
    the a an it this that whole thing all everything booking meeting appointment demo call now
    i i'm im we let's lets can could you want to do please for me my our then so well right
    s'il te vous plait plait merci non bon ben alors tout le la les ca cela rendez-vous rdv reunion
    je tu on nous maintenant juste desole pardon c'est ce
    bitte danke nein ja also gut das es den die der alles termin buchung ich wir mal einfach jetzt
    sorry entschuldigung schon doch
    por favor gracias no si bueno pues todo lo la el esto eso cita reunion yo ahora solo perdon
    obrigado obrigada nao sim bom entao tudo isso isto o a reuniao marcacao eu agora so desculpa
    grazie no si bene allora tutto lo la il questo quello appuntamento riunione io ora adesso solo scusa
    per favore
    """.split()
)

#: Stems that say "cancel my meeting" (cancel_meeting needs one of them).
CANCEL = [
    "cancel", "call off", "calling off", "can't make it", "cant make it", "cannot make it", "won't make it",
    "wont make it", "delete my booking", "remove my booking", "drop the meeting",
    "annul", "decommand", "je ne pourrai pas", "je ne peux plus venir",
    "storn", "absag", "abzusagen", "sage ab", "sagen ab", "streich", "kann nicht kommen", "loschen",
    "anul", "no podre", "no puedo ir", "borrar",
    "desmarc", "nao vou poder", "nao posso ir", "apagar",
    "disdic", "disdir", "cancell", "non potro", "non posso venire",
]

#: Stems that say "move my meeting" (reschedule_meeting needs one of them).
MOVE = [
    "move", "moving", "reschedul", "resched", "push my", "repouss", "posticip", "troca", "trocar", "re-schedul", "rebook", "re-book", "postpone", "push it", "push back",
    "push the", "shift", "change the time", "change the date", "change my", "change it", "different time",
    "different day", "another time for", "earlier", "later time", "later date",
    "deplac", "decal", "report", "changer", "modifi", "une autre heure", "un autre jour", "avancer",
    "verschieb", "verleg", "umbuch", "umleg", "andern", "anderen termin", "andere zeit", "anderen tag",
    "spater legen", "fruher legen",
    "mover", "muev", "cambi", "reprogram", "aplaz", "pospon", "pasar la", "pasar mi", "otro dia", "otra hora",
    "remarc", "mudar", "mude", "alterar", "altera", "adiar", "adie", "reagend", "trocar", "passar para",
    "spost", "rimand", "rinvi", "riprogramm", "anticip", "altro giorno", "altro orario", "modificar",
]

#: A request for a (new) meeting: a meeting noun with a booking verb or a wish. A noun alone is
#: not one ("how long is the meeting?" asks about it), nor a verb alone ("book me a flight").
BOOK_VERBS = [
    "book", "schedul", "set up a", "arrange a", "reserv",
    "prendre rendez", "prendre un rendez", "prendre rdv", "planifier", "organiser un",
    "buchen", "vereinbar", "ausmachen",
    "agendar", "programar", "concertar",
    "marcar", "agendar",
    "prenot", "fissare", "organizzare",
]
WISH = [
    "i'd like", "i would like", "id like", "i want", "i wanna", "can i have", "can i get", "could i get",
    "could we have", "can we have", "looking for", "i need a", "we need a", "interested in a",
    "je voudrais", "j'aimerais", "je veux", "je souhaite", "on peut avoir", "je cherche",
    "ich hatte gern", "ich hatte gerne", "ich mochte", "ich will", "ich brauche", "wir brauchen", "gibt es einen",
    "quisiera", "quiero", "me gustaria", "necesito", "podemos tener", "busco",
    "gostaria", "queria", "quero", "preciso", "podemos ter",
    "vorrei", "voglio", "mi serve", "ho bisogno", "possiamo avere", "cerco",
]
MEETING = [
    "meeting", "demo", "appointment", "call", "slot", "another one",
    "rendez-vous", "rendez vous", "rdv", "reunion", "creneau", "appel", "demonstration",
    "termin", "treffen", "gesprach", "anruf", "vorfuhrung",
    "cita", "llamada", "demostracion", "hueco",
    "reuniao", "chamada", "demonstracao", "horario",
    "appuntamento", "riunione", "chiamata", "dimostrazione", "incontro",
]

#: Resuming after a stop: "ok actually let's do it now".
RESUME = [
    "let's do it", "lets do it", "let's go", "lets go", "go ahead", "let's book", "lets book", "do it now",
    "on y va", "allons-y", "allons y", "finalement", "faisons-le", "c'est parti", "on le fait",
    "los geht", "machen wir", "doch buchen", "lass uns", "dann doch",
    "vamos", "adelante", "hagamoslo", "hagamoslo ya", "venga",
    "bora", "vamos la", "vamos nessa", "pode ser agora",
    "procediamo", "andiamo", "facciamolo", "va bene facciamo", "dai",
]

#: "actually / sorry / oops / I meant": the visitor corrects something said before.
CORRECTION = [
    "actually", "sorry", "oops", "i meant", "wrong", "correction", "typo", "my bad", "not that",
    "en fait", "pardon", "desole", "oups", "je voulais dire", "erreur", "plutot",
    "eigentlich", "sorry", "entschuldigung", "hoppla", "ich meinte", "falsch", "korrektur", "vertippt",
    "en realidad", "perdon", "ups", "quise decir", "me equivoque", "equivocado", "corrijo",
    "na verdade", "desculpa", "desculpe", "opa", "quis dizer", "errado", "enganei",
    "in realta", "scusa", "scusate", "ops", "volevo dire", "sbagliato", "ho sbagliato", "correggo",
]


#: Days and clock times, enough to tell "the 15h one" from "the first one".
DAYS = [
    "today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "aujourd'hui", "demain", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "heute", "morgen", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
    "hoy", "manana", "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "hoje", "amanha", "segunda", "terca", "quarta", "quinta", "sexta",
    "oggi", "domani", "lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato",
]
_CLOCK = re.compile(r"\b\d{1,2}\s*(?:h\b|h\d{2}|:\d{2}|am\b|pm\b|uhr\b|hrs?\b)")


@cache
def _pattern(words: tuple[str, ...], whole: bool) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True))
    if whole:
        return re.compile(rf"(?<![\w@])(?:{alternatives})(?![\w@])")
    return re.compile(rf"(?<![\w@])(?:{alternatives})")


def _has(words: list[str], text: str, *, whole: bool = False) -> bool:
    return bool(_pattern(tuple(words), whole).search(fold(text)))


def says_cancel(text: str) -> bool:
    return _has(CANCEL, text)


def asks_to_cancel(text: str) -> bool:
    """A cancel word that is a request: with a meeting word ("cancela a reunião"), or with nothing
    but filler and days beside it ("cancel", "I can't make it tomorrow") — not a name that holds
    one ("Cancela Transportes")."""
    if not says_cancel(text):
        return False
    if _has(MEETING, text):
        return True
    folded = fold(text)
    rest = _pattern(tuple(CANCEL), False).sub(" ", folded)
    days = {fold(d) for d in DAYS}
    left = [w for w in _WORD.findall(rest) if w not in FILLER and w not in days and not w.isdigit()]
    return not left


def says_move(text: str) -> bool:
    return _has(MOVE, text)


def says_book(text: str) -> bool:
    return _has(MEETING, text) and (_has(BOOK_VERBS, text) or _has(WISH, text))


def says_time(text: str) -> bool:
    return bool(_CLOCK.search(fold(text))) or _has(DAYS, text, whole=True)


def says_resume(text: str) -> bool:
    return _has(RESUME, text, whole=True)


def says_correction(text: str) -> bool:
    return _has(CORRECTION, text, whole=True)


_WORD = re.compile(r"[\w'’-]+")


def is_explicit_stop(text: str) -> bool:
    """True when the message is a stop phrase and nothing else that matters: "stop", "no thanks,
    forget it", "please cancel the booking". A name that contains a stop word ("Basta Pasta",
    "Stop & Shop", "Ferrero") is not one: something besides the phrase and filler is left."""
    folded = fold(text)
    if not _pattern(tuple(STOP), True).search(folded):
        return False
    rest = _pattern(tuple(STOP), True).sub(" ", folded)
    left = [w for w in _WORD.findall(rest) if w not in FILLER]
    return not left
