"""docs/providers.md describes the whole provider API: every field of every DTO, in that DTO's
own section, and for each operation exactly the data categories it sends."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from praxis.core.providers import common, email, payments, questionnaires, sms, video
from praxis.core.providers.kinds import KINDS

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
MODULES = (video, payments, sms, email, questionnaires)
SHARED = (common.ProviderContext, common.WebhookRequest, common.WebhookReply)
DTOS = [
    value
    for module in MODULES
    for value in vars(module).values()
    if dataclasses.is_dataclass(value)
    and isinstance(value, type)
    and value.__module__ == module.__name__
] + list(SHARED)


def section(text: str, name: str) -> str:
    """The text under the heading that names ``name`` in backticks, to the next heading."""
    heading = rf"^#+ [^\n]*`{name}`[^\n]*\n"
    found = re.search(heading + r"(.*?)(?=^#)", text + "\n#", re.MULTILINE | re.DOTALL)
    assert found, f"docs/providers.md has no section headed `{name}`"
    return found.group(1)


def test_every_dto_of_every_kind_is_here() -> None:
    assert {dto.__name__ for dto in DTOS} >= {"MeetingRequest", "Checkout", "SmsMessage"}
    assert len(DTOS) == len({dto.__name__ for dto in DTOS})


@pytest.mark.parametrize("dto", DTOS, ids=lambda dto: dto.__name__)
def test_each_field_is_described_in_its_dtos_section(dto: type) -> None:
    described = section(REFERENCE.read_text(encoding="utf-8"), dto.__name__)
    missing = [f.name for f in dataclasses.fields(dto) if f"`{f.name}`" not in described]
    assert missing == [], f"{dto.__name__}: docs/providers.md does not describe {missing}"


@pytest.mark.parametrize(
    "operation",
    [op for kind in KINDS.values() for op in kind.operations],
    ids=lambda op: op.name,
)
def test_each_operation_says_what_it_sends(operation: common.Operation[object, object]) -> None:
    """The operations table's row names exactly the categories the manifest must declare."""
    text = REFERENCE.read_text(encoding="utf-8")
    [row] = [line for line in text.splitlines() if line.startswith(f"| `{operation.name}` |")]
    sends = row.split("|")[3]
    expected = [category.value for category in operation.sends]
    assert re.findall(r"`(\w+)`", sends) == expected or (not expected and "nothing" in sends)
