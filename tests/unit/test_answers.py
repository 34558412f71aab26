"""Form answers read as a person would (bot/dialogue/answers.py)."""

from __future__ import annotations

import pytest

from bot.dialogue.answers import corrected_email, find_email, read_name, stated_name


@pytest.mark.parametrize(
    "text, name",
    [
        ("my name is Mark", "Mark"),
        ("je m'appelle Jean-Pierre", "Jean-Pierre"),
        ("Ich heiße Katrin", "Katrin"),
        ("ich heisse katrin", "katrin"),
        ("me llamo Lucía", "Lucía"),
        ("chamo-me João", "João"),
        ("meu nome é Ana", "Ana"),
        ("mi chiamo Giulia", "Giulia"),
        ("Jo", "Jo"),
        ("Mary Ann", "Mary Ann"),
        ("oh sorry, Sam", "Sam"),
        ("Mark from Acme", "Mark"),
        ("sorry, my name is Marc actually", "Marc"),
        ("ach quatsch, ich heiße eigentlich Timo", "Timo"),
    ],
)
def test_read_name(text, name):
    assert read_name(text) == name


def test_markup_is_kept_as_written_not_cut():
    assert read_name("I'm Jo <script>alert(1)</script>") == "Jo <script>alert(1)</script>"


def test_stated_name_needs_a_name_phrase():
    assert stated_name("sorry, my name is Marc actually") == "Marc"
    assert stated_name("Ich heiße Katrin") == "Katrin"
    assert stated_name("I'm in Chicago actually") is None
    assert stated_name("Acme Corp") is None


def test_emails_out_of_sentences_and_corrections():
    assert find_email("sure, it's anna.b@acme.io thanks") == "anna.b@acme.io"
    assert find_email("no address here") is None
    assert corrected_email("oops wrong email, it's mark@acme.com", "marc@acme.com") == "mark@acme.com"
    assert corrected_email("actually my e-mail is jo@x.org", "jo@y.org") == "jo@x.org"
    assert corrected_email("mark@acme.com", "mark@acme.com") is None
    assert corrected_email("can I bring anna@acme.com?", "mark@acme.com") is None  # a guest, not a correction


@pytest.mark.parametrize(
    "text, name",
    [("sorry, ich heiße eigentlich Jan, nicht Jens", "Jan"), ("my name is Marc, not Mark", "Marc"),
     ("en fait je m'appelle Léa; pas Lea", "Léa"), ("perdon, me llamo Jordi - no Jorge", "Jordi")],
)
def test_a_stated_name_ends_at_the_clause_break(text, name):
    assert stated_name(text) == name
