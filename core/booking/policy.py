"""The clinic's booking policy, as booking applies it: paying, holding, cancelling, moving;
in words for patients where they decide; and as its admins edit it (Booking policy page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core import ledger
from praxis.core.accounts.fields import field_messages
from praxis.core.errors import InvalidInput, NotFound
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from praxis.tenants.schema import BookingPolicy

HOLD_MARGIN = timedelta(minutes=5)  # the time stays held a little past the checkout's expiry
POLICY_CHANGED = "booking_policy"  # the ledger's operation for a change of policy

# The admin page's fields, in order, with the labels a clinic recognises.
FIELD_LABELS = {
    "cancellation_window_hours": "Patients may cancel or move online until (hours before)",
    "minimum_notice_hours": "Minimum notice for a booking (hours)",
    "horizon_days": "Patients may book up to (days ahead)",
    "buffer_minutes": "Gap between consultations (minutes)",
    "payment_hold_minutes": "Hold a time while the patient pays (minutes)",
    "full_refund_hours": "Full refund when cancelled at least (hours before)",
    "late_refund_percent": "Refund for a later cancellation (percent)",
    "reminder_hours_before": "Send reminders (hours before; 0 for none)",
    "in_person_address": "Where in-person consultations take place",
}


def takes_payment(tenant: TenantInfo, price_minor: int) -> bool:
    """A priced consultation is paid online when the clinic has chosen a payments provider."""
    return price_minor > 0 and bool(tenant.providers.get("payments"))


def hold_until(tenant: TenantInfo, now: datetime) -> datetime:
    """How long a time is held for a consumer who has yet to pay."""
    return now + timedelta(minutes=tenant.booking.payment_hold_minutes) + HOLD_MARGIN


def refund_due(
    tenant: TenantInfo, starts_at: datetime, paid: int, *, now: datetime, by_clinic: bool
) -> int:
    """What the clinic's cancellation policy gives back (always all of it if the clinic cancels)."""
    if by_clinic or now <= full_refund_until(tenant, starts_at):
        return paid
    return paid * tenant.booking.late_refund_percent // 100


def full_refund_until(tenant: TenantInfo, starts_at: datetime) -> datetime:
    return starts_at - timedelta(hours=tenant.booking.full_refund_hours)


def changeable_until(tenant: TenantInfo, starts_at: datetime) -> datetime:
    """The last moment a patient may cancel or move the appointment online."""
    return starts_at - timedelta(hours=tenant.booking.cancellation_window_hours)


def where(tenant: TenantInfo) -> str:
    """The address of in-person consultations: the clinic's own, or its registered one."""
    return tenant.booking.in_person_address or tenant.controller.address


@dataclass(frozen=True)
class Terms:
    """The policy for one appointment, as the review step and the cancel page show it."""

    change_until: datetime  # cancel or move online until then
    full_refund_until: datetime
    late_refund_percent: int
    priced: bool


def terms(tenant: TenantInfo, starts_at: datetime, price_minor: int) -> Terms:
    return Terms(
        change_until=changeable_until(tenant, starts_at),
        full_refund_until=full_refund_until(tenant, starts_at),
        late_refund_percent=tenant.booking.late_refund_percent,
        priced=price_minor > 0,
    )


# --- the admin's page -----------------------------------------------------------------------


def values(policy: BookingPolicy) -> dict[str, str]:
    return {name: str(value) for name, value in policy.model_dump(mode="json").items()}


def read_form(form: Mapping[str, str]) -> BookingPolicy:
    """Validate the submitted page into a policy, or raise InvalidInput naming each bad field."""
    typed: dict[str, Any] = {name: form.get(name, "").strip() for name in FIELD_LABELS}
    try:
        policy = BookingPolicy.model_validate(typed)
    except ValidationError as exc:
        raise InvalidInput(field_messages(exc)) from None
    return policy


async def save(db: AsyncSession, tenant_id: Any, wanted: BookingPolicy, *, actor: Any) -> list[str]:
    """Store the policy; the ledger names each changed setting. Returns the changed names
    (none: nothing written). The caller commits."""
    row = await db.get(Tenant, tenant_id)
    if row is None:
        raise NotFound()
    before = BookingPolicy.model_validate(row.booking).model_dump(mode="json")
    after = wanted.model_dump(mode="json")
    changed = sorted(name for name in after if before.get(name) != after[name])
    if not changed:
        return []
    row.booking = after
    await ledger.append(
        db,
        Entry(
            kind=EventKind.POLICY,
            status=Status.RECORDED,
            recipient=row.name[:200],
            recipient_kind=RecipientKind.OTHER,
            operation=POLICY_CHANGED,
            categories=[],
            purpose="the clinic's booking policy changed",
            legal_basis="accountability (UK GDPR Art. 5(2))",
            actor_id=actor,
            reason="changed: " + ", ".join(changed),
        ),
    )
    return changed
