"""The clinic's booking policy, as booking applies it: paying, holding, cancelling."""

from __future__ import annotations

from datetime import datetime, timedelta

from praxis.tenants.directory import TenantInfo

HOLD_MARGIN = timedelta(minutes=5)  # the time stays held a little past the checkout's expiry


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
    if by_clinic or now <= starts_at - timedelta(hours=tenant.booking.full_refund_hours):
        return paid
    return paid * tenant.booking.late_refund_percent // 100
