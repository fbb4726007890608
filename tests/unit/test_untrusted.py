"""JSON and text people send: refused with a sentence, never a crash."""

from __future__ import annotations

import pytest

from praxis.core.untrusted import (
    MAX_DEPTH,
    UnreadableJson,
    has_control_characters,
    read_json,
)

REFUSED = [
    ("[" * 50_000, "nested too deeply"),  # json.loads: RecursionError
    ('{"a": ' + "1" * 5_000 + "}", "at most 40 characters"),  # int(): ValueError
    ('{"a": 1e' + "9" * 60 + "}", "at most 40 characters"),
    ('{"a": NaN}', "not a JSON number"),
    ('{"a": -Infinity}', "not a JSON number"),
    ('{"a": "x\\u0000"}', "control characters"),
    ('{"\\u0007": 1}', "control characters"),
    ('["ok", ["\\u001b[31m"]]', "control characters"),
    (b"\xff\xfe", "UTF-8"),
    ("{not json", "This is not JSON."),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_malformed_json_is_refused_with_a_reason(text: str | bytes, reason: str) -> None:
    with pytest.raises(UnreadableJson) as refused:
        read_json(text)
    assert reason in refused.value.message


def test_ordinary_json_reads_as_json() -> None:
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert read_json(deep) is not None
    text = '{"a": "[[[{{ \\" ]", "b": [1, 2.5, -3], "c": "line\\nnext\\ttab", "d": null}'
    assert read_json(text.encode()) == {
        "a": '[[[{{ " ]',
        "b": [1, 2.5, -3],
        "c": "line\nnext\ttab",
        "d": None,
    }
    with pytest.raises(UnreadableJson):
        read_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert read_json("[" * 60 + "]" * 60, max_depth=64)


def test_control_characters_are_those_no_one_types() -> None:
    assert has_control_characters("a\x00b") and has_control_characters("\x7f")
    assert has_control_characters("\x1b[2J")
    assert not has_control_characters("Dr Ōno,\r\n\tSuite 4 — 3rd floor")
