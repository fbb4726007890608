"""The platform's own notice (P38): the operator is the controller of accounts, the site and
marketing data, and a processor for each clinic, whose own notice covers the care it gives.
A separate document naming its own controller, from the operator's settings."""

from __future__ import annotations

from collections.abc import Sequence

from praxis.core.config import InfrastructureProcessor, PlatformController
from praxis.core.privacy.notices import escape, link_to, to_html
from praxis.core.privacy.recipients import of_infrastructure
from praxis.core.privacy.template import PLATFORM_NOTICE

NOT_DECLARED = (
    "The operator of this platform has not yet declared its details as data controller "
    "(PLATFORM_CONTROLLER). Until it does, ask the clinic you use about your data."
)


def platform_markdown(
    controller: PlatformController | None, processors: Sequence[InfrastructureProcessor]
) -> str:
    if controller is None:
        return NOT_DECLARED
    number = (
        f" (registered number {escape(controller.registered_number)})"
        if controller.registered_number
        else ""
    )
    recipients = [of_infrastructure(p) for p in processors]
    listed = (
        "\n".join(
            f"- **{escape(r.name)}** ({escape(r.country)}): {escape('; '.join(r.purposes))}"
            + (f"; outside the UK under {escape(r.safeguard)}" if r.abroad else "")
            for r in recipients
        )
        or "- Nobody: the platform runs on the operator's own machines."
    )
    return (
        PLATFORM_NOTICE.replace(
            "[[controller]]",
            f"**{escape(controller.legal_name)}**{number}, of {escape(controller.address)}, "
            "ICO registration number "
            f"{escape(controller.ico_registration)}",
        )
        .replace("[[processors]]", listed)
        .replace("[[dpo]]", link_to(controller.dpo_contact))
        .replace("[[complaints]]", link_to(controller.complaints_route))
    )


def platform_html(
    controller: PlatformController | None, processors: Sequence[InfrastructureProcessor]
) -> str:
    return to_html(platform_markdown(controller, processors))
