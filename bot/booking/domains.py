"""Customer accounts by e-mail domain (issue 19): which agent owns the account a visitor's e-mail
belongs to. Imported from CSV (``python -m bot accounts import FILE``: ``domain,owner_email[,name]``);
free-mail domains (gmail.com, outlook.com, web.de, orange.fr, ...) are never matched, so a
private address never lands with someone's account owner.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import AccountDomain, Agent

#: Mailbox providers anyone can sign up with: their domain says nothing about the visitor's company.
FREE_MAIL = frozenset(
    """
    gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.es hotmail.it
    live.com live.fr live.de live.it msn.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es yahoo.it
    yahoo.com.br ymail.com icloud.com me.com mac.com aol.com aol.de proton.me protonmail.com pm.me zoho.com
    mail.com gmx.com gmx.net gmx.de gmx.at gmx.ch web.de t-online.de freenet.de posteo.de mailbox.org
    orange.fr wanadoo.fr free.fr laposte.net sfr.fr neuf.fr bbox.fr libero.it virgilio.it tiscali.it alice.it
    tin.it email.it terra.es telefonica.net movistar.es uol.com.br bol.com.br terra.com.br ig.com.br
    sapo.pt hotmail.com.br outlook.com.br outlook.fr outlook.de outlook.es outlook.it mail.ru yandex.ru
    yandex.com bluewin.ch tutanota.com tuta.io fastmail.com hey.com
    """.split()
)


def domain_of(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def is_free_mail(domain: str) -> bool:
    return domain.lower() in FREE_MAIL


def owner_for(s: Session, email: str | None) -> int | None:
    """The agent owning the account of ``email``'s domain (or a parent domain: ``eu.acme.com``
    belongs to ``acme.com``), None for free mail or an unknown domain."""
    domain = domain_of(email)
    if domain is None or is_free_mail(domain):
        return None
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]  # eu.acme.com, acme.com
    rows = dict(
        s.execute(
            select(AccountDomain.domain, AccountDomain.agent_id)
            .join(Agent, Agent.id == AccountDomain.agent_id)
            .where(AccountDomain.domain.in_(candidates), Agent.active.is_(True))
        ).all()
    )
    return next((rows[c] for c in candidates if c in rows), None)


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)  # "line 3: ..."


def import_csv(s: Session, text: str) -> ImportResult:
    """``domain,owner_email[,name]`` per line (a header line is skipped). Lines with errors are
    reported by number and skipped; the rest are added or update the domain's owner."""
    result = ImportResult()
    agents = {email.lower(): agent_id for agent_id, email in s.execute(select(Agent.id, Agent.email)).all()}
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("domain", "account domain"):
            continue
        if len(cells) < 2:
            result.errors.append(f"line {number}: expected domain,owner_email[,name]")
            continue
        domain = cells[0].lower().lstrip("@").rstrip(".")
        owner = cells[1].lower()
        name = cells[2] if len(cells) > 2 else ""
        if "." not in domain or "@" in domain or " " in domain or len(domain) > 253:
            result.errors.append(f"line {number}: {cells[0][:80]!r} is not a domain like acme.com")
        elif is_free_mail(domain):
            result.errors.append(f"line {number}: {domain} is a free-mail domain: it is never matched to an account")
        elif owner not in agents:
            result.errors.append(f"line {number}: no agent with the e-mail {cells[1][:80]!r}")
        elif domain in seen:
            result.errors.append(f"line {number}: {domain} appears twice; the first line is kept")
        else:
            seen.add(domain)
            row_ = s.get(AccountDomain, domain)
            if row_ is None:
                s.add(AccountDomain(domain=domain, agent_id=agents[owner], name=name[:300]))
                result.added += 1
            else:
                row_.agent_id, row_.name = agents[owner], name[:300] or row_.name
                result.updated += 1
    return result


def list_domains(s: Session) -> list[dict[str, str]]:
    rows = s.execute(
        select(AccountDomain.domain, AccountDomain.name, Agent.email)
        .join(Agent, Agent.id == AccountDomain.agent_id)
        .order_by(func.lower(AccountDomain.domain))
    ).all()
    return [{"domain": d, "name": n, "owner_email": e} for d, n, e in rows]


__all__ = ["FREE_MAIL", "ImportResult", "domain_of", "import_csv", "is_free_mail", "list_domains", "owner_for"]
