from bot.messages.tokens import render_html, render_text, tokens_in, unknown_tokens

CTX = {"person": {"first_name": "Dana", "last_name": ""}, "company": {"name": "Acme & Sons"}}


def test_values_and_defaults():
    t = 'Hi {{person.first_name | "there"}} from {{ company.name }}, {{person.last_name|"friend"}}!'
    assert render_text(t, CTX) == "Hi Dana from Acme & Sons, friend!"
    assert render_text(t, {}) == "Hi there from , friend!"


def test_single_quoted_default_and_escaped_quote():
    assert render_text("{{person.title | 'the \\'boss\\''}}", CTX) == "the 'boss'"


def test_unknown_tokens_render_default_or_nothing_and_are_reported():
    t = '{{secret.key}}{{person.nope | "x"}}{{os.environ | "y"}}'
    assert render_text(t, CTX) == "xy"
    assert unknown_tokens(t) == ["secret.key", "os.environ"]
    assert tokens_in(t) == ["secret.key", "person.nope", "os.environ"]


def test_non_string_values_count_as_missing():
    ctx = {"person": {"first_name": {"nested": 1}, "age": 42, "vip": True}}
    assert render_text('{{person.first_name | "there"}} {{person.age}} {{person.vip | "n"}}', ctx) == "there 42 n"


def test_malformed_tokens_stay_as_written_and_nothing_executes():
    t = "{{ person.first_name {{person}} {% for x in y %} {{ person.__class__ }}"
    assert render_text(t, CTX) == t.replace("{{ person.__class__ }}", "")


def test_html_output_escapes_values_and_template():
    ctx = {"person": {"first_name": "<script>alert(1)</script>"}}
    out = render_html("<b>Hi</b> {{person.first_name}}\nbye", ctx)
    assert "<script>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "<br>" in out
