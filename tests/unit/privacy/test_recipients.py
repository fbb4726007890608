"""Recipients written from what the software uses (core.privacy.recipients, P22)."""

from __future__ import annotations

import pytest

from praxis.core.config import InfrastructureProcessor
from praxis.core.privacy.recipients import (
    INFRASTRUCTURE,
    PLUGIN,
    Recipient,
    difference,
    of_infrastructure,
    of_plugin,
)
from praxis.core.providers.common import DataCategory
from praxis.core.providers.manifest import DataUse, PluginManifest, Processor


def manifest(processor: Processor | None) -> PluginManifest:
    return PluginManifest(
        name="sms_heron",
        kind="sms",
        title="Heron SMS",
        version="1",
        requires=">=1.0,<2",
        processor=processor,
        data=(
            DataUse(
                operation="send_message",
                categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                purpose="appointment reminders",
                legal_basis="contract",
            ),
        ),
    )


@pytest.mark.promise("P22")
def test_a_plugins_processor_is_listed_with_what_it_receives_and_why() -> None:
    heron = Processor(
        legal_name="Heron Messaging BV",
        country="NL",
        transfer_safeguard="EU adequacy",
        privacy_policy_url="https://heron.example/privacy",
    )
    found = of_plugin(manifest(heron))
    assert found is not None
    assert (found.name, found.source, found.country) == ("Heron Messaging BV", PLUGIN, "NL")
    assert found.categories == ("appointment", "phone")
    assert found.purposes == ("appointment reminders",)
    assert found.abroad
    assert of_plugin(manifest(None)) is None  # data that never leaves names no one


def test_infrastructure_comes_from_the_operators_declaration() -> None:
    declared = InfrastructureProcessor(
        legal_name="Hetzner Online GmbH",
        country="DE",
        transfer_safeguard="EU adequacy",
        purpose="hosting",
        categories=("name", "email"),
    )
    found = of_infrastructure(declared)
    assert (found.name, found.source, found.purposes) == (
        "Hetzner Online GmbH",
        INFRASTRUCTURE,
        ("hosting",),
    )
    assert Recipient.from_dict(found.as_dict()) == found


def test_the_difference_names_who_came_and_who_went() -> None:
    a = Recipient(name="A", source=PLUGIN, role="x")
    b = Recipient(name="B", source=PLUGIN, role="y")
    moved = Recipient(name="A", source=PLUGIN, role="x", country="US")
    assert not difference([a, b], [a, b])
    gone = difference([a, b], [a])
    assert gone.removed == [b] and gone.added == []
    changed = difference([a], [moved])
    assert changed.added == [moved] and changed.removed == [a]
