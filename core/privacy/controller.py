"""The clinic as data controller, edited by its admins in the browser: who it is, how to reach
its data protection contact, where to complain, how long it keeps data, and whether it counts
visits to its portal (analytics cookies, P08). Every change goes into the ledger naming the
fields changed, never their values (P36, P28)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.fields import field_messages
from praxis.core.accounts.models import User
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.tenants.models import Tenant
from praxis.tenants.schema import Controller, Retention

CONTROLLER_FIELDS = tuple(Controller.model_fields)
COUNT_VISITS = "count_visits"  # a checkbox: present when ticked
RETENTION_FIELDS = tuple(Retention.model_fields)
FIELD_LABELS = {
    "legal_name": "Legal name",
    "registered_number": "Registered company or charity number",
    "address": "Registered address",
    "dpo_contact": "Data protection contact (email)",
    "ico_registration": "ICO registration number",
    "complaints_route": "Where to complain",
    "closed_account_months": "Keep a closed account's data for (months)",
    "tenant_exit_months": "Keep the clinic's data after it leaves Praxis for (months)",
    "billing_years": "Keep billing records for (years)",
    COUNT_VISITS: "Count visits to the portal (analytics cookies)",
}
SETTINGS_CHANGED = "privacy_settings"  # the ledger's operation for a change made here


@dataclass(frozen=True)
class PrivacySettings:
    """What the form shows and saves: the controller details, the retention periods, and
    whether visits are counted (off unless the clinic turns it on)."""

    controller: Controller
    retention: Retention
    count_visits: bool = False

    def values(self) -> dict[str, str]:
        """The form's values, as text (a ticked box is "on", an unticked one absent)."""
        found: dict[str, Any] = {
            **self.controller.model_dump(mode="json"),
            **self.retention.model_dump(mode="json"),
        }
        shown = {name: "" if value is None else str(value) for name, value in found.items()}
        if self.count_visits:
            shown[COUNT_VISITS] = "on"
        return shown

    def as_stored(self) -> dict[str, Any]:
        """Every setting by name, as the ledger's comparison and the notice's snapshot see it."""
        return {
            **self.controller.model_dump(mode="json"),
            **self.retention.model_dump(mode="json"),
            COUNT_VISITS: self.count_visits,
        }


def _part(model: type[BaseModel], data: Mapping[str, Any], errors: dict[str, str]) -> Any:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        errors.update(field_messages(exc))
        return None


def read_form(form: Mapping[str, str]) -> PrivacySettings:
    """Validate a submitted form into settings, or raise InvalidInput naming each bad field."""
    typed = {name: form.get(name, "").strip() for name in (*CONTROLLER_FIELDS, *RETENTION_FIELDS)}
    controller_data: dict[str, Any] = {name: typed[name] for name in CONTROLLER_FIELDS}
    controller_data["registered_number"] = controller_data["registered_number"] or None
    errors: dict[str, str] = {}
    controller = _part(Controller, controller_data, errors)
    retention = _part(Retention, {name: typed[name] for name in RETENTION_FIELDS}, errors)
    if errors:
        raise InvalidInput(errors)
    return PrivacySettings(controller, retention, count_visits=COUNT_VISITS in form)


async def current(db: AsyncSession, tenant_id: Any) -> PrivacySettings:
    row = await db.get(Tenant, tenant_id)
    if row is None:
        raise NotFound()
    return PrivacySettings(
        Controller.model_validate(row.controller),
        Retention.model_validate(row.retention),
        count_visits=bool(row.count_visits),
    )


async def save(
    db: AsyncSession, tenant_id: Any, wanted: PrivacySettings, *, actor: User
) -> list[str]:
    """Store the settings; the ledger names each changed field (not its value). Returns the
    changed field names (none: nothing written). The caller commits."""
    row = await db.get(Tenant, tenant_id)
    if row is None:
        raise NotFound()
    before = {**row.controller, **row.retention, COUNT_VISITS: bool(row.count_visits)}
    after = wanted.as_stored()
    changed = sorted(name for name in after if before.get(name) != after[name])
    if not changed:
        return []
    row.controller = wanted.controller.model_dump(mode="json")
    row.retention = wanted.retention.model_dump(mode="json")
    row.count_visits = wanted.count_visits
    await ledger.append(
        db,
        Entry(
            kind=EventKind.POLICY,
            status=Status.RECORDED,
            recipient=wanted.controller.legal_name[:200],
            recipient_kind=RecipientKind.OTHER,
            operation=SETTINGS_CHANGED,
            categories=[],
            purpose="the clinic's privacy settings changed",
            legal_basis="accountability (UK GDPR Art. 5(2))",
            actor_id=actor.id,
            reason="changed: " + ", ".join(changed),
        ),
    )
    return changed
