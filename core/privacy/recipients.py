"""Who receives a clinic's personal data, written from what the software really uses (P22):
the processors of its enabled plugins (from their manifests), the platform's own
infrastructure processors (declared by the operator), and the clinic's Professionals."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts import professionals
from praxis.core.accounts.models import ProfessionalStatus
from praxis.core.config import InfrastructureProcessor
from praxis.core.errors import ProviderNotReady
from praxis.core.plugins.registry import Registry
from praxis.core.providers.manifest import PluginManifest
from praxis.tenants.directory import TenantInfo

PLUGIN = "plugin"
INFRASTRUCTURE = "infrastructure"
PROFESSIONAL = "professional"
UK = "GB"


@dataclass(frozen=True)
class Recipient:
    """One line of the notice's recipients section."""

    name: str
    source: str  # plugin | infrastructure | professional
    role: str  # what they do for the clinic, in a patient's words
    country: str = UK
    safeguard: str = ""
    categories: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    policy_url: str = ""

    @property
    def abroad(self) -> bool:
        return self.country != UK

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["categories"] = list(self.categories)
        found["purposes"] = list(self.purposes)
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipient:
        return cls(
            **{
                **data,
                "categories": tuple(data.get("categories", ())),
                "purposes": tuple(data.get("purposes", ())),
            }
        )


def of_plugin(manifest: PluginManifest) -> Recipient | None:
    """A plugin's processor, with every category and purpose its operations send."""
    processor = manifest.processor
    if processor is None:
        return None  # its data never leaves the platform
    categories = sorted({c.value for use in manifest.data for c in use.categories})
    purposes = sorted({use.purpose for use in manifest.data})
    return Recipient(
        name=processor.legal_name,
        source=PLUGIN,
        role=manifest.title,
        country=processor.country,
        safeguard=processor.transfer_safeguard,
        categories=tuple(categories),
        purposes=tuple(purposes),
        policy_url=str(processor.privacy_policy_url),
    )


def of_infrastructure(processor: InfrastructureProcessor) -> Recipient:
    return Recipient(
        name=processor.legal_name,
        source=INFRASTRUCTURE,
        role="the platform's infrastructure",
        country=processor.country,
        safeguard=processor.transfer_safeguard,
        categories=tuple(sorted(processor.categories)),
        purposes=(processor.purpose,),
        policy_url=processor.privacy_policy_url,
    )


async def enabled_plugins(
    db: AsyncSession, tenant: TenantInfo, registry: Registry
) -> list[PluginManifest]:
    """The plugins the clinic has chosen, one per kind, each naming the processor its
    settings choose (the clinic's own SMTP relay) where it does, as the ledger names it."""
    found = []
    for kind in sorted(tenant.providers):
        manifest = registry.chosen(tenant, kind)  # type: ignore[arg-type]
        if manifest is None:
            continue
        # Not set up yet: nothing is sent, and the manifest says who would receive it.
        with contextlib.suppress(ProviderNotReady):
            manifest = (await registry.build(db, tenant, manifest.kind)).manifest
        found.append(manifest)
    return found


async def current(
    db: AsyncSession,
    *,
    plugins: Iterable[PluginManifest],
    infrastructure: Iterable[InfrastructureProcessor],
) -> list[Recipient]:
    """Every recipient as of now, in the order the notice lists them."""
    found: list[Recipient] = [of_infrastructure(p) for p in infrastructure]
    for manifest in plugins:
        recipient = of_plugin(manifest)
        if recipient is not None and recipient.name not in {r.name for r in found}:
            found.append(recipient)
    approved = await professionals.professionals_by_status(db, ProfessionalStatus.APPROVED)
    for pro in sorted(approved, key=lambda p: p.display_name):
        found.append(
            Recipient(
                name=pro.display_name,
                source=PROFESSIONAL,
                role=f"Professional ({pro.field_of_practice})",
                categories=("name", "appointment", "health"),
                purposes=("the consultations you book with them",),
            )
        )
    return found


@dataclass(frozen=True)
class Difference:
    """How today's recipients differ from those a published notice names."""

    added: list[Recipient]
    removed: list[Recipient]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def difference(published: Iterable[Recipient], now: Iterable[Recipient]) -> Difference:
    before = {(r.name, r.source): r for r in published}
    after = {(r.name, r.source): r for r in now}
    return Difference(
        added=[r for key, r in after.items() if key not in before or before[key] != r],
        removed=[r for key, r in before.items() if key not in after or after[key] != r],
    )
