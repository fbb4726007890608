"""core.accounts.operator_alerts: each change's email names what changed and when, for an
operator (not a clinic), with nothing left unfilled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from praxis.core.accounts.alerts import SUBJECTS, Change
from praxis.core.accounts.operator_alerts import IF_NOT_YOU, OperatorAlert, message

AT = datetime(2026, 12, 7, 6, 5, tzinfo=UTC)


def alert(change: Change, codes_left: int = 10) -> OperatorAlert:
    return OperatorAlert(uuid.uuid4(), uuid.uuid4(), "ops@example.org", change, AT, codes_left)


@pytest.mark.parametrize("change", list(Change))
def test_each_change_reads_whole_and_says_when(change: Change) -> None:
    subject, text = message(alert(change))
    assert subject == SUBJECTS[change]
    assert "{" not in text and "}" not in text
    assert "Praxis platform operator account" in text
    assert "This happened on 07 December 2026 at 06:05 UTC." in text
    assert text.endswith(IF_NOT_YOU + "\n")
    assert "ops@example.org" not in text


@pytest.mark.parametrize(("left", "words"), [(1, "1 code is left."), (0, "0 codes are left.")])
def test_a_used_recovery_code_says_how_many_are_left(left: int, words: str) -> None:
    assert words in message(alert(Change.RECOVERY_CODE_USED, left))[1]
