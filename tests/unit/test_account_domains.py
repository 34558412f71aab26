"""Customer accounts by e-mail domain (bot/booking/domains.py): CSV import, free mail, owner routing."""

from __future__ import annotations

from bot.booking import Visitor, domains
from bot.store.models import Agent, Booking
from tests.helpers import NINE_TO_FIVE, add_queue

CSV = """domain,owner_email,name
acme.com,bo@agents.example,Acme Corp
Globex.IO,ada@agents.example,
gmail.com,bo@agents.example,someone's private mail
initech.com,nobody@agents.example,Initech
not a domain,bo@agents.example,
acme.com,ada@agents.example,Acme again
short
"""


def test_import_reports_each_bad_line_and_keeps_the_good_ones(store):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        result = domains.import_csv(s, CSV)
    assert (result.added, result.updated) == (2, 0)
    assert [e.split(":")[0] for e in result.errors] == ["line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "free-mail" in result.errors[0] and "no agent" in result.errors[1] and "twice" in result.errors[3]
    with store.session() as s:
        assert domains.list_domains(s) == [
            {"domain": "acme.com", "name": "Acme Corp", "owner_email": "bo@agents.example"},
            {"domain": "globex.io", "name": "", "owner_email": "ada@agents.example"},
        ]
        again = domains.import_csv(s, "acme.com,ada@agents.example\n")  # no header: a change of owner
    assert (again.added, again.updated, again.errors) == (0, 1, [])


def test_owner_by_domain_subdomains_free_mail_and_inactive_agents(store):
    ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        domains.import_csv(s, "acme.com,bo@agents.example\nglobex.io,ada@agents.example\n")
    with store.session() as s:
        assert domains.owner_for(s, "Wile.E@ACME.com") == bo
        assert domains.owner_for(s, "road@eu.acme.com") == bo  # a subdomain belongs to the account
        assert domains.owner_for(s, "someone@notacme.com") is None
        assert domains.owner_for(s, "me@gmail.com") is None and domains.owner_for(s, "") is None
        s.get(Agent, ada).active = False
    with store.session() as s:
        assert domains.owner_for(s, "x@globex.io") is None  # the owner left: no owner


def test_a_visitor_from_an_account_meets_its_owner_and_free_mail_does_not(service, store):
    ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        domains.import_csv(s, "acme.com,bo@agents.example\n")

    taken = []

    def book(conv: str, email: str) -> int:
        """Book the first time offered after the ones booked so far (both agents free then)."""
        visitor = Visitor(email=email, first_name="V", company_name="C", timezone="Europe/London")
        page = service.offer_slots(conv, "sales", count=20, visitor=visitor, spread=False)
        slot = next(sl for sl in page.slots if all(sl.start >= t for t in taken) and sl.start not in taken)
        taken.append(slot.start)
        booking_id = service.book(conv, slot.id, visitor).booking_id
        with store.session() as s:
            return s.get(Booking, booking_id).agent_id

    # Both agents are free at every time: the round robin alternates, the account always gets Bo.
    assert [book(f"acme-{i}", f"buyer{i}@acme.com") for i in range(3)] == [bo, bo, bo]
    free_mail = [book(f"gm-{i}", f"person{i}@gmail.com") for i in range(2)]
    assert free_mail == [ada, ada]  # Ada is behind after Bo's three: fairness, not the account


def test_the_cli_imports_and_lists(store, settings, tmp_path, monkeypatch, capsys):
    import json

    from bot.__main__ import main

    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    path = tmp_path / "accounts.csv"
    path.write_text("\ufeffdomain,owner_email,name\nacme.com,bo@agents.example,Acme\nweb.de,ada@agents.example,\n")
    assert main(["accounts", "import", str(path)]) == 1  # a line was refused
    out = capsys.readouterr()
    assert "1 added, 0 updated, 1 lines skipped" in out.out and "line 3: web.de is a free-mail domain" in out.err
    assert main(["accounts", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"domain": "acme.com", "name": "Acme", "owner_email": "bo@agents.example"}]
    assert main(["accounts", "import", str(tmp_path / "missing.csv")]) != 0
    assert "cannot read" in capsys.readouterr().err


def test_the_admin_portal_imports_accounts(store, settings):
    from bot.admin import accounts
    from bot.web.app import create_app
    from tests.unit.test_portal import PASSWORD, Browser

    _ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    accounts.create_account(store, "bo@agents.example", PASSWORD, "agent", agent_id=bo)
    app = create_app(settings, store)
    admin = Browser(app)
    admin.signin("root@example.com")
    token = admin.csrf("/portal/admin/accounts")
    done = admin.post("/portal/admin/accounts", {"csrf": token, "csv": "acme.com,bo@agents.example,Acme\n"})
    assert done.status == 200 and "1 added" in done.text and "<code>acme.com</code>" in done.text
    bad = admin.post("/portal/admin/accounts", {"csrf": token, "csv": "orange.fr,bo@agents.example\n<b>x</b>,y\n"})
    assert bad.status == 400 and "line 1: orange.fr is a free-mail domain" in bad.text and "<b>x</b>" not in bad.text
    assert admin.post("/portal/admin/accounts", {"csv": "x.com,bo@agents.example"}).status == 403  # no CSRF token
    agent = Browser(app)
    agent.signin("bo@agents.example")
    assert agent.get("/portal/admin/accounts").status == 403
    with store.session() as s:
        assert [r["domain"] for r in domains.list_domains(s)] == ["acme.com"]
