"""Which question a visitor asks about the meeting, by its words, in our six languages.

Visitors ask before, during and after booking: "how long is the meeting?", "c'est avec qui ?",
"bekomme ich eine Einladung?", "¿puedo invitar a un compañero?". Read as anything else, such a
question starts a cancel or becomes the answer to the form's question ("c'est avec qui ?" taken
for the e-mail address); these functions tell which question it is:

- ``topic(text)``: the topic the message asks about (one of ``TOPICS``), or None;
- ``is_question(text)``: the message is shaped as a question — a "?" ("？", "¿…?"), or a clause
  that starts with a question word or an inversion ("how long", "who will", "is it", "do i",
  "combien", "est-ce", "wie lange", "ist das", "cuanto", "es por", "quanto", "e pelo", "chi",
  "e su"...);
- ``asks(text)``: ``topic(text)`` when the message is a question — or, for "guest", when an
  e-mail address is given with a guest word ("add my colleague bob@x.com") — else None.

Each topic has two kinds of evidence, matched in the folded text (lower case, no accents,
apostrophes and hyphens as spaces, a letter typed three times or more counted once):

- phrases (``*_PHRASES``) that say the topic on their own: "how long", "with whom", "on zoom",
  "bring a colleague", "what time is that in London";
- single words (``*_WORDS``) that say it only in a short question (``SHORT`` words at most):
  "zoom?", "pricing?", "the invoice?" — so that names and bare answers ("Zoom Video", "Price
  Waterhouse", "Teams GmbH", "Quanto Srl", "Who Cares Ltd", "Meet & Eat") are no topic, and
  neither is a word in passing ("we want to pilot the product, who can we talk to?").

Some messages name the meeting's medium, product or price without asking about it, and are
read without those topics: a request for a meeting ("can we jump on a zoom?", "quero um
orçamento, podemos marcar uma call?": ``_REQUEST`` and lexicon.says_book), a cancel or a move
("pode cancelar a nossa videochamada?": lexicon.says_cancel/says_move, which keep only next,
length, zone, who and price), a zone stated ("show the times in CET": ``_SHOW_IN``), a language
asked for ("do you support Italian?").

Phrases are written as words separated by spaces; in a word, "a/b/c" are alternatives, "_" is a
space inside one ("is_going_to"), a '*' at its end stands for any ending, "@name" is one of
``_GROUPS``, "#" a number; a "~" is up to three words. A word
of the message one edit away from a listed key word of five letters or more (``TYPO_WORDS``; for
four letters, two neighbours swapped) counts as that word ("meting", "coleague", "einladnug",
"cosat"), with the edit helpers of bot.dialogue.lexicon; a few short forms are spelled out (``ALIASES``: "hw" → "how", "cest" → "c'est").

When several topics match, the first of ``PRIORITY`` wins:
guest > zone > who > length > medium > next > price > support > product
("ok and who will i meet? also can my cto join" is a guest question: adding a person is the one
the form must act on; "what time is that in London" is a zone question though it says "time";
"how much time" is length, not price).

Words that start something — cancel, move or stop a booking — are not ours: a topic is only a
topic, "can I move it to friday?" is none, and "how do I cancel later?" is at most "next" (what
happens after booking); bot.dialogue.lexicon decides on cancels and moves.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.dialogue.lexicon import DAYS, NOT_TYPOS, _deletions, _norm, _one_edit, says_book, says_cancel, says_move
from bot.i18n.detect import requested_language

TOPICS = ("who", "length", "medium", "zone", "next", "guest", "price", "product", "support")
#: The topic taken when a message matches several.
PRIORITY = ("guest", "zone", "who", "length", "medium", "next", "price", "support", "product")


def _lines(text: str) -> list[str]:
    """Phrases separated by commas or new lines; a line starting with '#' is a comment."""
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    # an apostrophe or a hyphen is a space inside a word ("can't/cant" → "can_t/cant")
    return [re.sub(r"[-'’`´]", "_", _norm(p.strip())) for p in ",".join(lines).split(",") if p.strip()]


def _clean(text: str) -> str:
    """Folded text with apostrophes and hyphens as spaces: "c'est-à-dire" → "c est a dire"."""
    return re.sub(r"[-'’`´]", " ", _norm(text))


#: Groups of words a phrase may name with "@name".
_GROUPS = {
    # people one may bring, add or invite
    "people": """
        colleague* coworker* co_worker* boss* manager* cto cfo ceo coo cio cmo vp head founder* cofounder*
        co_founder* partner* teammate* team associate* assistant* director* lead supervisor* someone somebody
        another_person people others friend* wife husband client* engineer* developer* dev* designer* employee*
        collegue* associe* patron* chef* responsable* directeur* directrice* equipe dg pdg quelqu_un personne*
        d_autres autre stagiaire* developpeur* commercial* ami* amie*
        kolleg* chef* chefin vorgesetzt* geschaftsfuhrer* geschaeftsfuehrer* teamleiter* mitarbeiter* jemand*
        person* leute partnerin entwickler* mitgrunder* mitgruender* freund* abteilungsleiter*
        companero* compañero* colega* jefe* jefa* socio* socia* gerente* alguien persona* otros otras equipo
        director* directora* desarrollador* amigo* amiga* responsable*
        chefe* sócio* time pessoa* outras outros alguem diretor* diretora* gestor* gestora* desenvolvedor*
        capo* collega* colleghi colleghe socio* soci responsabile* qualcuno persona* persone altri altre
        direttore* direttrice* sviluppator* amico* amica*
    """,
    "meeting": """
        meeting* call* demo* appointment* session* it this that
        reunion* rdv rendez_vous appel* demo* demonstration* entretien* visio* ca
        termin* treffen* gesprach* call* meeting* demo* das es der die
        reunion* llamada* cita* demo* videollamada* sesion* la el eso esto
        reuniao reunioes chamada* demo* demonstracao sessao conversa isso ela ele
        riunione* incontro* chiamata* call demo* appuntamento* sessione* videochiamata* la il lo
    """,
    "mail": """
        invite* invitation* email* e_mail mail* confirmation* calendar reminder* link* message* notification*
        text sms
        invitation* mail* email* e_mail courriel* confirmation* rappel* lien* message* notification*
        einladung* kalendereinladung* mail* email* e_mail bestatigung* bestaetigung* erinnerung* link* kalendereintrag* nachricht*
        invitacion* invitación* correo* mail* email* e_mail confirmacion* recordatorio* enlace* link* mensaje*
        convite* email* e_mail mail* confirmacao* lembrete* link* mensagem* notificacao*
        invito* inviti mail* email* e_mail conferma* promemoria link* messaggio* notifica*
    """,
    "tool": """
        tool platform app software program system video tech
        outil plateforme appli application logiciel programme
        tool plattform app software programm system
        herramienta plataforma app aplicacion programa sistema software
        ferramenta plataforma app aplicativo programa sistema software
        strumento piattaforma app applicazione programma sistema software
    """,
    "vc": "zoom teams meet webex skype whereby gotomeeting hangouts jitsi",
    # what a support problem is with
    "thing": """
        app application site website page login log_in dashboard account platform software tool integration password
        system sync export import plugin extension api portal
        appli application site page connexion compte plateforme logiciel outil integration mot_de_passe espace
        app anwendung seite website login konto account plattform software tool integration passwort dashboard
        app aplicacion sitio web pagina cuenta plataforma programa herramienta integracion contrasena panel sistema
        app aplicativo site pagina conta plataforma programa ferramenta integracao senha painel sistema
        app applicazione sito pagina account piattaforma programma strumento integrazione password pannello sistema
    """,
    "change": """
        change* cancel* reschedul* move* modify edit update
        changer change modifier modifie annuler annule deplacer decaler reporter
        andern aendern absagen stornieren verschieben umbuchen
        cambiar* cancelar* mover* modificar* reprogramar* anular*
        mudar alterar cancelar remarcar desmarcar
        cambiare modificare annullare spostare disdire
    """,
    "later": """
        later afterwards after if_needed needed still
        plus_tard apres ensuite si_besoin au_besoin
        spater spaeter danach noch nachtraglich
        despues luego mas_adelante si_hace_falta
        depois mais_tarde se_precisar
        dopo piu_avanti in_seguito poi se_serve
    """,
}

# --- the phrases of each topic -------------------------------------------------------------------

WHO_PHRASES = _lines(
    """
    # en
    who will/would/do/shall i/we meet*/see/talk/speak/be_meeting/be_talking/be_speaking/be_dealing/deal,
    who am/are i/we meeting/talking/speaking/seeing/going_to/gonna/gona, who am/are i/we ~ with,
    who is/s/will/would/ll ~ @meeting ~ with, who s/is/are/will_be ~ my/the/our host/contact/rep/presenter/person,
    who s/is/are/ll_be/will_be/would_be/s_gonna_be/is_going_to_be on/in/at/from/joining/hosting/leading/running/presenting/attending/doing/giving ~ @meeting/call/demo,
    who will/would/s_gonna/is_going_to/ll be_there/join/attend/present/host/lead/run/call/show/do/give,
    who s/is joining/hosting/presenting/attending/running/leading/doing/giving, who from/on your/ur/the/you team/side/company/end,
    with whom, who exactly, who else will/is/s/would, who is/s in_charge, who runs/leads/hosts/does the, who s/is the person,
    am i meeting/talking/speaking with/to a/an/someone/sales/your/the,
    will/would i/we meet/talk/speak/see ~ sales/engineer*/human/person/someone/expert/rep/founder*/salesperson,
    sales or tech*, someone technical, technical or, or a salesperson, a salesperson or,
    who s/is/will_be/ll_be on your/ur end/side, a sales rep or, a bot or a human, a human or,
    # fr
    avec qui, c est qui, ce sera qui, qui je vais/verrai/rencontre/rencontrerai/aurai, qui vais je, qui est ce que je, qui sera/seront/serez,
    qui va/vont me/m/faire/animer/presenter/mener/participer/etre, qui m appelle/appellera/appelera,
    qui fait/fera/anime/animera/presente/presentera/mene/menera la/le/l,
    qui est/sera mon/ma/le/la/l interlocut*/contact/conseiller*/commercial*/referent*/personne,
    qui de chez vous, qui de votre/vos, qui est/sera en_face, qui sera present*/la, quel/quelle interlocut*/personne,
    un commercial ou, je vais parler/rencontrer/voir/echanger ~ qui, je parle/parlerai/echange/echangerai ~ avec qui,
    je verrai qui, je rencontre qui,
    # de
    mit wem, wen treffe/sehe/spreche, wer ist/wird/kommt/sitzt/macht/fuhrt/leitet/ruft/nimmt/moderiert/prasentiert ~ dabei/teil/termin*/gesprach*/call/meeting/demo/an/vor/durch,
    wer ist/wird mein/meine/der/die ansprechpartner*/ansprechperson/berater*/kontakt*, wer von euch/ihnen, wer aus eurem/ihrem,
    vertrieb oder, ein techniker, wer genau, wer ist beim/im, wer sitzt mir gegenuber, wer wird mich/da,
    # es
    con quien/quienes, quien/quienes me va/van/llama/llamara/atiende/atendera/presenta/presentara/hara/hace,
    alguien tecnico, de ventas o, quien hace/hara la/el, quien/quienes va_a/van_a/estara/estaran/sera/seran/esta/estan/participa/participara/viene/vendra/dara/da/hara/presenta,
    quien/quienes es/sera mi/el/la contacto/asesor*/comercial*/persona/responsable, quien de su/tu/vuestro/ustedes,
    quien es ~ demo/reunion/llamada, un comercial o, de su equipo quien, voy a hablar con quien, hablare con quien,
    # pt
    com quem, quem vai/vou/sera/estara/estarao/vem/faz/fara/apresenta/apresentara/participa/participara/atende/liga/ligara/conduz,
    quem me atende/liga/ligara/apresenta, quem e/sera o/a meu/minha/responsavel/contato/consultor*/vendedor*/comercial,
    quem da/do equipe/time/empresa/lado, quem de voces/vcs, quem estara/esta na/no, vou falar com quem, vou conhecer quem,
    um comercial ou, um vendedor ou, alguem tecnico, de vendas ou,
    # it
    con chi, chi incontro/incontrero/vedro/vedo/sento/sentiro, chi ci sara/sono/e, chi c e,
    chi sara/saranno/viene/verra/fa/fara/presenta/presentera/partecipa/partecipera/conduce/condurra/mi,
    chi e/sara il/la/l mio/mia/referente/contatto/commerciale/consulente/responsabile, chi del/della vostro/vostra/team,
    chi di voi, chi e ~ demo/call/riunione/incontro, un commerciale o, parlero con chi,
    """
)
WHO_WORDS = _lines("whom, wem, interlocuteur, interlocutrice, ansprechpartner, ansprechpartnerin, referente")
#: A single topic word counts in a question of at most this many words ("zoom?", "what about pricing?"),
#: not in a longer one ("we want to pilot the product, who can we talk to?").
SHORT = 5
#: A question word alone asks who ("who?", "qui ?", "¿quién?"); in a sentence it needs a phrase.
WHO_ALONE = set(
    _lines("who, whom, qui, wer, quien, quienes, quem, chi, and who, et qui, und wer, y quien, e quem, e chi")
)

LENGTH_PHRASES = _lines(
    """
    # en
    how long, how many minutes/hours, how much time, duration, will/does/would it take long, take/takes/taking long,
    last/lasts long, length of ~ @meeting, # minutes/hour/hours/h or, is it # minutes/hour/hours/h,
    demi heure ou, # minutes/minuten/minutos/minuti/hour/hours/stunde/heure/heures/hora/horas/ora/ore or/oder/o/ou,
    media hora o, meia hora ou, mezz ora o, halbe stunde oder,
    half an hour or, an hour or, is it an hour, is it half an hour, what s the length, long is it, long is the,
    # fr
    combien de temps/minutes/heures, ca dure combien, dure combien, durera combien, duree, ca dure longtemps,
    ca prend combien, c est long, ca va durer, va durer combien, temps faut il prevoir, ca dure,
    # de
    wie lange/lang dauert/geht/brauchen/dauern/lauft/ist/wird, wie viele/wieviele minuten/stunden, wie viel zeit,
    dauert ~ lange/lang/minuten/stunde*, dauer des/der, dauert das/es/der/die, wie lange, wie lang,
    # es
    cuanto dura/duran/durara/demora/demorara/tarda/tardara/tiempo, cuantos minutos, cuantas horas, duracion,
    dura mucho/mucha, va a durar, cuanto rato, es larga, es largo, tiempo dura,
    # pt
    quanto tempo, quanto dura/durara/demora, quantos minutos, quantas horas, duracao, dura quanto, dura muito, vai durar,
    demora muito, leva quanto, tempo dura, tempo leva, tempo demora, e longa, e longo,
    # it
    quanto dura/durera/tempo, quanto ci vuole, quanti minuti, quante ore, durata, dura tanto/molto/quanto/piu,
    quanto ci mette, e lunga, e lungo, dura mezz ora, dura un ora, tempo dura, tempo ci vuole,
    """
)
LENGTH_WORDS = _lines("long, minutes, longtemps, dauer, dauert, lange, dura, durar, demora, durera")

MEDIUM_PHRASES = _lines(
    """
    # en
    on/via/over/by/through/using/use/in/with @vc, @vc call/link/meeting/or/invite/invitation/meet, or @vc, google meet,
    ms teams, microsoft teams, video call, videocall, video chat, phone call, by phone, over the phone, on the phone,
    a phone call, phone or, or phone, or a phone, in person, face to face, on site, onsite, in real life, at your office,
    come to your office, where is/will/s ~ @meeting, where is/will it, where do/will/can i/we go/join/connect/click/find/meet,
    where s the link, what/which @tool, the link, a link, meeting link, join link, call link,
    need/have/got to install/download, install anything/something/an/software/the, download anything/something/an,
    camera on, need a camera, webcam, is it online/virtual/remote, online or, virtual or, remote or, video or, or video,
    dial in, will you call me, call me or, remotely, remote,
    # fr
    sur/par/via/avec/en @vc, sur meet, en visio, par visio, une visio, visio ou, ou visio, visioconference,
    par/au telephone/tel, appel telephonique, appel video, en video, en presentiel, presentiel, sur place, en face a face,
    dans vos locaux, a vos bureaux, dans vos bureaux, a distance, ca se passe ou, ou ca se passe, ou se passe, ou a lieu, a lieu ou, ou aura lieu, c est ou,
    le lien, un lien, quel lien, quel/quelle outil/plateforme/logiciel/appli/application/programme,
    installer quelque/un/une/l/le/la/zoom/teams/rien/quoi, telecharger quelque/un/une/l/le/la/rien, faut il installer, dois je installer,
    camera, webcam, vous m appelez, vous m appellerez,
    # de
    per/uber/via/bei/auf/in/mit @vc, per/am telefon, telefonisch, telefonat, per video, videocall, video call, videokonferenz,
    videoanruf, videogesprach, vor ort, personlich, den/der/einen/welchen link, zoom link, teams link,
    welches/welche/welcher tool/plattform/software/programm/app, wo findet, wo treffen wir, wo ist das, wo ist der termin,
    installieren, herunterladen, runterladen, kamera, webcam, online oder, telefon oder, video oder, oder telefon, oder video,
    ruft ihr mich an, rufen sie mich an,
    # es
    por/en/via/con @vc, por/al telefono, llamada telefonica, llamada de video, videollamada, video llamada, por video,
    presencial, en persona, cara a cara, en sus oficinas, el/un/que link, el/un/que enlace,
    que/cual plataforma/herramienta/programa/aplicacion/app/software, donde es/sera/va_a_ser, donde se hace,
    instalar algo/alguna/algun/un/una/la/el/zoom/teams/nada, descargar algo/alguna/algun/un/una/nada, camara, webcam,
    online o, virtual o, telefono o, o por telefono, me llaman, me van a llamar, me llamaran,
    # pt
    pelo/pela/no/na/via/por/com/em @vc, por/pelo telefone, ligacao, videochamada, video chamada, chamada de video,
    chamada por video, por video, presencial, pessoalmente, em pessoa, cara a cara, no escritorio, o/um/qual link,
    link da/do, qual/que plataforma/ferramenta/programa/aplicativo/app/software, onde vai ser, onde sera, onde e a,
    onde fica a reuniao, instalar algum/alguma/algo/o/um/uma/nada/zoom/teams, baixar algum/alguma/algo/o/um/uma/nada,
    camera, webcam, online ou, virtual ou, telefone ou, ou por telefone, voces me ligam, vao me ligar,
    # it
    su/via/con/in/tramite/usando @vc, al/per/via telefono, telefonica, telefonata, videochiamata, video chiamata, in video,
    di persona, in presenza, dal vivo, in sede, nei vostri uffici, il/un/quale link, link della/del,
    quale/che piattaforma/strumento/programma/app/applicazione/software, dove si fa/svolge/terra/tiene, dove sara,
    dove e la/l, installare qualcosa/qualche/un/una/l/il/niente/nulla/zoom/teams, scaricare qualcosa/qualche/un/una/l/niente,
    telecamera, webcam, online o, telefono o, o al telefono, mi chiamate, mi chiamerete,
    """
)
MEDIUM_WORDS = _lines(
    """
    zoom, teams, webex, skype, phone, telephone, video, link, install, visio, telefon, telefono, telefone, presencial,
    lien, enlace
    """
)

ZONE_PHRASES = _lines(
    """
    # en
    what/which time_zone/timezone, what tz, in my/your/our time_zone/timezone, is that my local time, in local time,
    is that/this/it my/your/our time, is that/this/it in my/your/our/local, my time or yours, your time or mine,
    whose time_zone/timezone, what time would that be, what time is that for me, what time for me, what time for us,
    # fr
    quel fuseau, quel fuseau horaire, c est en heure locale, c est l heure de paris, c est heure francaise, c est mon heure,
    quelle heure pour moi, quelle heure chez moi, c est a quelle heure pour moi, l heure de chez moi,
    # de
    welche zeitzone, in welcher zeitzone, ist das deutsche/meine/unsere/eure/ihre zeit, ist das ortszeit, ist das in deutscher/meiner/unserer/eurer/ihrer zeit,
    welche uhrzeit ist das bei mir, wie spat ist das bei mir, wie spat ist das fur mich,
    # es
    que/cual zona horaria, en que zona horaria, es hora local, es hora de espana/mexico/colombia/argentina/chile/peru, es mi hora, es su hora, es hora espanola,
    que hora es eso para mi, que hora seria para mi,
    # pt
    qual fuso, que fuso, qual o fuso, e horario de brasilia/lisboa/portugal, e hora de brasilia/lisboa/portugal, e no horario de,
    e hora local, e horario local, meu horario ou, no meu fuso, que horas sao pra mim, que horas seria pra mim,
    # it
    quale fuso, che fuso, quale fuso orario, e ora italiana, e l ora italiana, e orario italiano, e ora locale, e il mio orario, e il vostro orario,
    che ore sono per me, che ora e per me,
    """
)
ZONE_WORDS = _lines(
    """
    timezone, time zone, utc, gmt, pst, pdt, edt, bst, mez, mesz, fuseau, zeitzone, fuso, local time, heure locale,
    heure de paris, heure francaise, deutsche zeit, deutscher zeit, ortszeit, hora local, hora de espana, horario de brasilia,
    hora de brasilia, hora de lisboa, ora italiana, ora locale
    """
)

#: "what time … in <place>": a time word, then up to six words among which in/à/en/em/a and a place.
_ZONE_ASK = re.compile(
    r"(?<!\w)(?:what\s+time|what\s+s\s+that|what\s+is\s+that|which\s+time"
    r"|quelle\s+heure|heure\s+est\s+ce"
    r"|wie\s+spat|wie\s+spaet|wie\s+viel\s+uhr|welche\s+uhrzeit"
    r"|que\s+horas?|que\s+horario"
    r"|che\s+ore|che\s+ora)"
    r"(?P<rest>(?:\s+\w+){1,8})"
)
_ZONE_IN = {"in", "a", "au", "aux", "en", "em", "no", "na", "nel", "nella", "nello", "bei", "chez", "at"}
#: What follows "in/à/en…" that is no place: "what time works in the afternoon", "che ore sono a pranzo".
_NOT_PLACE = set(
    _clean(
        """
        the le la les l el los las o os as il lo gli i der die das dem den un una une a an my mon ma mes mi mis meu minha
        mio mia your votre vos su sua seu tuo tua this that ce cette esta este essa esse questo questa you me moi mim mir
        morning afternoon evening night noon lunch lunchtime week month year total minutes hours general advance
        matin apres midi soir nuit semaine mois annee avance general
        morgen vormittag nachmittag abend nacht woche monat jahr
        manana tarde noche semana mes ano general total
        manha tarde noite semana mes ano geral
        mattina mattinata pomeriggio sera notte pranzo settimana mese anno generale
        january february march april may june july august september october november december
        janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
        januar februar marz april juni juli august oktober dezember
        enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
        janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro
        gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
        """
    ).split()
) | {_clean(d) for d in DAYS}

NEXT_PHRASES = _lines(
    """
    # en
    what happens next/after/afterwards/then/now, what next, what s next, what now, and then, then what, next step*,
    what do/should i/we do next/now/after, what do i need to do, will/do/would/can i/we get/receive ~ @mail,
    will/do/would/can you send/email ~ @mail, will/do you email/text/remind me, do i get ~ @mail,
    how do/will/can/would/should i/we join/connect/access/get_in/get_into/log_in, how to join/connect,
    how do/can i/we @change, can/could i/we @change ~ @later, if i need to @change, what if i need to @change,
    in case i need to @change, will/is there be ~ recording/reminder/confirmation, will it be recorded, is it recorded,
    recorded, recording, need to prepare, should i prepare, do i prepare, have to prepare, prepare anything/something,
    bring anything,
    # fr
    et apres, et ensuite, et maintenant, la suite, quelle est la suite, prochaine etape*, prochaines etapes, il se passe quoi,
    qu est ce qui se passe apres/ensuite, que se passe t il, je vais recevoir, vais je recevoir, je recevrai, je recois,
    recevrai je, on m envoie/enverra, vous m envoyez/enverrez, vous allez m envoyer, je vais avoir ~ @mail,
    comment je me connecte, comment me connecter, comment rejoindre, comment je rejoins, comment participer,
    je pourrai @change, pourrai je @change, je peux @change ~ @later, on peut @change ~ @later, si besoin de @change,
    enregistre, enregistree, enregistrement, faut il preparer, dois je preparer, je dois preparer, preparer quelque chose,
    # de
    was passiert jetzt/danach/dann/nachher/nach,  als nachstes, und dann, und jetzt, wie geht es/s weiter, wie gehts weiter,
    nachste schritte, nachster schritt, bekomme/kriege/erhalte/bekomm/krieg ich ~ @mail, schickt ihr ~ @mail,
    schicken/senden sie ~ @mail, kommt ~ @mail, wie trete ich bei, wie komme ich rein, wie nehme ich teil,
    wie wahle ich mich ein, wie logge ich mich ein, kann ich ~ @change ~ @later, kann man ~ @change ~ @later,
    aufgezeichnet, aufzeichnung, vorbereiten, vorbereitung,
    # es
    y ahora que, y despues que, y luego que, y despues, y luego, que pasa despues/ahora/luego, que sigue, y ahora,
    proximos pasos, siguiente paso, proximo paso, me llega/llegara/llegan ~ @mail, me mandan/mandaran/envian/enviaran,
    me van a mandar/enviar, voy a recibir, recibire, recibo ~ @mail, como me uno/conecto/entro/accedo/ingreso,
    como unirme/conectarme/entrar, puedo @change ~ @later, se puede @change ~ @later, podre @change,
    grabada, grabado, grabar, grabacion, preparar algo, tengo que preparar, debo preparar, hay que preparar,
    # pt
    e depois, e agora, o que acontece depois/agora/em_seguida, proximos passos, proximo passo, vou receber, recebo, como eu entro/acesso/participo,
    vou ter ~ @mail, voces mandam/enviam, voces vao mandar/enviar, me mandam/enviam, vao me mandar/enviar,
    chega ~ @mail, como entro/acesso/participo, como me conecto, como faco para/pra entrar/acessar/participar,
    posso @change ~ @later, da para/pra @change ~ @later, gravada, gravado, gravar, gravacao, preparar alguma/algo,
    preciso preparar, tenho que preparar,
    # it
    e poi, e dopo, cosa/che succede dopo/ora/adesso/poi, prossimi passi, prossimo passo, mi arriva/arrivera/arrivano,
    ricevero, ricevo, mi mandate/manderete/inviate/invierete/mandi/invii/manderai,
    come mi collego, come partecipo, come accedo, come entro, posso @change ~ @later, si puo @change ~ @later,
    registrata, registrato, registrare, registrazione, preparare qualcosa, devo preparare, bisogna preparare,
    """
)
NEXT_WORDS = _lines(
    """
    invite, invitation, confirmation, reminder, afterwards, rappel, einladung, bestatigung, erinnerung,
    invitacion, confirmacion, recordatorio, convite, confirmacao, lembrete, invito, conferma, promemoria,
    and then, et apres, und dann, y despues, e depois, e poi
    """
)

GUEST_PHRASES = _lines(
    """
    # en
    bring/add/invite/include/cc/forward/loop ~ @people, bring/add/invite/include someone/others/along/more,
    add an/a/another attendee/guest/participant/person/email, extra guest/attendee/participant/person/people/seat,
    can/could/may/will/would/should my/our/a @people ~ join/come/attend/participate/sit/dial/listen/be/tag/hop,
    my/our @people will/would/might/wants/want/is/are/ll ~ join/come/attend/there/in/participate/also/too,
    @people can/could/may/will/ll/wants/want ~ join/come/attend/participate, more than one person, more people,
    how many people/participants/attendees/persons, how many of us, plus one, can/could others join, someone else ~ join/come/attend,
    two/three/2/3 people/persons/colleagues, i ll bring, invite others, invite more, add another, another email, also invite, joining too,
    # fr
    emmener/amener/inviter/ajouter/convier/rajouter/venir ~ @people, venir avec ~ @people,
    mon/ma/mes/notre/nos @people ~ peut/pourra/peuvent/pourront/va/vont/viendra/viendront/vient/viennent/sera/seront/participe*/assiste*/joindre/joint/rejoindre/venir,
    on peut etre plusieurs/deux/trois, a plusieurs, combien de personnes/participants, plusieurs personnes,
    deux/trois/2/3 personnes/collegues, une autre personne, d autres personnes, quelqu un d autre, venir accompagne*,
    # de
    @people ~ mitbringen/einladen/hinzufugen/hinzufuegen/dazuholen/dazunehmen/mitnehmen, mitbringen, dazuholen,
    kann/darf/konnte/wird/kommt/kommen/soll mein/meine/meinen/unser/unsere/ein/eine ~ @people,
    mein/meine/unser/unsere @people ~ dabei/mit/teilnehmen/mitkommen/dazukommen/kommt/kommen,
    zwei/drei/2/3 leute/personen/kollegen, wie viele leute/personen/teilnehmer, mehrere personen, mehr als eine person, noch jemand*, weitere person*, zu zweit, zu dritt,
    # es
    invitar/traer/llevar/agregar/anadir/sumar/incluir/venir ~ @people,
    mi/mis/nuestro/nuestra @people ~ puede/pueden/podria/va/van/viene/vienen/vendra/une/quiere/estara/participa*/entrar/unirse/venir/tambien,
    dos/tres/2/3 personas/companeros/colegas, cuantas personas, varias personas, otra persona, otras personas, mas personas, alguien mas, puede venir alguien,
    # pt
    levar/trazer/convidar/adicionar/incluir/chamar/colocar ~ @people, ir com ~ @people,
    meu/minha/meus/minhas/nosso/nossa @people ~ pode/podem/podera/vai/vao/quer/querem/participa*/entra*/ir/vir/tambem,
    duas/tres/2/3 pessoas/colegas, quantas pessoas, varias pessoas, outra pessoa, outras pessoas, mais pessoas, mais alguem, alguem mais,
    # it
    portare/invitare/aggiungere/includere/coinvolgere ~ @people, venire con ~ @people,
    mio/mia/miei/mie/nostro/nostra @people ~ puo/possono/potra/viene/vengono/verra/partecipa*/vuole/unisce/unirsi/esserci/venire/anche,
    due/tre/2/3 persone/colleghi, quante persone, piu persone, un altra persona, altre persone, qualcun altro, qualcuno in piu,
    """
)
GUEST_WORDS = _lines("guest, guests, attendee, attendees, participants, plus one, accompagne")
#: Words that make an e-mail address an added guest ("add my colleague bob@x.com", "cc anna@x.com").
GUEST_MAIL_WORDS = _lines(
    """
    add, cc, invite, include, bring, colleague*, coworker*, boss, manager, cto, ceo, cfo, guest*, attendee*,
    join*, attend*, partner*, as well, come along, venga, venir, vienne, viendra, kommt, mitkommen, dabei,
    socio*, socia*, vem, vir, viene, verra, participa*, partecip*,
    participant*, ajoute*, ajouter, inviter, invite*, collegue*, associe*, patron, hinzufugen, hinzufuegen,
    fuge, fuege, einladen, lade, kolleg*, agrega*, anade*, invita*, companer*, colega*, jefe, jefa,
    adiciona*, inclui*, convida*, chefe, aggiungi*, collega*, colleghi, capo,
    """
)

PRICE_PHRASES = _lines(
    """
    # en
    how much does/do/is/are/would/will/for/per/to/s/it/would, what does/do/would ~ cost, does/will/would it/this/that cost,
    the price*, your price*, what price*, any price*, price list, price of, pricing for, pricing page, the cost, costs,
    is the demo/call/meeting/consultation/session free, is it free of charge, free of charge, for free, free trial, trial version, trial period, free version, free plan,
    per seat/user/month/year/license/licence, a month, monthly, yearly, annual plan, discount*, licen*,
    subscription price, pro plan, enterprise plan, basic plan, business plan, which plan, what plans, the plans,
    a quote, expensive, cheap*,
    # fr
    combien ca coute, combien coute, ca coute, c est combien, combien c est, combien pour, quel prix, le prix, vos prix,
    les prix, des prix, tarif*, cout, couts, ca revient a combien, licence*, reduction*, remise*, gratuit*,
    essai gratuit, version d essai, periode d essai, par mois, par utilisateur, par licence, devis, vos offres, quelle offre,
    quelle formule, des formules, les formules, l abonnement,
    # de
    was kostet/kosten, wie viel kostet/kosten, wie teuer, preis*, kostet, kostenlos, kostenfrei, gratis, rabatt*,
    lizenz*, testversion, probeversion, probezeit, testphase, pro monat, pro nutzer, pro user, pro lizenz,
    welches paket, welcher tarif, tarif*,
    # es
    cuanto cuesta/cuestan/vale/valen/sale/salen/cobran, precio*, costo*, coste*, tarifa*, licencia*, descuento*,
    gratis, gratuito, gratuita, prueba gratis, prueba gratuita, version de prueba, periodo de prueba, por mes, al mes,
    por usuario, por licencia, cotizacion, presupuesto, plan pro, plan empresa, plan basico, que planes, los planes, planes mensuales/anuales,
    tiene costo,
    # pt
    quanto custa/custam/sai/fica/cobram, preco*, custo*, licenca*, desconto*, gratis, gratuito, gratuita,
    teste gratis, teste gratuito, periodo de teste, versao de teste, por mes, ao mes, por usuario, por licenca, orcamento,
    plano pro, plano anual, plano mensal, quais planos, os planos, tem custo, e pago, e paga, quais os valores, qual o valor,
    # it
    quanto costa/costano/viene/vengono, quanto si paga, prezz*, costo, costi, tariff*, licenz*, sconto, sconti, gratis,
    gratuit*, prova gratuita, versione di prova, periodo di prova, al mese, per utente, per licenza, preventivo, piano pro,
    piano business, piano base, quali piani, i piani, piani mensili/annuali, a pagamento,
    """
)
PRICE_WORDS = _lines("price, prices, pricing, cost, plans, fee, fees, trial, prix, abonnement, valor")

SUPPORT_PHRASES = _lines(
    """
    # en
    can_t/cant/cannot/couldn_t/couldnt log/login/sign/access/get, unable to log/login/sign/access, not able to log/login/access,
    log in problem*, login problem*, login issue*, problem/issue/trouble with my/the/your, something wrong with my/the,
    @thing ~ not/isn_t/isnt/doesn_t/doesnt/won_t/wont/can_t/cant ~ work/working/load/loading/open/opening/sync/syncing,
    keeps crashing, crash*, is broken, found a bug, a bug, report a bug, error message,
    an error, getting an error, tech support, technical support, customer support, support team, support ticket,
    contact support, talk to support, need support, get support, need help with my, help with my, my account, my invoice,
    the invoice, invoice*, refund*, reset my password, my password, billing, charged twice, my subscription, my payment,
    payment failed,
    # fr
    j ai un probleme/souci, un probleme avec/de/sur, un souci avec/de/sur, probleme de connexion,
    je n arrive pas a me connecter, j arrive pas a me connecter, je ne peux pas me connecter, je peux pas me connecter,
    impossible de me connecter, @thing ~ ne/marche/fonctionne/plante/charge ~ pas/plus, bug*, beug*, ca plante,
    plante tout, erreur, support technique, service client, sav, mon compte, ma facture, la facture, facture*, rembours*,
    mot de passe, mon abonnement, mon paiement, debite, prelevement,
    # de
    ich kann mich nicht einloggen/anmelden, kann mich nicht einloggen/anmelden, login geht nicht, login funktioniert nicht,
    komme nicht rein, komme nicht in, problem mit, probleme mit, technisches problem,
    @thing ~ funktioniert/geht/lauft/ladt/laedt/klappt ~ nicht, sturzt ab, stuerzt ab, absturz, fehler*, bug*, kundendienst, kundenservice, mein konto, mein account,
    meine rechnung, die rechnung, rechnung*, ruckerstattung, rueckerstattung, erstattung, geld zuruck, passwort,
    mein abo, meine zahlung, abbuchung, abgebucht, support,
    # es
    no puedo entrar/iniciar/acceder/conectarme/loguearme, no me deja entrar/acceder, tengo un problema, un problema con,
    problema con mi/el/la, problemas con, @thing ~ no ~ funciona/carga/abre/anda, se cae, se cierra, error*, fallo*, bug*, soporte,
    atencion al cliente, mi cuenta, mi factura, la factura, factura*, reembolso*, contrasena, mi suscripcion, mi pago,
    me cobraron,
    # pt
    nao consigo entrar/acessar/logar/conectar, nao consigo fazer login, nao entra, tenho um problema, um problema com,
    problema com, problemas com, @thing ~ nao ~ funciona/carrega/abre/entra, travando, erro*, bug*, suporte, atendimento ao cliente,
    minha conta, minha fatura, a fatura, fatura*, reembolso*, estorno*, senha, minha assinatura, meu pagamento, fui cobrado,
    # it
    non riesco ad/a accedere/entrare/collegarmi/loggarmi, non riesco a fare login, ho un problema, un problema con,
    problema con, problemi con, @thing ~ non ~ funziona/carica/apre/va, si blocca, errore*, bug*, assistenza, supporto,
    servizio clienti, il mio account, la mia fattura, la fattura, fattur*, rimbors*, password, il mio abbonamento,
    il mio pagamento, addebitato, addebito,
    """
)
SUPPORT_WORDS = _lines(
    "support, help, helpdesk, problem, probleme, problema, issue, login, konto, cuenta, account, compte"
)

PRODUCT_PHRASES = _lines(
    """
    # en
    what does/do your/the/ur/this/you ~ do, what do you guys do, what do you do, what is/s your/ur/the product/tool/software/platform/app,
    do/does you/u/it/your/the/they ~ support/integrate/connect/sync/offer/handle, do/does you/u/it/your/the/they ~ work with,
    have an api, integrat*, synchroni*, sincroniz*, synchronis*, works with, compatible with, connect* to/with, sync* with, feature*, functionalit*, api, sso,
    how does it work, how does your/the ~ work, what can it do, what can your, what will you show/cover/demo,
    what will we talk/discuss/cover/go/see, what do you show, what s/is in the demo, demo cover*, what is covered,
    what will be covered, what s covered, the agenda, mobile app, an app, android, iphone, ios, use case*, on premise,
    self hosted, gdpr, soc 2, demo about,
    # fr
    produit/outil/logiciel/solution/plateforme/appli ~ fait quoi, ca fait quoi, a quoi sert/servent, comment ca marche,
    comment ca fonctionne, fonctionnalit*, integr*, compatible avec, ca marche avec, fonctionne avec, se connecte a/avec,
    api, on va voir quoi, on verra quoi, la demo montre, la demo porte, de quoi on va parler, on parlera de quoi,
    on va parler de quoi, de quoi parle, au programme, appli mobile, application mobile, vous faites quoi,
    c est quoi votre produit/outil/logiciel/solution, rgpd, heberge*,
    # de
    was macht/kann ~ software/tool/produkt/plattform/losung/loesung/app/ihr, was kann das/es, funktionen, funktionsumfang,
    integr*, schnittstelle*, api, verbinden mit, verbindet sich, anbindung, kompatibel, klappt das mit, geht das mit,
    funktioniert das/es mit, worum geht, was zeigt ihr, was zeigen sie, was wird gezeigt, worum gehts,
    unterstutzt/unterstuetzt/unterstutzen ihr/es/das/eure/ihre/sie, dsgvo, gehostet, hosting, mobile app,
    # es
    que hace/hacen ~ producto/herramienta/software/plataforma/app/aplicacion/ustedes, para que sirve, como funciona,
    funcionalidad*, funciones, integr*, se conecta con, conecta con, compatible con, funciona con, api,
    de que vamos a hablar, de que se trata, de que hablaremos, de que va, que me van a mostrar, que veremos,
    que vamos a ver, que incluye la demo, que muestra la demo, tienen app, hay app, app movil, soporta*, soportan, rgpd,
    # pt
    o que ~ produto/ferramenta/software/plataforma/sistema/app/voces ~ faz/fazem, pra/para que serve, como funciona,
    funcionalidade*, recursos, integr*, conecta com, se conecta, compativel com, funciona com, api, sobre o que, do que se trata,
    do que vamos falar, o que vou ver, o que vamos ver, o que a demo mostra, tem app, tem aplicativo, app movel, app para,
    suporta*, suportam, lgpd,
    # it
    cosa/che fa/fanno ~ prodotto/software/piattaforma/strumento/app/voi, cosa fate, a cosa serve, a che serve,
    come funziona, funzionalit*, integr*, si collega con/a, compatibile con, funziona con, api, di cosa parleremo,
    di cosa si parla, di cosa tratta, di cosa si tratta, cosa vedremo, cosa mostrate, cosa mi mostrerete, cosa vedro,
    avete un app, c e un app, app per, app mobile, supporta*, supportate, gdpr,
    """
)
PRODUCT_WORDS = _lines("product, produit, produkt, producto, produto, prodotto, features, software, app")

#: Key words whose typos count as them (one edit; for four letters only two neighbours swapped).
TYPO_WORDS = _lines(
    """
    meeting, minutes, duration, colleague, coworker, invite, invitation, install, price, pricing, discount, license,
    licence, integrate, integration, support, account, password, invoice, refund, happens, receive, confirmation,
    reminder, recorded, zoom, teams, phone, video, long, cost, costs, timezone, meet, dura, dure, link, plan,
    combien, temps, duree, reunion, collegue, collegues, installer, tarif, tarifs, facture, rembourse, compte,
    probleme, connecter, gratuit, visio, telephone, presentiel, fuseau, heure, rencontrer, recevoir, interlocuteur,
    dauert, lange, dauer, minuten, kollegen, kollege, kollegin, einladung, kostet, preis, rechnung, einloggen, anmelden,
    funktioniert, mitbringen, telefon, zeitzone, bestatigung, ansprechpartner,
    cuanto, cuantos, tiempo, companero, colega, invitar, cuesta, precio, factura, reembolso, cuenta,
    problema, duracion, llamada, videollamada, presencial, correo, invitacion, recibir,
    quanto, quantos, tempo, reuniao, convidar, custa, preco, fatura, duracao, chamada, videochamada,
    convite, receber, participar,
    quanti, durata, riunione, incontro, collega, invitare, costa, prezzo, fattura, rimborso, chiamata,
    videochiamata, invito, ricevero, partecipare, assistenza,
    """
)
#: Short forms and typos under four letters, spelled out: folded word → words.
ALIASES = {
    "hw": "how", "hwo": "how", "hiw": "how", "howlong": "how long",
    "wat": "what", "wht": "what", "whta": "what", "whats": "what s", "wats": "what s", "whos": "who s", "hows": "how s",
    "u": "you", "ur": "your", "r": "are", "wil": "will", "wll": "will", "lng": "long", "ppl": "people",
    "mtg": "meeting", "mins": "minutes", "min": "minutes", "hrs": "hours", "hr": "hour",
    "cest": "c est", "qd": "quand", "qqn": "quelqu un", "tmps": "temps", "tps": "temps", "jai": "j ai",
    "jarrive": "j arrive", "quest": "qu est", "estce": "est ce",
    "wieviel": "wie viel", "wielange": "wie lange", "gibts": "gibt es",
    "cuato": "cuanto", "qien": "quien", "kien": "quien", "xq": "por que",
    "quato": "quanto", "qnto": "quanto", "qto": "quanto", "vcs": "voces", "tb": "tambem", "tbm": "tambem",
    "xke": "perche", "xche": "perche", "qi": "qui", "quen": "quem", "zom": "zoom", "zomm": "zoom", "brng": "bring",
    "teh": "the", "hte": "the",
}  # fmt: skip

# --- question shape --------------------------------------------------------------------------------

#: Words that may follow a question word for it to start a question ("quanto costa", not "Quanto Srl";
#: "who will", not "Who Cares Ltd").
_GROUPS["after"] = """
    is are s do does did will would can could should long much many time it i we you they the my this that there
    about to come often soon exactly else from on in at with
    est sera serait ca c je j on vous de du le la les l un une faut se me m va vais y il dure coute coutent fonctionne
    ist sind wird kann kostet kosten dauert lange lang viel viele kommt geht lauft passiert macht bekomme treffe sehe
    spreche ich man es das der die den dem ein eine mein meine
    es esta son sera seria se me te el los las hay va vamos puedo puede pueden cuesta cuestan dura duran vale valen sale
    salen tiempo minutos personas pasa sigue funciona tarda demora necesito tengo
    e esta sao vai vou o a os as posso pode podem custa custam fica sai leva tempo pessoas acontece funciona
    si mi ti ci il lo gli sono devo costa costano dura durera viene vengono minuti persone succede funziona serve
    """
STARTS = _lines(
    """
    # en
    how/what/which/who/whom/where/when/why/wat @after, whats, hows,
    will/would i/we/you/there/it/the/my/someone/anyone/this/that/he/she/they,
    do/does/did i/we/you/they/it/he/she/your/the/this/that, is/isnt it/this/that/there/the/he/she/your/someone/anyone,
    are you/we/there/they/the/these, can/could/may/might i/we/you/my/our/someone/the/a/it/they/he/she/others,
    should/shall/must i/we, have/has you/they/it, am i, any idea, quick question,
    # fr
    combien/comment/pourquoi/quand @after, quel/quelle/quels/quelles, qu est ce, qu est, que se, que dois, que faut, que va,
    est ce, est il, est elle, c est avec/qui/quoi/combien/ou/quand/sur/en/par/comment/quel/quelle/gratuit/payant/long,
    qui sera/va/vais/est/sont/seront/je/fait/fera/m/me/de/anime, ou est/sera/se/a/aura/ca/c, avec qui, a quoi,
    puis je, dois je, peut on, peut il, faut il, y a t il, y aura t il, sera t il, va t il, vais je, aurai je, recevrai je,
    vous avez/faites/etes/proposez/utilisez/pouvez/allez, on peut/pourra/utilise, je peux/pourrai/recevrai/recois,
    et apres, et ensuite, mon/ma collegue peut, ca dure, ca coute, ca se passe,
    # de
    wie/wer/wen/wem/wann/wo/warum/welche/welcher/welches/woruber/worum/wozu/wieso @after, wie spat, mit wem,
    was kostet/kosten/passiert/ist/sind/muss/brauche/macht/kann/bringt/genau/soll/wird/fur/zeigt/mache/gibt/braucht,
    ist das/es/der/die/ein/eine/er/sie/man, sind wir/sie/das/es,
    kann/darf/konnte/wird ich/man/mein/meine/der/die/ein/eine/er/sie/jemand/das/es/wir, muss/soll/werde ich/man,
    konnen/durfen/mussen/sollen wir/sie, bekomme/kriege/erhalte/brauche/bin/habe ich, gibt es, findet das/der/es,
    lauft das/es, habt ihr, haben sie, schickt ihr, ruft ihr, dauert das/es/der/die,
    # es
    cuanto/cuanta/cuantos/cuantas/como/donde/cuando/cual/cuales/quien/quienes @after, por que, para que,
    que hora/horas/pasa/sigue/tengo/necesito/cuesta/precio/incluye/hace/hacen/plataforma/herramienta/debo/hay/tipo,
    con quien, es por/en/con/gratis/presencial/online/virtual/necesario/posible/larga/largo/zoom/teams,
    hay que/algun/alguna/descuento/costo/prueba/app, puedo/podemos/podria/puede/pueden, necesito instalar,
    se puede/necesita/graba/hace/paga, me llega/llegara/van/mandan/envian/llaman/avisan, voy a recibir,
    tienen/tiene/teneis,
    # pt
    quanto/quanta/quantos/quantas/como/onde/quando/qual/quais/quem @after, por que, pra que, para que, o que,
    que horas/hora/tipo/plataforma/ferramenta, com quem,
    e pelo/pela/por/no/na/em/com/presencial/online/gratis/gratuito/pago/paga/possivel/preciso/zoom/teams/longa/longo/virtual,
    posso/podemos/poderia/pode/podem, preciso instalar/baixar/preparar, vou receber/precisar, vai ser/ter/haver/durar/dar,
    vao mandar/enviar/gravar/me, tem como/desconto/teste/versao/app/link/custo/algum/alguma, da pra, da para,
    voces tem/fazem/mandam/enviam/usam/cobram, recebo,
    # it
    quanto/quanta/quanti/quante/come/dove/quando/quale/quali/qual/perche/chi @after,
    che ore/ora/cosa/succede/tipo/strumento/piattaforma/programma, cosa, cos e, con chi, di cosa, a cosa, a che,
    e su/con/gratis/gratuito/gratuita/online/possibile/necessario/lunga/lungo/previsto/prevista/zoom/teams/al/per/tramite/via,
    e a pagamento, e di persona, c e, ci sono, ci sara, posso/possiamo/potrei/puo/possono, devo/dobbiamo,
    si fa/usa/puo/paga/tratta, mi arriva/arrivera/mandate/mandi/inviate/invierete/chiamate, ricevero, ricevo,
    avete/fate,
    """
)

#: Words a clause may start with before its question ("ok and who will i meet", "merci, et après ?").
LEAD = set(
    _clean(
        """
        ok okay okey k kk oh ah so and also then well hi hey hello thanks thank you thx ty great perfect cool nice btw
        just quick one sorry um uh hmm right alright yes yeah yep no but actually wait by the way
        d accord merci bonjour salut super parfait bon alors et aussi euh donc oui non mais au fait sinon
        danke hallo perfekt gut und auch ja nein aber ubrigens noch eine frage kurz
        gracias hola vale bueno perfecto y tambien oye pues si pero por cierto una pregunta
        obrigado obrigada oi ola beleza otimo perfeito entao e mas alias
        grazie ciao perfetto bene allora anche ma comunque domanda senti
        """
    ).split()
)

# --- compiling ---------------------------------------------------------------------------------------


def _word(word: str) -> str:
    """One word of a phrase as a pattern: alternatives, a stem, a group, "_" for a space."""
    if "/" in word:
        return "(?:" + "|".join(_word(w) for w in sorted(word.split("/"), key=len, reverse=True)) + ")"
    if word.startswith("@"):
        alternatives = {_clean(w) for w in _GROUPS[word[1:]].split()}
        return "(?:" + "|".join(_word(w) for w in sorted(alternatives, key=len, reverse=True)) + ")"
    if word == "#":
        return r"\d+"
    stem = word.endswith("*")
    body = r"\s+".join(re.escape(part) for part in word.rstrip("*").split("_") if part)
    return body + r"\w*" if stem else body


def _template(phrase: str) -> str:
    body = ""
    for i, word in enumerate(phrase.split()):
        if word == "~":
            body += r"(?:\s+\w+){0,3}?"
        else:
            body += ("" if i == 0 else r"\s+") + _word(word)
    return body


def _compile(phrases: list[str], *, start: bool = False) -> re.Pattern[str]:
    alternatives = "|".join(_template(p) for p in phrases)
    if start:
        return re.compile(rf"^(?:{alternatives})(?!\w)")
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


_PHRASES = {
    "who": _compile(WHO_PHRASES),
    "length": _compile(LENGTH_PHRASES),
    "medium": _compile(MEDIUM_PHRASES),
    "zone": _compile(ZONE_PHRASES),
    "next": _compile(NEXT_PHRASES),
    "guest": _compile(GUEST_PHRASES),
    "price": _compile(PRICE_PHRASES),
    "support": _compile(SUPPORT_PHRASES),
    "product": _compile(PRODUCT_PHRASES),
}
_WORDS = {
    "who": _compile(WHO_WORDS),
    "length": _compile(LENGTH_WORDS),
    "medium": _compile(MEDIUM_WORDS),
    "zone": _compile(ZONE_WORDS),
    "next": _compile(NEXT_WORDS),
    "guest": _compile(GUEST_WORDS),
    "price": _compile(PRICE_WORDS),
    "support": _compile(SUPPORT_WORDS),
    "product": _compile(PRODUCT_WORDS),
}
_STARTS = _compile(STARTS, start=True)
_GUEST_MAIL = _compile(GUEST_MAIL_WORDS)
#: A question word at the end of a clause, as French and Portuguese ask ("je vais parler avec qui",
#: "ça dure combien", "a reunião é onde").
_ENDS = re.compile(
    r"(?<!\w)(?:avec qui|ce sera qui|c est qui|combien|c est ou|c est quand|com quem|e onde|e quando|con quien)\s*$"
)
#: "do you support SSO?" asks about the product, not for support.
_SUPPORTS = re.compile(r"(?<!\w)(?:do|does|can|will|did)\s+(?:you|u|it|they|your\s+\w+|the\s+\w+|this)\s+support\w*")
#: A request for a meeting says how it is held without asking it ("can we jump on a zoom?",
#: "set up a teams call"): taken out before the topics are looked for.
_REQUEST = _compile(
    _lines(
        """
        fazer/marcar/agendar uma chamada de video, hacer/agendar una llamada de video,
        jump/hop/get on/onto a/an/the ~ @vc/call, set_up/schedule/book/arrange/have/do/organise/organize a/an ~ @vc/call/video/phone,
        faire/organiser/planifier/caler/prendre un/une ~ visio/appel/@vc, se voir sur/en ~ @vc/visio,
        ein/einen @vc/call/videocall ~ machen/buchen/vereinbaren/ausmachen,
        hacer/hacemos/agendar/programar/organizar una/un ~ videollamada/llamada/@vc,
        fazer/fazemos/marcar/agendar uma/um ~ videochamada/chamada/@vc/call,
        fare/facciamo/fissare/organizzare/prenotare una/un ~ videochiamata/chiamata/call/@vc,
        sentirci/vederci su/in/via ~ @vc/video,
        """
    )
)
#: "show the times in Tokyo time", "muéstrame las horas en hora de España": the zone is stated, not asked
#: (the intent inform_timezone); taken out before a zone question is looked for.
_SHOW_IN = re.compile(
    _compile(
        _lines(
            """
            show/display/put/give/list/use/convert/switch ~ in/to/into,
            affiche*/montre*/mettez/mets/donne*/utilise* ~ en/a/dans/avec,
            zeig*/anzeig*/stell*/gib/geben/nutz*/verwende* ~ in/auf,
            muestra*/mostrar*/mostrarme/pon/ponme/pone/poner/usa/usar/usen/dame/dar ~ en/a,
            mostra*/mostre*/coloca*/poe/usa/usar/use/passa ~ em/no/na/pro/para,
            mostra*/mostrami/metti/usa*/usate/dammi/converti* ~ in/a/nel/nell/con,
            """
        )
    ).pattern
    + r"(?:\s+\w+){0,3}"  # and the zone: "show times in cet"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_TOKEN = re.compile(r"[^\W\d_]+")
_CLAUSES = re.compile(r"[,.;:!?¿¡()\n]+|\s+-\s+|\s+(?:and|also|et|und|y|e|ma|mais|aber|pero|mas)\s+")

# --- typos -------------------------------------------------------------------------------------------

_KEYS = sorted({w for w in TYPO_WORDS if w.isalpha()})
#: Words never taken for a typo of a key word: all listed words, and real words one edit from one.
_KNOWN = set(NOT_TYPOS) | set(
    _clean(
        """
        cuando quando tanto canto conto cosa caso casa porta posta tempi times lung song along among lone zoo room
        boom doom tom team tea teas tease steam seam beam mean meat meets feet fleet prince pride prime prize rice
        pricey coat most post host lost past cast ghost phony photo phones vide vid contra coste custo perco premio
        lage lane langue lunge danke dauern bauer mauer sauer compter comte conter contre cuento cuestan cuenca
        puesta respuesta sport report export import passport passwords accounts voice invited invites inviter
        invitee invitees meetings greeting greetings fleeting minute refunds fund funds installed installing
        received receiving happened reunions kosten reis weis factures problemas colegas collegues kollege
        moment mount amount count counts county costly coast cousin custom costo conta cote quanta pris prise
        lange langer longue longer dure durch
        """
    ).split()
)


def _known_words() -> set[str]:
    words: set[str] = set()
    for phrases in (
        WHO_PHRASES, LENGTH_PHRASES, MEDIUM_PHRASES, ZONE_PHRASES, NEXT_PHRASES, GUEST_PHRASES, PRICE_PHRASES,
        SUPPORT_PHRASES, PRODUCT_PHRASES, WHO_WORDS, LENGTH_WORDS, MEDIUM_WORDS, ZONE_WORDS, NEXT_WORDS, GUEST_WORDS,
        PRICE_WORDS, SUPPORT_WORDS, PRODUCT_WORDS, STARTS,
    ):  # fmt: skip
        for phrase in phrases:
            for word in phrase.split():
                words.update(w for w in re.split(r"[/_]", word) if w.isalpha())
    for group in _GROUPS.values():
        words.update(w for w in _clean(group).split() if w.isalpha())
    return words | LEAD


_KNOWN |= _known_words()
_KEY_INDEX: dict[str, set[str]] = {}
for _key in _KEYS:
    for _k in {_key, *_deletions(_key)}:
        _KEY_INDEX.setdefault(_k, set()).add(_key)


def _swapped(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]] if len(a) == len(b) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@lru_cache(maxsize=8192)
def _fix(token: str) -> str:
    """The word ``token`` stands for: itself, an alias, or the key word it is a typo of."""
    if token in ALIASES:
        return ALIASES[token]
    if len(token) < 4 or token in _KNOWN:
        return token
    for key in (token, *_deletions(token)):
        for word in sorted(_KEY_INDEX.get(key, ())):
            if len(word) >= 5 and len(token) >= 5 and _one_edit(token, word):
                return word
            if len(word) == 4 and _swapped(token, word):
                return word
    return token


def _prepare(text: str) -> str:
    """Folded text without addresses and links, apostrophes and hyphens as spaces, typos mended."""
    text = _URL.sub(" ", _EMAIL.sub(" ", text or ""))
    return _TOKEN.sub(lambda m: _fix(m.group(0)), _clean(text))


# --- the checks --------------------------------------------------------------------------------------


def _clauses(prepared: str) -> list[str]:
    return [c.strip() for c in _CLAUSES.split(" " + prepared + " ") if c.strip()]


def _starts_as_question(clause: str) -> bool:
    if _STARTS.search(clause) or _ENDS.search(clause):
        return True
    words = clause.split()
    while words and words[0] in LEAD:
        words.pop(0)
        if words and _STARTS.search(" ".join(words)):
            return True
    return False


def _is_question(raw: str, prepared: str) -> bool:
    bare = _URL.sub(" ", _EMAIL.sub(" ", raw or ""))
    if "?" in bare or "？" in bare or "¿" in bare:
        return True
    # the whole text first: "e pelo teams" must not lose its "e" to the clause split
    return _starts_as_question(prepared.strip()) or any(_starts_as_question(c) for c in _clauses(prepared))


def is_question(text: str) -> bool:
    """Shaped as a question: a "?" ("？", "¿"), or a clause starting with a question word or an
    inversion ("how long is it", "c'est avec qui", "wie lange dauert das", "e pelo teams")."""
    return _is_question(text, _prepare(text))


def _zone_asked(prepared: str) -> bool:
    """ "what time is that in London": a time word, then within eight words "in" and a place."""
    for match in _ZONE_ASK.finditer(prepared):
        words = match.group("rest").split()
        for i, word in enumerate(words[:-1]):
            if word not in _ZONE_IN:
                continue
            place = [w for w in words[i + 1 : i + 3] if w not in {"the", "la", "le", "l", "el", "o", "a", "il", "lo"}]
            if place and place[0] not in _NOT_PLACE and not place[0].isdigit():
                return True
    return False


def _topics(text: str, prepared: str, question: bool) -> set[str]:
    found = _found(prepared, question)
    if says_cancel(text) or says_move(text):
        # the meeting being cancelled or moved is no question about it ("pode cancelar a nossa videochamada?")
        found &= {"next", "length", "zone", "who", "price"}
    elif says_book(text):
        # nor the meeting asked for ("can we book a call about licences?", "quero um orçamento, podemos marcar uma call?")
        found -= {"medium", "product", "price", "support"}
    if requested_language(text):
        found -= {"product", "support"}  # "do you support Italian?", "¿tenés soporte en portugués?"
    if "zone" in found and not _EMAIL.search(text or ""):
        found.discard("guest")  # "what time is that in London? my CTO is there": where, not who comes
    return found


def _found(prepared: str, question: bool) -> set[str]:
    prepared = _REQUEST.sub(" qqrequest ", prepared)
    shown = _SHOW_IN.sub(" qqshow ", prepared)
    found = {name for name, pattern in _PHRASES.items() if name not in ("support", "zone") and pattern.search(prepared)}
    cleaned = _SUPPORTS.sub(" qqsupports ", prepared)
    if _PHRASES["support"].search(cleaned):
        found.add("support")
    if _PHRASES["zone"].search(shown) or _zone_asked(shown):
        found.add("zone")
    if question and " ".join(_TOKEN.findall(prepared)) in WHO_ALONE:
        found.add("who")
    if question and len(_TOKEN.findall(prepared)) <= SHORT:
        texts = {"support": cleaned, "zone": shown}
        found |= {name for name, pattern in _WORDS.items() if pattern.search(texts.get(name, prepared))}
    return found


def _first(found: set[str]) -> str | None:
    return next((name for name in PRIORITY if name in found), None)


def topic(text: str) -> str | None:
    """The topic the message asks about (one of ``TOPICS``, the first of ``PRIORITY`` when several
    match), or None. A single topic word ("zoom", "price") counts only in a question."""
    prepared = _prepare(text)
    return _first(_topics(text, prepared, _is_question(text, prepared)))


def asked_topics(text: str) -> list[str]:
    """Every topic the message asks about, in ``PRIORITY`` order ("cuanto dura? y con quien
    seria?" → who, length): what ``asks`` would say first, then the others it found. Empty
    when ``asks`` is None."""
    first, found = _asked(text)
    if first is None:
        return []
    return [first] + [name for name in PRIORITY if name in found and name != first]


def asks(text: str) -> str | None:
    """``topic(text)`` when the message is a question, or a guest being added with an e-mail
    address ("add my colleague bob@x.com"); else None."""
    return _asked(text)[0]


def _asked(text: str) -> tuple[str | None, set[str]]:
    """(what ``asks`` answers, every topic found)."""
    prepared = _prepare(text)
    question = _is_question(text, prepared)
    found = _topics(text, prepared, question)
    if _EMAIL.search(text or "") and ("guest" in found or _GUEST_MAIL.search(prepared)):
        return "guest", found  # an address with a guest word, asked or not ("...mi socio pablo@x.com, se puede?")
    return (_first(found) if question else None), found
