"""bot.dialogue.questions: which question about the meeting a message asks, by its words."""

from __future__ import annotations

import pytest

from bot.dialogue.questions import PRIORITY, TOPICS, asks, is_question, topic

#: Questions, per language: (text, topic). Typed as visitors type: lower case, no accents, typos.
QUESTIONS = {
    "en": [
        ("who will i be talking to?", "who"),
        ("whos on the call from your side", "who"),
        ("who is the meeting with?", "who"),
        ("who wil i meet", "who"),
        ("am i meeting with sales or an engineer?", "who"),
        ("whos gonna be on teh call?", "who"),
        ("how long does it take?", "length"),
        ("how many minutes is the call", "length"),
        ("is it 30 min or an hour?", "length"),
        ("hw long is the meting", "length"),
        ("how lnog is the call?", "length"),
        ("hwo long will it take", "length"),
        ("is it on zooom?", "medium"),
        ("zoom or teams?", "medium"),
        ("is it a video call or a phone call?", "medium"),
        ("do i need to install anything?", "medium"),
        ("is it on teams or zom?", "medium"),
        ("do i need to instal anything?", "medium"),
        ("what time is that in london?", "zone"),
        ("what time would that be in new york", "zone"),
        ("which time zone are these in?", "zone"),
        ("what happens next?", "next"),
        ("will i get an invite?", "next"),
        ("will you send me a confirmation email", "next"),
        ("how do i join the call?", "next"),
        ("can i change it later if needed?", "next"),
        ("will i get an invitaton?", "next"),
        ("can i bring a colleague?", "guest"),
        ("can my cto join?", "guest"),
        ("can i bring a coleague?", "guest"),
        ("can i brng my colleage", "guest"),
        ("how much does it cost?", "price"),
        ("what's the pricing for the pro plan", "price"),
        ("do you offer discounts?", "price"),
        ("how much does it cots?", "price"),
        ("whats the prcing?", "price"),
        ("i cant log in to my account, help?", "support"),
        ("my last invoice looks wrong?", "support"),
        ("can you help, i found a bug", "support"),
        ("i cant acess my acount?", "support"),
        ("my invocie is wrong, help?", "support"),
        ("what does your product do?", "product"),
        ("does it integrate with hubspot?", "product"),
        ("do you support saml sso?", "product"),
        ("does it integrat with hubspot?", "product"),
    ],
    "fr": [
        ("c'est avec qui ?", "who"),
        ("cest avec qui la demo", "who"),
        ("qui je vais rencontrer demain ?", "who"),
        ("qui sera mon interlocuteur ?", "who"),
        ("avec qi je vais parler ?", "who"),
        ("combien de temps dure le rdv ?", "length"),
        ("ca dure combien de temps", "length"),
        ("combien de tmps ca prend", "length"),
        ("combien de tmps dure la reunion", "length"),
        ("cobien de temps ca dure ?", "length"),
        ("c'est sur zoom la reunion ?", "medium"),
        ("c'est en visio ou au telephone ?", "medium"),
        ("faut il installer quelque chose ?", "medium"),
        ("c'est sur zomm ?", "medium"),
        ("est-ce que c'est sur teams", "medium"),
        ("c'est quelle heure a new york ?", "zone"),
        ("quelle heure ca fait a montreal ?", "zone"),
        ("c'est dans quel fuseau horaire ?", "zone"),
        ("et apres ?", "next"),
        ("je vais recevoir une invitation ?", "next"),
        ("comment je me connecte ?", "next"),
        ("mon collegue peut venir ?", "guest"),
        ("je peux inviter mon associe ?", "guest"),
        ("combien ca coute ?", "price"),
        ("c'est combien par mois ?", "price"),
        ("je n'arrive pas a me connecter, vous pouvez m'aider ?", "support"),
        ("j'ai un bug sur le tableau de bord, vous pouvez regarder ?", "support"),
        ("votre logiciel fait quoi au juste ?", "product"),
        ("ca s'integre avec salesforce ?", "product"),
    ],
    "de": [
        ("mit wem spreche ich?", "who"),
        ("wer ist beim gesprach dabei?", "who"),
        ("wer wird mein ansprechpartner?", "who"),
        ("mit wen spreche ich?", "who"),
        ("wie lange dauert der termin?", "length"),
        ("wie lang dauert das", "length"),
        ("dauert das lange?", "length"),
        ("wie lnage dauert das?", "length"),
        ("wie lange dauret der termin", "length"),
        ("per telefon oder video?", "medium"),
        ("ist das uber zoom?", "medium"),
        ("muss ich was installieren?", "medium"),
        ("wie spat ist das in berlin?", "zone"),
        ("welche zeitzone ist das?", "zone"),
        ("bekomme ich eine einladung?", "next"),
        ("was passiert jetzt?", "next"),
        ("wie geht es weiter?", "next"),
        ("bekomme ich eine einladnug?", "next"),
        ("kann ich einen kollegen mitbringen?", "guest"),
        ("darf meine chefin dabei sein?", "guest"),
        ("kann ich meinen kolegen mitbringen?", "guest"),
        ("wie viel kostet das?", "price"),
        ("was kostet eine lizenz?", "price"),
        ("wie viel kosstet das?", "price"),
        ("meine rechnung ist falsch, was tun?", "support"),
        ("ich komme nicht in mein konto rein, konnt ihr helfen?", "support"),
        ("was macht eure software eigentlich?", "product"),
        ("gibt es eine schnittstelle zu sap?", "product"),
    ],
    "es": [
        ("con quien voy a hablar?", "who"),
        ("quien me va a atender?", "who"),
        ("quien estara en la llamada?", "who"),
        ("con qien hablo?", "who"),
        ("cuanto dura la llamada?", "length"),
        ("cuanto tiempo dura", "length"),
        ("la reunion dura mucho?", "length"),
        ("cuanto dura la reunion", "length"),
        ("cuato dura la llamada?", "length"),
        ("es por zoom la llamada", "medium"),
        ("la llamada es por telefono o videollamada?", "medium"),
        ("tengo que instalar algo?", "medium"),
        ("que hora es eso en mexico?", "zone"),
        ("que hora seria en bogota?", "zone"),
        ("me llega un correo?", "next"),
        ("y despues que pasa?", "next"),
        ("voy a recibir una invitacion?", "next"),
        ("me llega una invitacon?", "next"),
        ("puedo invitar a un companero?", "guest"),
        ("mi jefe puede unirse?", "guest"),
        ("puedo invitar a un compañro?", "guest"),
        ("cuanto cuesta al año?", "price"),
        ("tienen descuento para startups?", "price"),
        ("cuanto cuseta?", "price"),
        ("no puedo entrar a mi cuenta, me echan una mano?", "support"),
        ("que hace su producto?", "product"),
        ("se integra con slack?", "product"),
    ],
    "pt": [
        ("com quem vou falar amanha?", "who"),
        ("quem vai fazer a demo?", "who"),
        ("com quem e a reuniao", "who"),
        ("com quen vou falar?", "who"),
        ("quanto tempo demora?", "length"),
        ("quanto dura a chamada", "length"),
        ("quanto tempo dura", "length"),
        ("qanto tempo dura?", "length"),
        ("quanto tmpo dura?", "length"),
        ("e pelo teams a chamada", "medium"),
        ("e por videochamada?", "medium"),
        ("preciso instalar alguma coisa?", "medium"),
        ("que horas sao em lisboa?", "zone"),
        ("isso e horario de brasilia?", "zone"),
        ("vou receber um convite?", "next"),
        ("e depois?", "next"),
        ("o que acontece agora?", "next"),
        ("posso levar um colega?", "guest"),
        ("meu socio pode participar?", "guest"),
        ("quanto custa o plano?", "price"),
        ("quanto csuta?", "price"),
        ("nao consigo acessar a minha conta, podem ajudar?", "support"),
        ("a fatura veio com erro, quem resolve?", "support"),
        ("o que o produto de voces faz mesmo?", "product"),
        ("integra com o pipedrive?", "product"),
    ],
    "it": [
        ("con chi parlero durante la call?", "who"),
        ("chi ci sara alla call?", "who"),
        ("chi e il mio referente?", "who"),
        ("quanto tempo dura", "length"),
        ("quanto dura l'incontro", "length"),
        ("quanto dura la call?", "length"),
        ("la riunione dura molto?", "length"),
        ("quanto drua l'incontro?", "length"),
        ("qunato dura?", "length"),
        ("e su meet", "medium"),
        ("si fa su teams o zoom?", "medium"),
        ("e di persona o online?", "medium"),
        ("che ore sono a sydney?", "zone"),
        ("che ora e a londra?", "zone"),
        ("e ora italiana?", "zone"),
        ("mi arriva un invito?", "next"),
        ("e poi?", "next"),
        ("cosa succede dopo?", "next"),
        ("posso invitare un collega?", "guest"),
        ("il mio capo puo partecipare?", "guest"),
        ("posso invitare una colega?", "guest"),
        ("quanto costa?", "price"),
        ("c'e uno sconto annuale?", "price"),
        ("quanto cosat?", "price"),
        ("non riesco ad accedere, mi aiutate?", "support"),
        ("cosa fa il vostro software?", "product"),
        ("si integra con hubspot?", "product"),
    ],
}

#: Not shaped as questions: the topic is there, but asks() waits for a question.
STATEMENTS = [
    ("add my colleague", "guest"),
    ("my boss will join too", "guest"),
    ("j'ai un probleme avec mon compte", "support"),
    ("ich kann mich nicht einloggen", "support"),
    ("tengo un problema con la factura", "support"),
    ("ho un problema con l'ultima fattura", "support"),
    ("preciso de ajuda com a fatura", "support"),
]

#: An e-mail address with a guest word adds a guest, question or not.
GUEST_MAILS = [
    "add my colleague bob@x.com",
    "please invite anna.berg@acme.io as well",
    "mon collegue : paul@exemple.fr",
    "bitte meinen kollegen einladen: jan@firma.de",
    "agrega a mi companera lucia@empresa.es",
    "convida tambem o joao@empresa.com.br",
    "aggiungi il mio collega marco@azienda.it",
]

#: Names, answers to the form's questions and requests that start something: no topic, no question.
NOT_QUESTIONS = [
    "Zoom Video",
    "Teams GmbH",
    "Price Waterhouse",
    "Quanto Srl",
    "Who Cares Ltd",
    "Meet & Eat",
    "Chi Wang",
    "Como Digital",
    "Costa Crociere",
    "Quem Somos Lda",
    "Anna Schmidt",
    "bob@x.com",
    "my email is bob@x.com",
    "I'm in Tokyo",
    "je suis a Montreal",
    "ich bin in Wien",
    "estoy en Madrid",
    "estou em Lisboa",
    "sono a Roma",
    "show times in CET",
    "i'd like to book a demo",
    "cancel my meeting",
    "please cancel the demo tomorrow",
    "reschedule please",
    "je voudrais prendre rendez-vous",
    "annuler le rendez-vous",
    "termin absagen",
    "cancela la cita",
    "desmarcar a reuniao",
    "annulla l'appuntamento",
    "ok thanks",
    "thursday at 2 works",
]

#: Questions that are no topic of ours: times, bookings, moves, booking requests naming a medium.
NO_TOPIC = [
    "tuesday afternoon?",
    "mardi apres-midi ?",
    "dienstag nachmittag?",
    "martes por la tarde?",
    "terca a tarde?",
    "martedi pomeriggio?",
    "what times do you have tomorrow?",
    "what time works for you in the afternoon?",
    "quels creneaux demain ?",
    "welche zeiten habt ihr morgen?",
    "que horarios tienen manana?",
    "quais horarios voces tem amanha?",
    "quali orari avete domani?",
    "can I move it to friday?",
    "can we move the call to thursday?",
    "on peut decaler a jeudi ?",
    "konnen wir den termin verschieben?",
    "podemos pasar la reunion al viernes?",
    "da pra remarcar pra sexta?",
    "possiamo spostare la call a giovedi?",
    "can I book a meeting?",
    "can we jump on a zoom call?",
    "can I speak to someone in sales?",
    "how about next week?",
    "is monday at 11 free?",
    "do you support german?",
    "pode cancelar a videochamada?",
]

#: Several topics in one message: the first of PRIORITY.
PRIORITY_CASES = [
    ("ok and who will i meet? also can my cto join", "guest"),
    ("what time is that in london, and who will i meet?", "zone"),
    ("who will i meet and how long is it?", "who"),
    ("how long is it and is it on zoom?", "length"),
    ("is it on zoom? and will i get an invite?", "medium"),
    ("will i get an invite, and how much does it cost?", "next"),
    ("how much does it cost? also i have a problem with my invoice", "price"),
    ("i cant log in, does it integrate with slack?", "support"),
    ("how much time do i need?", "length"),
    ("combien de temps ca dure et c'est combien ?", "length"),
    ("mit wem spreche ich und kann mein kollege mitkommen?", "guest"),
    ("cuanto cuesta y con quien hablo?", "who"),
    ("quanto custa e e pelo zoom?", "medium"),
    ("quanto costa e quanto dura?", "length"),
]

IS_QUESTION = [
    ("how long is it", True),
    ("who will i meet there", True),
    ("is it on zoom or meet", True),
    ("do i need a camera", True),
    ("ok, and is it free", True),
    ("combien ca coute", True),
    ("c'est avec qui", True),
    ("est-ce que c'est enregistre", True),
    ("je vais parler avec qui", True),
    ("wie lange dauert das", True),
    ("wer ist dabei", True),
    ("ist das online", True),
    ("cuanto dura", True),
    ("quien me llama", True),
    ("es por teams", True),
    ("quanto dura", True),
    ("quem vai estar", True),
    ("e pelo zoom", True),
    ("chi ci sara", True),
    ("e su zoom o teams", True),
    ("tuesday?", True),
    ("¿y eso?", True),
    ("ok？", True),
    ("Zoom Video", False),
    ("Teams GmbH", False),
    ("Price Waterhouse", False),
    ("Quanto Srl", False),
    ("Who Cares Ltd", False),
    ("Meet & Eat", False),
    ("I'm in Tokyo", False),
    ("anna@acme.com", False),
    ("book a demo please", False),
    ("my boss will join too", False),
]


def _cases():
    for lang, cases in QUESTIONS.items():
        for text, want in cases:
            yield pytest.param(text, want, id=f"{lang}:{text}")


def test_each_language_and_topic_has_cases():
    for lang, cases in QUESTIONS.items():
        assert len(cases) >= 12, lang
    for name in TOPICS:
        assert sum(want == name for cases in QUESTIONS.values() for _, want in cases) >= 12, name


def test_topics_and_priority():
    assert set(PRIORITY) == set(TOPICS)
    assert PRIORITY == ("guest", "zone", "who", "length", "medium", "next", "price", "support", "product")


@pytest.mark.parametrize("text, want", list(_cases()))
def test_question_topic(text, want):
    assert topic(text) == want
    assert is_question(text)
    assert asks(text) == want


@pytest.mark.parametrize("text, want", STATEMENTS)
def test_statements_have_a_topic_but_ask_nothing(text, want):
    assert topic(text) == want
    assert not is_question(text)
    assert asks(text) is None


@pytest.mark.parametrize("text", GUEST_MAILS)
def test_an_address_with_a_guest_word_adds_a_guest(text):
    assert asks(text) == "guest"


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_names_answers_and_requests_are_no_question(text):
    assert not is_question(text)
    assert topic(text) is None
    assert asks(text) is None


@pytest.mark.parametrize("text", NO_TOPIC)
def test_questions_that_are_no_topic(text):
    assert topic(text) is None
    assert asks(text) is None


@pytest.mark.parametrize("text, want", PRIORITY_CASES)
def test_priority(text, want):
    assert asks(text) == want


@pytest.mark.parametrize("text, want", IS_QUESTION)
def test_is_question(text, want):
    assert is_question(text) is want


@pytest.mark.parametrize(
    "text", ["how do I cancel?", "how do i reschedule?", "comment j'annule ?", "wie sage ich ab?", "como cancelo?"]
)
def test_how_to_cancel_is_at_most_next(text):
    assert asks(text) in (None, "next")


@pytest.mark.parametrize("text", ["", "   ", "?", "…", "12345", "https://acme.com/pricing?x=1"])
def test_odd_inputs(text):
    assert asks(text) in (None, *TOPICS)
    assert topic(text) in (None, *TOPICS)
