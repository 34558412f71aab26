"""Form answers read as a person would: the name out of "je m'appelle Jean-Pierre", the e-mail
out of "sure, it's anna@acme.io thanks", and corrections ("oops wrong email, it's mark@…",
"sorry, my name is Marc") at any point of the conversation. Pure functions of the text."""

from __future__ import annotations

import re

from bot.dialogue.lexicon import says_correction
from bot.dialogue.visitor import clean_email, clean_first_name
from bot.i18n.detect import fold

_EMAIL = re.compile(r"[^\s<>()\[\],;:\"'@]+@[^\s<>()\[\],;:\"'@]+\.[^\s<>()\[\],;:\"'@]+")

#: "my name is" in our six languages (folded: no accents, lower case), longest first when used.
NAME_INTROS = [
    "my name is", "my name's", "my first name is", "name is", "the name is", "i'm", "im", "i am", "it's", "its",
    "this is", "call me", "you can call me",
    "je m'appelle", "je m’appelle", "mon nom est", "mon prenom est", "moi c'est", "c'est", "je suis",
    "ich heisse", "ich heiß", "ich heiße", "mein name ist", "mein vorname ist", "ich bin", "hier ist",
    "me llamo", "mi nombre es", "soy", "yo soy",
    "chamo-me", "me chamo", "meu nome e", "o meu nome e", "sou o", "sou a", "sou", "eu sou",
    "mi chiamo", "il mio nome e", "sono",
]
_LEADING = re.compile(
    r"^(?:(?:oh|oops|sorry|actually|ok|okay|well|hi|hello|hey|yes|yeah|sure|pardon|desole|en fait|"
    r"entschuldigung|eigentlich|perdon|en realidad|desculpa|na verdade|scusa|in realta|ciao|salut|"
    r"bonjour|hallo|hola|ola|oi)[\s,.!:;-]+)+"
)
#: Words that end a name ("Mark from Acme", "Katrin und ich…", "Lucía, gracias").
_NAME_END = set(
    "from at and with of for thanks thank please here de chez et avec merci von bei und mit danke bitte "
    "y con gracias e com obrigado obrigada da di ed grazie actually please sorry lol here "
    "en fait eigentlich en realidad na verdade in realta realta svp "
    "not nicht pas no nao non kein keine but aber mais pero".split()
)
#: A name ends at a clause break ("Jan, nicht Jens", "Marc; sorry").
_CLAUSE = re.compile(r"[,;:!?()]|\s[-–—]\s")
#: Words between "my name is" and the name ("ich heiße eigentlich Timo", "it's actually Marc").
_SKIP = set("actually really just eigentlich doch en fait plutot en realidad realmente na verdade in realta".split())
#: An answer made of words only (letters, spaces, hyphens, apostrophes, light punctuation):
#: anything else ("Jo <b>") is kept as written, and shown inert wherever it appears.
_PLAIN = re.compile(r"^[^\W\d_][\w\s'’.,!-]*$", re.UNICODE)
_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)


def find_email(text: str) -> str | None:
    """The first valid e-mail address written anywhere in ``text``."""
    for m in _EMAIL.finditer(text or ""):
        email = clean_email(m.group(0).rstrip(".!?"))
        if email:
            return email
    return None


#: Longest first name or company name taken from a chat answer; longer is not a name.
NAME_LIMIT = 80
_MARKUP = re.compile(r"<\s*/?\s*[a-z!?]|\{\{|\{%|\$\{|javascript:", re.I)
_URL = re.compile(r"\b(?:https?|ftp)://|\bwww\.", re.I)


def not_a_name(text: str) -> bool:
    """Whether a chat answer to "your first name?" / "your company?" is clearly not one: markup
    or template syntax, a URL, an e-mail address, or over ``NAME_LIMIT`` characters. ("Monday.com",
    "AT&T", "O'Brien" are names.)"""
    text = (text or "").strip()
    return len(text) > NAME_LIMIT or bool(_MARKUP.search(text) or _URL.search(text)) or find_email(text) is not None


def find_emails(text: str) -> list[str]:
    """Every valid e-mail address in ``text``, lower-cased, in order, each once."""
    out: list[str] = []
    for m in _EMAIL.finditer(text or ""):
        email = clean_email(m.group(0).rstrip(".!?,;"))
        if email and email.lower() not in out:
            out.append(email.lower())
    return out


_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Fa-f]{8,32}(?![0-9A-Za-z])")


def find_code(text: str) -> str | None:
    """The booking code in the visitor's text (8 to 32 hex digits, not inside an e-mail address)."""
    m = _CODE.search(re.sub(r"\S+@\S+", " ", text or ""))
    return m.group(0).lower() if m else None


def _after_intro(text: str) -> str | None:
    folded = fold(text)
    for intro in sorted(NAME_INTROS, key=len, reverse=True):
        m = re.search(rf"(?<![\w]){re.escape(fold(intro))}\s+", folded)
        if m:
            return text[m.end() :] if len(folded) == len(text) else folded[m.end() :]
    return None


def _name_words(rest: str) -> str | None:
    words: list[str] = []
    rest = _CLAUSE.split(rest.strip(), maxsplit=1)[0] or rest
    for w in _WORD.findall(rest):
        if not words and fold(w) in _SKIP:  # "ich heiße eigentlich Timo"
            continue
        if fold(w) in _NAME_END or len(words) == 3:
            break
        words.append(w.strip(".'’"))
    if not words:
        return None
    return clean_first_name(" ".join(words))


def read_name(text: str) -> str | None:
    """The first name in an answer to "what's your first name?": the answer itself, or what
    follows "my name is" in any of our languages."""
    text = (text or "").strip()
    if not text or "@" in text:
        return None
    if not _PLAIN.match(text):
        return clean_first_name(text)
    rest = _after_intro(text)
    if rest is not None:
        return _name_words(rest)
    stripped = _LEADING.sub("", fold(text))
    if stripped != fold(text):  # "oh sorry, Sam": drop the leading words, keep the spelling
        text = text[len(text) - len(stripped) :] if len(fold(text)) == len(text) else stripped
    return _name_words(text) or clean_first_name(text.strip(" .!,"))


def stated_name(text: str) -> str | None:
    """A name the visitor states or corrects outside the name question ("sorry, my name is Marc
    actually"): only with an explicit "my name is"-style phrase."""
    text = (text or "").strip()
    folded = fold(text)
    strong = ("name", "appelle", "heisse", "heiß", "llamo", "chamo", "chiamo", "nombre", "nome", "prenom", "vorname")
    if "@" in text or not any(k in folded for k in strong):
        return None
    rest = _after_intro(text)
    return _name_words(rest) if rest is not None else None


def corrected_email(text: str, current: str | None) -> str | None:
    """A new e-mail address the visitor gives to replace ``current`` ("oops wrong email, it's
    mark@acme.com", "actually use anna@acme.io"): an address other than the current one, with a
    correction or an "e-mail" word beside it."""
    email = find_email(text)
    if email is None or (current and email.lower() == current.lower()):
        return None
    folded = fold(text)
    if says_correction(text) or any(k in folded for k in ("mail", "adress", "address", "courriel", "correo")):
        return email
    return None
