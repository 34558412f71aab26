"""Words that carry a visitor's intent, in our six languages, for decisions a classifier must not
make alone.

A classifier trained on a few hundred examples scores short unknown strings ("Ferrero", "Basta
Pasta", "Cancel Group") high on random intents. The intents that *start something* — stop the
booking, cancel or move a meeting — therefore need the words that say so; without them the
message is read as what else it can be (an answer to the form's question, a new booking).

Every function takes raw text and works on its folded form (lower case, no accents), because
visitors type without accents ("arrete", "nachste", "olvidalo"); for stop, cancel and move a
letter typed three times or more also counts once ("stoooop", "annnulla").

The evidence for stop, cancel and move is of three kinds:

- stems and phrases: ``CANCEL`` and ``MOVE`` match at the start of a word ("annul" covers
  "annuler", "annulez", "annulation"), ``STOP`` matches whole phrases;
- verbs that say it only with their object (``CANCEL_VERBS``, ``MOVE_VERBS``, ``*_PHRASES``):
  "drop the demo", "kill our meeting", "bump it to friday" — not "drop me a line", "Drop Box
  Ltd", "Move Logistics"; alone with nothing but filler ("scrap it", "supprime-le") they count
  too;
- typos: a word of the message one edit (a letter inserted, deleted or changed, or two
  neighbours swapped) away from a listed single word of six letters or more counts as that word
  ("cancle", "resceduler", "verschiben", "didire"); words under six letters never do, nor the
  real words that are one edit away from ours (``NOT_TYPOS``: "cancer", "annuel", "publie",
  "forgot", "changes"...).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from bot.i18n.detect import fold


def _phrases(text: str) -> list[str]:
    """Phrases separated by commas or new lines, folded; a line starting with '#' is a comment."""
    lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
    return [fold(p.strip()) for p in ",".join(lines).split(",") if p.strip()]


#: Phrases that stop a booking in progress. Matched as whole words.
STOP = _phrases(
    """
    # en
    stop, cancel, cancel it, forget, forget it, forget about it, never mind, nevermind, nvm,
    no thanks, no thank you, not now, quit, abort, exit, leave it, changed my mind,
    dont want, don't want, do not want, not interested, not anymore, maybe later, later,
    stop it, stop this, stop here, stop now, stop right there, stop asking, halt, stahp, stpo, stopp it,
    enough, that's enough, thats enough, enough of this, enough already,
    cancle, cnacel, scrap that, scrap it, scrap this, scrap everything, scratch that, drop it, drop this, ditch it,
    forget this, forget that, forget all this, forget all of this, forget everything, forgt it,
    let's not, lets not, let's not do this, lets not do this, let's drop it, lets drop it, let's drop this,
    let's stop, lets stop, let's leave it, lets leave it, leave it there, let's leave it there,
    call it off, call the whole thing off, call it quits, calling it quits, pack it in, i give up, give up,
    i'm out, im out, i want out, count me out, get me out of here, get me out of this, i'm bailing,
    end this, end it, end the chat, end this chat, end the conversation, terminate, discontinue,
    abandon, abandon this, don't bother, dont bother, change of plans,
    don't continue, dont continue, do not continue, don't proceed, do not proceed, no longer wish to proceed,
    i've changed my mind, ive changed my mind, i changed my mind, no more questions, shut it down,
    # fr
    arrete, arretez, arreter, annule, annulez, annuler, laisse tomber, laissez tomber,
    oublie, oubliez, oublie ca, non merci, pas maintenant, plus tard, change d'avis,
    pas interesse, pas interessee, je ne veux plus, ca ira,
    stoppe, stopper, stoppez, on arrete, on arrete la, arretons, arretons la, arrete tout, arretez tout,
    ca suffit, assez, laisse beton, laisse, laissez, laisse ca, laissons tomber, laissons ca, laissons,
    on laisse tomber, je laisse tomber, laise tomber, lache l'affaire, on oublie, oublions, oublions ca,
    oublie tout, oubliez tout, j'abandonne, on abandonne, abandonner, abandonne, je veux plus,
    je veux pas continuer, je ne veux pas continuer, je ne veux plus continuer, je ne souhaite pas poursuivre,
    pas la peine de continuer, on en reste la, restons-en la, en rester la,
    je prefere en rester la, interrompre, interromps, interrompez, quitter, je quitte, sortir, je veux sortir,
    j'ai change d'avis, changement de programme, anule, arete, areter, fin, on met ca en pause,
    # de
    stopp, abbrechen, abbruch, brich ab, vergiss es, vergessen sie es, vergiss das,
    lass mal, lassen wir das, lass es, nein danke, nicht jetzt, spater, keine lust,
    kein interesse, doch nicht, will nicht mehr,
    stoppen, halt, hor auf, hoer auf, hor jetzt auf, hoer jetzt auf, hor sofort auf, horen sie auf, aufhoren,
    aufhoeren, ich hor auf, ich hore auf, ich will aufhoren, lass uns aufhoren, lass gut sein, lass es gut sein,
    lass sein, lass es sein, lass das sein, lass doch sein, lass halt sein, lass das, lass stecken,
    lass uns das lassen, lassen wir das lieber, vergessen wir das, vergessen wir es, vergiss alles,
    vergiss das ganze, schluss, schluss jetzt, genug, genug jetzt, es reicht, das reicht, beenden, beende das,
    ende aus, nicht weiter, nicht weitermachen, mach nicht weiter, nicht mehr weiter, ich mag nicht mehr,
    ich will nicht weitermachen, ich mochte nicht weitermachen, ich mochte das nicht fortsetzen,
    ich habs mir anders uberlegt, ich hab es mir anders uberlegt, ich habe es mir anders uberlegt,
    anders uberlegt, anders ueberlegt, brich das ab, brich es ab, brich doch ab, brechen sie ab, brechen wir ab,
    brechen sie den vorgang ab, ich breche ab, ich brech ab, ich breche hier ab, ich brech hier ab,
    ich brech das ab, lass uns abbrechen, ich steige aus, ich steig aus, ich bin raus, raus hier,
    ich will raus, ich will hier raus, kein bock, kein bock mehr, keine lust mehr,
    # es
    para, parar, basta, cancela, cancelar, cancelalo, olvidalo, olvidelo, olvida,
    dejalo, dejemoslo, dejalo asi, no gracias, ahora no, mas tarde, ya no,
    cambie de opinion, no me interesa,
    para ya, paremos, paremos aqui, paremos aca, para aqui, para ahi, detente, detengase, deten, detener,
    alto, ya basta, basta ya, suficiente, dejalo estar, dejelo, dejemoslo aqui, dejemoslo asi,
    mejor lo dejamos, lo dejamos, dejalo nomas, olvidate, olvidate de eso, olvida eso, olvida todo,
    olvidalo todo, olvidao, cambie de idea, he cambiado de opinion, he cambiado de idea, me lo he pensado mejor,
    me lo pense mejor, pensandolo bien no, me arrepenti, salir, quiero salir, sacame de aqui, terminar,
    termina esto, no quiero seguir, no quiero continuar, no deseo continuar, no sigas, no continues,
    no sigamos, mejor no sigamos, abortar, aborta, cancela todo, cancela esto, anula esto, anula todo,
    interrumpe, interrumpir, corta, quiero parar, quiero abandonar, abandonar,
    # pt
    pare, cancele, esquece, esqueca, deixa, deixa pra la, deixa para la, nao obrigado,
    nao obrigada, agora nao, desisto, mudei de ideia, nao quero mais, nao me interessa,
    para com isso, pare com isso, para tudo, pode parar, quero parar, vamos parar, vamos parar por aqui, chega,
    chega disso, ja chega, deixa quieto, deixa isso, deixa isso pra la, desisti, vou desistir, sair,
    quero sair, abortar, interromper, interrompe, interrompa, encerrar, encerra, encerra isso,
    nao quero continuar, nao quero mais continuar, nao desejo continuar, nao continua, nao continue,
    esquece isso, esquece tudo, esquece o que eu disse, desconsidera, desconsidere, larga isso, cancela tudo,
    cancela isso, mudei d ideia, mudei de ideias, pensando bem esquece,
    # it
    ferma, fermati, fermo, annulla, annullare, lascia perdere, lasciamo perdere,
    lascia stare, no grazie, non ora, piu tardi, ho cambiato idea, non mi interessa,
    non voglio piu,
    basta cosi, lasci perdere, lasci stare, lasciamo stare, lascia sta, lascia perde, lassa perde, lascia,
    lasciamo, fa niente, non fa niente, non importa, non importa piu, cambiato idea, ci ho ripensato,
    ripensandoci, esci, voglio uscire, chiudiamo qui, chiudiamola qui, finiamola qui, finiamola, fermiamoci,
    fermiamoci qui, mi fermo qui, si fermi, smettila, smetti, smettiamola, dimentica, dimenticalo,
    dimentica tutto, scordatelo, scordalo, interrompi, interrompere, stoppa, ci rinuncio, rinuncio,
    non voglio continuare, non voglio proseguire, non mi va piu, annulla tutto, cancella tutto, cancella,
    # verbs that stop, whatever wraps them ("I'd like to stop this conversation", "ich möchte hier abbrechen")
    end, terminate this, stop this conversation, exit this, get out of this, get out of here, wish to discontinue,
    interrompons, arrete de, arretez de, arreter la, mettre fin, sortir de la,
    beende, beenden sie, hore auf, hor auf damit, hor auf mit, aufhoren mit, abbrechen bitte, ich will abbrechen,
    nicht fortsetzen, ich steige hier aus, raus aus,
    interrumpa, interrumpir, detener, deja de, dejarlo, dejarlo aqui, salirme, no quiero seguir con esto,
    ya no quiero, no quiero hacer esto,
    interromper, interrompa, para de, pare de, parando, sai daqui, sai desse, desistir, desistindo,
    nao quero mais continuar, nao vou continuar, nao vamos fazer isso, nao quero mais fazer isso,
    interrompere, interrompa, fermarsi, fermarci, smetti di, esci da, esci dalla, uscire, abbandona,
    abbandonare, non voglio piu continuare, non voglio piu farlo, non voglio piu procedere,
    non ho piu voglia, non proseguire, non continuare,
    """
)

#: Stop phrases that put off rather than stop: beside a wish ("I'd like later", "quiero más tarde")
#: they ask for other times, so the wrapping words below do not count beside them.
LATER = _phrases(
    """
    later, maybe later, not now, plus tard, pas maintenant, spater, nicht jetzt, mas tarde, ahora no,
    agora nao, piu tardi, non ora
    """
)

#: Words that may wrap a stop phrase that is not a LATER one ("I'd like to stop this conversation",
#: "ich möchte das hier abbrechen", "quiero salir de esto", "vorrei interrompere la procedura").
STOP_WRAP = set(
    """
    i'd id like would wish wanna want rather to this these session process flow chat conversation questions bot
    asking here there done with of out get me us
    je veux voudrais souhaite aimerais de me poser des questions la procedure processus demarche conversation
    cette ce ici suite
    mochte moechte mochten will wollen wurde gerne gern kannst konnen konnten sie du diesen dieses diese dem
    hier an dieser stelle damit mit fragen uns buchungsvorgang ablauf
    quiero quisiera gustaria podemos puedes de con este esta proceso conversacion preguntas preguntarme aqui
    por hoy favor realidad en cosas operacion proceso conversacion
    quero gostaria desejo pretendo essa esse este esta processo fluxo conversa agendamento marcacao perguntas
    perguntar agora aqui por com isso disso daqui fazer coisas processo conversa
    voglio vorrei di la questa questo quello procedura conversazione prenotazione richiesta domande subito
    qui va ma anzi farmi operazione
    """.split()
)

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

#: More words that may stand beside a stop phrase (but a LATER one) or a cancel: greetings, "yes",
#: politeness and what is being stopped ("hey stop the process", "porfa déjalo", "ciao, lascia perdere").
FILLER_MORE = set(
    """
    hi hey hello yes yeah yep yup meh ugh wait really honestly seriously thx ty sry asap i've ive
    here there of with
    svp stp euh bah bref finalement enfin en fait tant pis tiens
    hallo egal mehr lieber ne hier damit sofort vorgang ganze
    hola oye mira vale mejor ya aqui asi porfa
    oi ola ai aqui pfv pf pfvr
    ciao dai va guarda niente aspetta ecco mah boh
    """.split()
)

#: Stems that say "cancel my meeting" (cancel_meeting needs one of them). Matched at the start
#: of a word; with a meeting word (``BOOKED``) or nothing but filler beside them they are a request.
CANCEL = _phrases(
    """
    cancel, call off, calling off, can't make it, cant make it, cannot make it, won't make it,
    wont make it, delete my booking, remove my booking, drop the meeting,
    annul, decommand, je ne pourrai pas, je ne peux plus venir,
    storn, absag, abzusagen, sage ab, sagen ab, streich, kann nicht kommen, loschen,
    anul, no podre, no puedo ir, borrar,
    desmarc, nao vou poder, nao posso ir, apagar,
    disdic, disdir, cancell, non potro, non posso venire,
    # en
    cancels, canceled, cancelled, canceling, cancelling, cancellation, cancelation, cancle, cancl, canel,
    cnacel, cacnel, cancek, unbook, un-book, unschedul, un-schedul, deschedul, called off, calls off,
    call it off, no longer make it, can no longer make, won't be able to make it, wont be able to make it,
    can't attend, cant attend, cannot attend, won't be able to attend, wont be able to attend, pull the plug,
    # fr
    annuler, annulez, annule, annulons, annulation, decommander, decommande, decommandez, me desiste,
    desister, desistement, je ne viendrai pas, je viendrai pas, je pourrai pas venir, je pourrais pas venir,
    je peux plus venir, je ne peux pas venir, je peux pas venir, je ne pourrai pas venir, je ne pourrai pas etre la,
    je pourrai pas etre la,
    # de
    stornieren, storniere, storniert, stornierung, storno, absagen, absage, abgesagt, absagn, absogn,
    sag ab, sagt ab, sagst ab, sag es ab, sag das ab, sag den termin ab, streichen, gestrichen, loesch, losche,
    loscht, geloscht, fallt aus, fallt leider aus, fallt flach, fallt leider flach, flachfallen, ausfallen,
    entfallt, zuruckzieh, zuruckzuzieh, zurucknehm, ruckgangig, trag mich aus, wieder freigeben,
    kann leider nicht kommen, kann doch nicht kommen, komme doch nicht,
    # es
    cancelar, cancela, cancele, cancelen, cancelo, cancelalo, cancelala, kancel, cansel, anular, anula, anule,
    anulen, desagend, desprogram, dar de baja, da de baja, dale de baja, ya no voy a poder, no voy a poder ir,
    ya no voy a poder ir, ya no voy a poder asistir, ya no puedo asistir,
    no voy a poder asistir, no puedo asistir,
    # pt
    desmarcar, desmarca, desmarque, desmarquem, cancelem, cancelamento, nao vou poder ir, nao vou poder comparecer,
    nao vou poder participar, nao posso participar, nao vou conseguir ir, nao consigo ir,
    nao vai dar pra ir, nao vai dar para ir, nao da pra ir, nao posso comparecer, nao consigo comparecer,
    # it
    annull, disdett, disdire, disdici, disdico, disdite, disdiciamo, annullare, annulla, annullate, annulliamo,
    annullo, cancellare, cancella, cancellate, cancelliamo, cancellazione, non riesco a venire,
    non riesco piu a venire, non posso piu venire, non potro esserci, non posso esserci, non riesco ad esserci,
    """
)

#: Verbs that cancel only with their object ("drop the demo", "quita mi reunión"), or alone with
#: nothing but filler ("scrap it", "supprime-le"). A '*' ends a stem.
CANCEL_VERBS = _phrases(
    """
    # en
    drop, scrap, ditch, kill, nix, axe, trash, delete, remove, erase, wipe, scratch, scrub, dump, junk,
    cross off, cross out, get rid of, pull the plug on, take down, withdraw, retract, revoke, void,
    # fr
    supprime, supprimer, supprimez, supprimes, supprimons, efface, effacer, effacez, enleve, enlever, enlevez,
    retire, retirer, retirez, vire, virer, virez, zappe, zapper, zappez,
    # de
    entferne, entfernen, entfernt, nimm raus, rausnehmen, herausnehmen, rausnehm*,
    # es
    quita, quitar, quiten, quitame, quitala, quitalo, elimina, eliminar, elimine, eliminen, eliminala,
    eliminalo, borra, borre, borren, borrame, borrala, borralo, suprime, suprimir, suprimela, tacha, tachar,
    # pt
    tira, tirar, remove, remover, remova, removam, exclui, excluir, exclua, apaga, apague,
    apaguem, elimine, risca, riscar, retira, retirar,
    # it
    togli, togliere, toglie, togliete, toglila, toglilo, eliminare, eliminate, eliminala, eliminalo, rimuovi,
    rimuovere, rimuovete, far saltare, facciamo saltare, fai saltare,
    """
)

#: Cancels with a placeholder: {x} a meeting ("our demo", "la réunion de jeudi"), {it} the same or
#: "it/them", {...} up to three words, {end} the end of the message.
CANCEL_PHRASES = _phrases(
    """
    laisse tomber {x}, laissez tomber {x}, call {it} off, take {it} off, cross {it} off, strike {it} off, {x} is off, {x} is cancelled,
    sag* {x} {...} ab, zieh* {x} {...} zuruck, nehm* {x} {...} nicht wahr, schaff* {x} {...} nicht,
    {x} entfernen, {x} rausnehmen, {x} streichen, brauch* {...} {x} nicht mehr, sag* {...} {x} {...} ab,
    no longer need {x}, don't need {x} anymore, dont need {x} anymore, won't need {x}, wont need {x},
    plus besoin {x}, ya no necesito {x}, ya no necesitamos {x}, nao preciso mais {x}, nao precisamos mais {x},
    non mi serve piu {x}, non ci serve piu {x}, {x} non mi serve piu, {x} non ci serve piu,
    withdraw {...} {x}, retir* {...} {x}, ritir* {...} {x}, tira* da agenda, tira* da minha agenda,
    tira* {...} da agenda,
    """
)

#: Look like a cancel word, but are not one (removed before CANCEL is matched).
NOT_CANCEL = _phrases("cancelleri, cancellier, streichel, streichholz, streichquartett")

#: Stems that say "move my meeting" (reschedule_meeting needs one of them). Matched at the start
#: of a word: a move word alone makes a message a reschedule only when the classifier says so too.
MOVE = _phrases(
    """
    reschedul, resched, push my, repouss, posticip, troca, trocar, re-schedul, rebook, re-book, postpone,
    push it, push back, push the, shift, change the time, change the date, change my, change it, different time,
    different day, another time for, earlier, later time, later date,
    deplac, decal, changer, modifi, une autre heure, un autre jour, avancer,
    verschieb, verleg, umbuch, umleg, andern, anderen termin, andere zeit, anderen tag,
    spater legen, fruher legen,
    mover, muev, cambi, reprogram, aplaz, pospon, pasar la, pasar mi, otro dia, otra hora,
    remarc, mudar, mude, alterar, altera, adiar, adie, reagend, passar para,
    rimand, rinvi, riprogramm, anticip, altro giorno, altro orario, modificar,
    # en
    reschedule, rescheduled, rescheduling, postpon, postponed, resked, re-sched, rearrang, re-arrang, prepone,
    push our, push us, bring forward, move forward, new time for, new date for,
    new slot for, be moved, get moved, been moved, do another time, do another day, another day instead,
    another time instead, another date for, to another day,
    to another date, to another time, day later, hour later, week later, hour earlier, change our,
    change the day, change booking, time change, date change, mvoe, moov,
    # fr
    rescheduler, reschedulez, deplacer, deplace, deplacez, decaler, decale, decalez, reporter, reportez, reportons, repousser,
    repoussez, reprogrammer, replanifi, avancez, avancons, changement de date, changement d'heure,
    changement d'horaire, changement de rdv, changement de creneau, changez, change la date,
    change l'heure, change le rdv, change mon rdv, change mon rendez, je reporte, on reporte,
    # de
    verschieben, verschiebe, verschoben, verlegen, verlegung, umbuchen, umlegen, umplan, umterminier,
    neu terminier, neu planen, neu ansetzen, vorzieh, vorverleg, vertag, neues datum, neuen zeitpunkt,
    tausch, aendern, aender,
    terminanderung, nach hinten, nach vorne, spater ansetzen, fruher ansetzen, spater machen,
    fruher machen, einen tag spater, stunde spater, stunde fruher, auf spater, auf fruher, auf einen anderen,
    neuer slot fur, neuen slot fur, neuer termin fur, neuen termin fur,
    # es
    reprogramar, reprograma, reagendar, reagenda, aplazar, posponer, traslad, retrasar, retrasemos,
    adelantar, adelantemos, atrasar, atrasemos, volver a agendar, volver a programar,
    cambiar, pasemos la, pasemos el, pasemos mi, movemos, movamos,
    # pt
    remarcar, remarca, adia, adiant, antecip, empurr, pra outro dia, para outro dia, em outro dia, noutro dia,
    movida para, movido para, movida pra,
    movido pra, ser movida, ser movido,
    # it
    sposta, spost, spostare, spostiamo, rimandare, rimanda, rimandiamo, rinviare, rinvia, posticipare,
    posticipa, anticipare, anticipa, riprogrammare, riprogramma, riprenot, slittare, slittiamo, far slittare,
    """
)

#: Verbs that move only with their object or time ("move the call to friday", "bump it to 3pm",
#: "can we move?") — not "Move Logistics".
MOVE_VERBS = _phrases(
    """
    move, bump, push, switch, swap, shove, rejig,
    bouger, bougez, bougeons, glisser, glissez,
    schieb, schiebe, schieben, schiebt, legen,
    pasalo, pasala, correla, corramos, retrasa, retrase, retrasala, adelanta, adelantala, atrasa, atrase,
    passar, jogar, puxar, transferir, transfira,
    ritarda, ritardare, ritardiamo,
    """
)

#: Moves with a placeholder (see CANCEL_PHRASES); here {x} may also be a time ("the date").
MOVE_PHRASES = _phrases(
    """
    moving {it}, delay {it}, change {it}, bring {it} forward, do {it} another day, do {it} on another day,
    do {it} another time, do {it} a day later, have {it} another day, swap to another, switch to another,
    swap for another, switch to a different, swap to a different,
    bouge {x}, glisse {x}, avance {x}, reporte {x}, bouge le {end}, bouge la {end}, avance le {end},
    avance la {end}, glisse le {end}, reporte le {end}, reporte la {end},
    leg {x}, lege {x}, legt {x}, schieb ihn, schieb es {end}, leg ihn, leg es {end},
    pasa {x}, pasar {x}, corre {x}, correr {x}, atrasar {x},
    passa {x}, passe {x}, joga {x}, jogue {x}, muda {x}, transfere {x}, puxa {x},
    slitta {x}, spostament* {x}, moves {x},
    """
)

#: Look like a move word, but are not one (removed before MOVE is matched).
NOT_MOVE = _phrases(
    """
    spostament, in anticipo, con anticipo, d'anticipo, anticipatamente, antecipadamente, adiante, game changer,
    # passing one's details on ("sí, pueden pasar mis datos", "pode passar para a equipe")
    pasar mis, pasar mi correo, pasar mi mail, pasar mi email, pasar mi numero, pasar mi telefono,
    pasar mi contacto, pasar la info, passar meus, passar para a equipe, passar para o time,
    passar para o comercial, passar para vendas,
    """
)

#: A request for a (new) meeting: a meeting noun with a booking verb or a wish. A noun alone is
#: not one ("how long is the meeting?" asks about it), nor a verb alone ("book me a flight").
BOOK_VERBS = [
    "book", "schedul", "set up a", "arrange a", "reserv",
    "prendre rendez", "prendre un rendez", "prendre rdv", "planifier", "organiser un",
    "buchen", "vereinbar", "ausmachen",
    "agendar", "programar", "concertar",
    "marcar", "agendar",
    "prenot", "fissare", "organizzare",
]  # fmt: skip
WISH = [
    "i'd like", "i would like", "id like", "i want", "i wanna", "can i have", "can i get", "could i get",
    "could we have", "can we have", "looking for", "i need a", "we need a", "interested in a",
    "je voudrais", "j'aimerais", "je veux", "je souhaite", "on peut avoir", "je cherche",
    "ich hatte gern", "ich hatte gerne", "ich mochte", "ich will", "ich brauche", "wir brauchen", "gibt es einen",
    "quisiera", "quiero", "me gustaria", "necesito", "podemos tener", "busco",
    "gostaria", "queria", "quero", "preciso", "podemos ter",
    "vorrei", "voglio", "mi serve", "ho bisogno", "possiamo avere", "cerco",
]  # fmt: skip
MEETING = [
    "meeting", "demo", "appointment", "call", "slot", "another one",
    "rendez-vous", "rendez vous", "rdv", "reunion", "creneau", "appel", "demonstration",
    "termin", "treffen", "gesprach", "anruf", "vorfuhrung",
    "cita", "llamada", "demostracion", "hueco",
    "reuniao", "chamada", "demonstracao", "horario",
    "appuntamento", "riunione", "chiamata", "dimostrazione", "incontro",
]  # fmt: skip

#: What a cancel or a move is about: a meeting, or its booking ("cancel my booking").
BOOKED = MEETING + _phrases(
    """
    booking, reservation, appt, session, consultation, zoom, meetng, meting,
    entretien, visio, seance, rencontre, reservation,
    buchung, besprechung, sitzung, prasentation, videocall, telefonat, beratung,
    reserva, junta, videollamada, agendamiento, sesion, entrevista, videoconferencia,
    agendamento, marcacao, videochamada, ligacao, conversa agendada, conversa marcada, encontro, sessao,
    follow-up, follow up, followup,
    prenotazione, videochiamata, sessione, consulenza, colloquio, videoconferenza,
    """
)
#: What a move may be about besides a meeting ("change the date", "swap the time").
WHEN = _phrases(
    "time, date, day, hour, heure, jour, horaire, datum, uhrzeit, zeit, fecha, hora, dia, data, ora, orario, giorno"
)

#: Resuming after a stop: "ok actually let's do it now".
RESUME = [
    "let's do it", "lets do it", "let's go", "lets go", "go ahead", "let's book", "lets book", "do it now",
    "on y va", "allons-y", "allons y", "finalement", "faisons-le", "c'est parti", "on le fait",
    "los geht", "machen wir", "doch buchen", "lass uns", "dann doch",
    "vamos", "adelante", "hagamoslo", "hagamoslo ya", "venga",
    "bora", "vamos la", "vamos nessa", "pode ser agora",
    "procediamo", "andiamo", "facciamolo", "va bene facciamo", "dai",
]  # fmt: skip

#: "actually / sorry / oops / I meant": the visitor corrects something said before.
CORRECTION = [
    "actually", "sorry", "oops", "i meant", "wrong", "correction", "typo", "my bad", "not that",
    "en fait", "pardon", "desole", "oups", "je voulais dire", "erreur", "plutot",
    "eigentlich", "sorry", "entschuldigung", "hoppla", "ich meinte", "falsch", "korrektur", "vertippt",
    "en realidad", "perdon", "ups", "quise decir", "me equivoque", "equivocado", "corrijo",
    "na verdade", "desculpa", "desculpe", "opa", "quis dizer", "errado", "enganei",
    "in realta", "scusa", "scusate", "ops", "volevo dire", "sbagliato", "ho sbagliato", "correggo",
]  # fmt: skip


#: Days and clock times, enough to tell "the 15h one" from "the first one".
DAYS = [
    "today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "aujourd'hui", "demain", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "heute", "morgen", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag",
    "hoy", "manana", "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "hoje", "amanha", "segunda", "terca", "quarta", "quinta", "sexta",
    "oggi", "domani", "lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato",
]  # fmt: skip
_CLOCK = re.compile(r"\b\d{1,2}\s*(?:h\b|h\d{2}|:\d{2}|am\b|pm\b|uhr\b|hrs?\b)")

#: Words of when that may stand beside a cancel ("cancel my 2pm tmrw", "annule pour la semaine pro").
_WHEN_WORDS = set(
    """
    tmrw tmr tmrow tomorow tommorow tonight next week weekend morning afternoon evening at on
    prochaine prochain semaine pro matin soir aprem apres-midi du de
    nachste nachsten woche vormittag nachmittag abend am um
    proxima proximo semana que viene tarde noche del
    proxima semana vem manha noite do da
    prossima prossimo settimana mattina pomeriggio sera stasera domattina di del
    """.split()
)

#: Words that may stand beside a move verb ("can we move it to friday?", "bump us back an hour").
_MOVE_TAIL = set(
    """
    to by back forward up down earlier later another different other instead day days time date week weeks
    hour hours minutes mins min half one two few bit little couple need needs have has would like i'd id
    gotta got if possible maybe could should will shall
    a au aux apres plus tard tot jour heure autre on peut pourrait pourrais pourriez peux est-ce qu'on
    auf nach hinten vorne spater fruher tag tage stunde stunden minuten konnen konnten kann konnte sie uns
    einen eine etwas bisschen
    al para pra pro pa otro otra dia dias hora horas podemos puedes puede puedo se mas temprano un una
    outro outra pode da mais cedo
    alla per altro altra giorno giorni ora ore possiamo puoi puo piu tardi presto dopo prima
    """.split()
)

#: Words that may wrap a cancel ("I need to cancel", "je dois annuler", "ich muss leider absagen").
_CANCEL_WRAP = set(
    """
    have has need needs must gotta got will would like i'd id i'll ill going gonna wanna unfortunately
    afraid sadly please kindly
    dois doit devoir faut faudrait voudrais veux vais malheureusement besoin il vous pouvez pourriez peux peut
    muss mussen mochte mochten will wollen wurde gern gerne leider kurzfristig kannst konnen konnten sie
    tengo que tenemos necesito quiero quisiera hay lamentablemente puedes puede podrias
    tenho temos preciso quero queria gostaria vou ter infelizmente pode podes poderia
    devo dobbiamo vorrei voglio purtroppo bisogna serve mi puoi potete
    """.split()
)

_WORD = re.compile(r"[\w'’-]+")
_LETTERS = re.compile(r"[^\W\d_]+")
_TRIPLE = re.compile(r"([^\W\d_])\1{2,}")
_NUMBERISH = re.compile(r"\d[\w:]*")


def _norm(text: str) -> str:
    """Folded, one kind of apostrophe, a letter typed three times or more counted once."""
    return _TRIPLE.sub(r"\1", fold(text or "").replace("’", "'"))


@cache
def _pattern(words: tuple[str, ...], whole: bool) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True))
    if whole:
        return re.compile(rf"(?<![\w@])(?:{alternatives})(?![\w@])")
    return re.compile(rf"(?<![\w@])(?:{alternatives})")


def _has(words: list[str], text: str, *, whole: bool = False) -> bool:
    return bool(_pattern(tuple(words), whole).search(fold(text)))


# --- typos -------------------------------------------------------------------------------------

#: Real words one edit away from one of ours, never read as a typo of ours. Found by running every
#: word of the en, fr, de, es, pt and it spelling dictionaries through the typo check; forms of our
#: own verbs ("annulee", "stopped") are left out, and so are words no visitor types.
NOT_TYPOS = set(
    """
    cancer cancers chancel chancels annual annuale annuel annale angular adular anelar apegar aparar barrar bordar forrar torrar berrar
    canale candela candele candle canela cannella cannela canile cansei cansem canses carcel cincel hansel cassel
    kanzel cancre canule canular cancera cancerar cancere cancero chancela chancelar chancele cancello cancilla
    demarcar demarca demarque resister recommande recommander recommandez desaster deprogram estorno distico
    ablage ansage ansagen angesagt absaugen auffallen ausfullen entfalten lasche laschen lochen gelocht louche
    mosche sterno stormo storto storco stretch strich bestrichen unhook apagao afagar alagar azular anudar
    change changed changes charger chargez chanter chantez hanger echanger echangez avance avances avancee
    altura alterna alternar alteza amender tender render sender sendern gender vender lender fender bender
    mender atender acender anders andere anderen ankern wandern wanderung indern landern randern bandern andren
    andero dealer decade decile deceler detaler dedale ducale fecale recaler recale replace replacer replacez
    deporter deportez remporter remportez repartez repartons reported reporte reportar reportes reporten
    reporteur reportee remark remand rimane rimani rimanga rimaniamo rescued reached retched rested risked
    reseed reboot retook reagent radiant aidant aposta oposta suposta esposta scosta scostare postare sostare
    sposare sposata sporta umbruch umlagen verlag vertrag vermag versag vortag verschieden verschrieben
    verschonen verschroben verlesen verleben verlogen verwegen vorlegen zerlegen vorschieben codificar trotar
    trovar tronar brocar trocear retratar arrasar atracar atrapar abrasar aplacar aplanar pompon propone
    inviare bausch rausch romand
    forgot forged forger forges forgets publie publiez publions doubliez baisse baissez caisse naisse paisse
    laisser laissa laisses lancia liscia fascia nascia lasciato parlando pagando parado faremos saremos
    daremos varemos poremos aremos parendo parano schloss schuss spaten spates spatel skater slater stater
    spacer sparer spatter spader sortie sorter surtir sorrir quitten stepper steppe steppen shopper shoppe
    topper stoppel stopfen stopfe terminal terminale terminati terminato terminata terminer decente demente
    deteste detent detenir retener fermata fermato fermate fermat firmati formati ferrati formarsi blende
    blenden bewenden aufholen aufhoben abordar aborda aporta aportar aberta absorta aborto aborte aborti
    ariete carrete barrete jarrete encera encerar enterra enterrar encierra esquema esquela esqueci esquecer
    esqueceu esquecia olvide olvidado olvidar olvido dimenticato dimenticavo dimentico scordato resisto
    resistir resisti resistindo salire uscite sufficiente germinar mettila mettiamola ometti dejado changeur
    decape decaper epater telefona telefonar telefonai telefonam telefonas berating
    booing looking cooking hooking booming booting broking melting mating muting feting consul consuls
    consulat reserve preserva riserva preservation stance lesion cession cessione vermin treffer horatio
    horacio charada chapada camada chamado encontre encontra reunido reunia besprach satzung setzung suchung
    """.split()
)


#: Listed words too close to common words to take typos of ("andern": andere, anders, Ländern).
NO_TYPOS = {"andern"}


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance of at most one (Damerau-Levenshtein with no overlaps)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if len(a) < len(b):
        a, b = b, a
    for i, ch in enumerate(b):
        if a[i] != ch:
            return a[i + 1 :] == b[i:]
    return True


class _Typos:
    """Words of six letters or more, and the message words one edit away from them.

    Symmetric deletion: a word and its one-letter deletions index the word; a message word
    looks itself and its deletions up, and each candidate is checked with ``_one_edit``.
    """

    MIN = 6

    def __init__(self, words: list[str], known: set[str]) -> None:
        singles = {w for w in words if len(w) >= self.MIN and w.isalpha() and w not in NO_TYPOS}
        self.index: dict[str, set[str]] = {}
        for word in singles:
            for key in {word, *_deletions(word)}:
                self.index.setdefault(key, set()).add(word)
        self.known = known

    def match(self, token: str) -> str | None:
        if len(token) < self.MIN or not token.isalpha() or token in NOT_TYPOS or token in self.known:
            return None
        for key in (token, *_deletions(token)):
            for word in sorted(self.index.get(key, ())):
                if _one_edit(token, word):
                    return word
        return None


# --- placeholders in phrases ------------------------------------------------------------------

_DETERMINERS = _phrases(
    """
    my, our, the, this, that, your, his, her, their, a, an, next, upcoming, scheduled, booked, planned, whole,
    first, second, last, sales, zoom, teams, video, online, quick, intro,
    mon, ma, mes, notre, nos, le, la, les, ce, cette, cet, un, une, du, votre, vos, prochain, prochaine,
    mein, meine, meinen, meinem, unser, unsere, unseren, unserem, den, die, das, dem, der, diesen, diese,
    dieses, einen, eine, ein, gebuchten, gebuchte, vereinbarten, vereinbarte, geplanten, morgigen, heutigen,
    nachsten, bitte, doch, mal, sie, du, ihr, uns, mir, euren, eure, euer, ihren, ihre,
    mi, mis, tu, su, el, las, los, nuestra, nuestro, esta, este, esa, ese, proxima, proximo, del,
    o, as, os, minha, meu, minhas, meus, nossa, nosso, essa, esse, aquela, aquele, uma, um, sua, seu,
    il, lo, i, gli, mio, mia, miei, mie, nostra, nostro, questo, questa, quel, quella, della, prossimo,
    prossima,
    """
)
_ELISIONS = ["l'", "d'", "dell'", "all'", "quell'", "un'", "nell'", "dall'", "sull'"]
_SOFT = _phrases(
    "bitte, doch, mal, einfach, wieder, ganz, komplett, leider, please, pls, plz, just, svp, stp, porfa, pfv"
)
_PRONOUNS = _phrases("it, them, us, this one, that one")


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _word_pattern(word: str) -> str:
    """A listed word; a '*' at its end stands for any ending ("rausnehm*")."""
    return re.escape(word[:-1]) + r"\w*" if word.endswith("*") else re.escape(word)


_OBJECT = "qqobj"  # what _tag() puts in place of a meeting ("drop qqobj i booked")


def _object_pattern(nouns: list[str]) -> re.Pattern[str]:
    """A meeting with up to three words before it: "our demo", "la réunion", "tomorrow's 3pm call"."""
    before = rf"(?:(?:{_alternation(_DETERMINERS + [fold(d) for d in DAYS])}|\w+'s|\d[\w:]*)\s+|(?:{_alternation(_ELISIONS)})\s*)"
    return re.compile(rf"(?<![\w@]){before}{{0,3}}(?:{_alternation(nouns)})\w*")


def _tag(folded: str, objects: re.Pattern[str]) -> str:
    """The text for phrases with placeholders: "rendez-vous" → "rendez vous", a meeting → qqobj."""
    return objects.sub(_OBJECT, folded.replace("-", " "))


def _phrase_pattern(templates: list[str], nouns: list[str]) -> re.Pattern[str]:
    """Phrases with placeholders, matched in _tag()'s text: {x} a meeting, {it} the same or
    "it/them/us", {...} up to three words, {end} the end of the message. A word of the phrase
    that _tag() may have taken for a meeting ("call it off", "another day") matches either way."""

    def literal(word: str) -> str:
        if any(word.startswith(noun) for noun in nouns):
            return rf"(?:{_word_pattern(word)}|{_OBJECT})"
        return _word_pattern(word)

    parts = {
        "{x}": _OBJECT,
        "{it}": rf"(?:{_OBJECT}|{_alternation(_PRONOUNS)})",
        "{...}": r"(?:[\w']+\s+){0,3}?",
        "{end}": r"(?=\s*(?:[?!.,;:]|$))",
    }
    gap = rf"\s+(?:(?:{_alternation(_SOFT)})\s+){{0,2}}"
    alternatives = []
    for template in templates:
        words = template.split()
        body = parts.get(words[0]) or literal(words[0])
        for before, word in zip(words, words[1:], strict=False):
            piece = parts.get(word) or literal(word)
            if word == "{end}" or before == "{...}":
                body += piece
            elif word == "{...}":
                body += r"\s+" + piece
            else:
                body += gap + piece
        alternatives.append(body)
    return re.compile(rf"(?<![\w@])(?:{'|'.join(alternatives)})(?![\w@])")


def _words_pattern(words: list[str]) -> re.Pattern[str]:
    """Whole words or phrases; a '*' ends a stem."""
    alternatives = "|".join(_word_pattern(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w@])(?:{alternatives})(?![\w@])")


# --- the checks ---------------------------------------------------------------------------------

_KNOWN = (
    FILLER
    | FILLER_MORE
    | {fold(d) for d in DAYS}
    | _WHEN_WORDS
    | _MOVE_TAIL
    | {w for w in BOOKED + WHEN + _DETERMINERS if w.isalpha()}
    | {w for w in STOP + CANCEL + MOVE + CANCEL_VERBS + MOVE_VERBS if w.isalpha()}
)
_TYPOS = {
    "cancel": _Typos(CANCEL, _KNOWN),
    "move": _Typos(MOVE, _KNOWN),
    "stop": _Typos(STOP, _KNOWN),
    "booked": _Typos(BOOKED, _KNOWN),
}


@lru_cache(maxsize=8192)
def _typo(kind: str, token: str) -> str | None:
    """The listed word (of CANCEL, MOVE, STOP or BOOKED) that ``token`` is a typo of."""
    return _TYPOS[kind].match(token)


def _any_typo(kind: str, folded: str) -> bool:
    return any(_typo(kind, token) for token in _LETTERS.findall(folded))


#: What may follow a cancel stem inside its word and still be the verb ("annul|ez", "cancel|led",
#: "cancel|ala"): endings and clitics of our languages. "Cancel|lieri" is a name.
_ENDINGS = re.compile(
    r"(?:s|ed|led|ing|ling|lations?|ations?|e|es|ee|ees|er|ez|ons|ais|ait|a|o|as|os|ar|are|ad|ado|ada|ados|"
    r"adas|an|en|amos|emos|iamo|ate|ato|ata|ati|i|ieren|iere|iert|ierst|iern|ierung|t|st|n|ou|ei|em|am)?"
    r"(?:me|te|se|nos|le|la|lo|las|los|les|li|ne|mela|melo|gli|gliela|telo)?"
)


@cache
def _stem_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(_word_pattern(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w@])(?:{alternatives})(?P<tail>\w*)")


def _rest(folded: str, words: tuple[str, ...], kind: str, allowed: frozenset[str], *, numbers: bool) -> list[str]:
    """The words left beside ``words`` (matched at the start of a word, with their endings) and
    their typos that are not in ``allowed`` (nor a number or a clock time when ``numbers``)."""

    def drop(match: re.Match[str]) -> str:
        tail = match.group("tail")
        return " " if _ENDINGS.fullmatch(tail) else " " + tail

    def fits(word: str) -> bool:
        if word in allowed or (numbers and _NUMBERISH.fullmatch(word)):
            return True
        if word.endswith("'s") and word[:-2] in allowed:
            return True
        return bool(_typo(kind, word)) or (kind != "stop" and bool(_typo("booked", word)))

    stripped = _stem_pattern(words).sub(drop, folded) if words else folded
    left = []
    for word in _WORD.findall(stripped):
        word = word.strip("-'")
        if not word or fits(word):
            continue
        parts = [p for p in re.split(r"[-']", word) if p]
        if len(parts) > 1 and all(fits(p) for p in parts):
            continue
        left.append(word)
    return left


_CANCEL_ALLOWED = frozenset(FILLER | FILLER_MORE | {fold(d) for d in DAYS} | _WHEN_WORDS | _CANCEL_WRAP)
_ALONE_ALLOWED = _CANCEL_ALLOWED - set("whole thing all everything tout alles todo tudo tutto".split())
_MOVE_ALLOWED = frozenset(
    _CANCEL_ALLOWED | _MOVE_TAIL | {w for w in BOOKED + WHEN if " " not in w} | {v for v in MOVE_VERBS if " " not in v}
)
_CANCEL_STEMS = _pattern(tuple(CANCEL), False)
_NOT_CANCEL = _pattern(tuple(NOT_CANCEL), False)
_CANCEL_OBJECTS = _object_pattern(BOOKED)
_CANCEL_OBJECT = _phrase_pattern([f"{v} {{x}}" for v in CANCEL_VERBS] + CANCEL_PHRASES, BOOKED)
_CANCEL_VERB = _words_pattern(CANCEL_VERBS)
_CANCEL_WORDS = tuple(CANCEL + CANCEL_VERBS)
_BOOKED = _pattern(tuple(BOOKED), False)
_MOVE_STEMS = _pattern(tuple(MOVE), False)
_NOT_MOVE = _pattern(tuple(NOT_MOVE), False)
_MOVE_OBJECTS = _object_pattern(BOOKED)
_MOVE_OBJECT = _phrase_pattern([f"{v} {{it}}" for v in MOVE_VERBS] + MOVE_PHRASES, BOOKED)
_MOVE_VERB = _words_pattern(MOVE_VERBS)
_STOP = _pattern(tuple(STOP), True)
_LATER = set(LATER)


def _strong_cancel(folded: str) -> bool:
    cleaned = _NOT_CANCEL.sub(" ", folded)
    return bool(_CANCEL_STEMS.search(cleaned)) or _any_typo("cancel", cleaned)


def _weak_cancel_alone(folded: str) -> bool:
    """A cancel verb with nothing but filler and days beside it: "scrap it", "supprime-le" (but
    "ditch the whole thing" stops the booking)."""
    return bool(_CANCEL_VERB.search(folded)) and not _rest(
        folded, _CANCEL_WORDS, "cancel", _ALONE_ALLOWED, numbers=True
    )


def says_cancel(text: str) -> bool:
    folded = _norm(text)
    return (
        _strong_cancel(folded)
        or bool(_CANCEL_OBJECT.search(_tag(folded, _CANCEL_OBJECTS)))
        or _weak_cancel_alone(folded)
    )


def asks_to_cancel(text: str) -> bool:
    """A cancel word that is a request: with a meeting word ("cancela a reunião"), or with nothing
    but filler and days beside it ("cancel", "I can't make it tomorrow") — not a name that holds
    one ("Cancela Transportes")."""
    folded = _norm(text)
    if _CANCEL_OBJECT.search(_tag(folded, _CANCEL_OBJECTS)):
        return True
    if _strong_cancel(folded):
        if _BOOKED.search(folded) or _any_typo("booked", folded):
            return True
        return not _rest(folded, _CANCEL_WORDS, "cancel", _CANCEL_ALLOWED, numbers=True)
    return _weak_cancel_alone(folded)


def says_move(text: str) -> bool:
    folded = _norm(text)
    cleaned = _NOT_MOVE.sub(" ", folded)
    if _MOVE_STEMS.search(cleaned) or _any_typo("move", cleaned):
        return True
    if _MOVE_OBJECT.search(_tag(folded, _MOVE_OBJECTS)):
        return True
    # "can we move?", "move to friday", "ok bump us back an hour"
    return bool(_MOVE_VERB.search(folded)) and not _rest(folded, (), "move", _MOVE_ALLOWED, numbers=True)


#: What a visitor may ask to book besides a meeting ("can I book a chat with someone?"): not a
#: thing one cancels or moves ("end this chat" stops the conversation).
TALK = ["chat", "a talk", "quick word", "videocall", "video call", "zoom call", "teams call"]


def says_book(text: str) -> bool:
    return _has(MEETING + TALK, text) and (_has(BOOK_VERBS, text) or _has(WISH, text))


def says_time(text: str) -> bool:
    return bool(_CLOCK.search(fold(text))) or _has(DAYS, text, whole=True)


def says_resume(text: str) -> bool:
    return _has(RESUME, text, whole=True)


def says_correction(text: str) -> bool:
    return _has(CORRECTION, text, whole=True)


def is_explicit_stop(text: str) -> bool:
    """True when the message is a stop phrase and nothing else that matters: "stop", "no thanks,
    forget it", "please cancel the booking". A name that contains a stop word ("Basta Pasta",
    "Stop & Shop", "Ferrero") is not one: something besides the phrase and filler is left."""
    folded = _norm(text)
    found = [m.group(0) for m in _STOP.finditer(folded)] + [t for t in _LETTERS.findall(folded) if _typo("stop", t)]
    if not found:
        return False
    allowed = FILLER if all(f in _LATER for f in found) else FILLER | FILLER_MORE | STOP_WRAP
    return not _rest(_STOP.sub(" ", folded), (), "stop", frozenset(allowed), numbers=False)


#: "what times do you have…?": a question about free times is answered with times (ask_time), not
#: with the booking form's first question.
_ASKS_TIMES = re.compile(
    r"\b(?:what|which) (?:times?|slots?|days?)\b|\bwhen (?:are you|is (?:someone|anyone)) (?:free|available)"
    r"|\bquels? (?:creneaux|horaires|jours)\b|\bquand (?:etes-vous|etes vous|est-ce que vous etes) dispo"
    r"|\bwelche (?:zeiten|termine|uhrzeiten|tage)\b|\bwann (?:habt ihr|haben sie) zeit"
    r"|\bque (?:horarios?|huecos|dias)\b|\bcuando (?:teneis|tienen|tienes) (?:hueco|disponibilidad)"
    r"|\bquais (?:os )?(?:horarios?|dias)\b|\bque horarios?\b"
    r"|\bquali (?:orari|giorni)\b|\bche orari\b|\bquando (?:siete|sei) (?:liberi|disponibili)"
)


def asks_for_times(text: str) -> bool:
    """A question about free times ("what times do you have tomorrow?", "quais horários…?")."""
    return text.rstrip().endswith("?") and bool(_ASKS_TIMES.search(fold(text)))
