"""The markup checker of tests/markup.py finds what it claims to, and passes good HTML."""

from __future__ import annotations

import pytest

from tests.markup import attribute_errors, problems_in

GOOD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>T</title></head>
<body><main><form method="post" action="/login">
<label for="f-u">Username</label>
<input id="f-u" name="username" type="text" value="" required autocomplete="username">
<input type="checkbox" name="x" checked/><br>
<textarea name="t" rows="4" aria-describedby="a b">&lt;hi&gt;</textarea>
<p data-state="1" aria-live="polite">x</p><svg viewBox="0 0 1 1"><path d="M0"/></svg>
</form></main></body></html>"""


def test_well_formed_html_has_no_problems() -> None:
    assert problems_in(GOOD) == []


@pytest.mark.parametrize(
    ("tag", "error"),
    [
        (
            '<input value=""requiredautocomplete="username">',
            "missing whitespace between attributes at 'requiredautocomplete'",
        ),
        ('<input a="1"b="2">', "missing whitespace between attributes at 'b=\"2\">'"),
        ('<a href="/" href="/x">', "duplicate attribute 'href'"),
        ('<a title="x>', "unterminated value of 'title'"),
        ("<a title=x'y>", "unexpected character in the unquoted value of 'title'"),
        ('<a ti"tle="x">', "unexpected character in attribute name 'ti\"tle'"),
    ],
)
def test_malformed_attributes_are_named(tag: str, error: str) -> None:
    assert attribute_errors(tag) == [error]


def test_the_login_form_bug_is_caught_on_a_page() -> None:
    """The very markup _forms.html rendered for the login form's username field."""
    page = GOOD.replace(
        'value="" required autocomplete="username"', 'value=""requiredautocomplete="username"'
    )
    found = problems_in(page)
    assert len(found) == 2, found
    assert "missing whitespace between attributes" in found[0]
    assert "<input> has no attribute 'requiredautocomplete'" in found[1]


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<div><p>x</div>", "<p> is not closed before </div>"),
        ("<div>x</span></div>", "</span> closes nothing open"),
        ("<main>x", "end of page: <main> is never closed"),
        ("<br></br>", "</br> closes a void element"),
        ('<div href="/">x</div>', "<div> has no attribute 'href'"),
        ('<label hint="x">y</label>', "<label> has no attribute 'hint'"),
    ],
)
def test_structure_and_unknown_attributes_are_named(html: str, problem: str) -> None:
    found = problems_in(html)
    assert len(found) == 1 and found[0].endswith(problem), found


def _row(action: str, hidden: str = "") -> str:
    name = f'<span class="visually-hidden"> {hidden}</span>' if hidden else ""
    return (
        f'<form method="post" action="{action}"><button type="submit">Remove{name}</button></form>'
    )


def test_buttons_of_one_name_that_do_different_things_are_named() -> None:
    found = problems_in(_row("/hours/1/remove") + _row("/hours/2/remove"))
    assert found == ["2 buttons named 'Remove' post to ['/hours/1/remove', '/hours/2/remove']"]
    named = _row("/hours/1/remove", "Monday 09:00") + _row("/hours/2/remove", "Tuesday 09:00")
    assert problems_in(named) == []
    assert problems_in(_row("/hours/1/remove") + _row("/hours/1/remove")) == []  # the same act
