"""Consents (core/consents/services.py): append-only records, the latest in force, each change
in the ledger with who acted; the defaults a person starts with; one channel's choice never
touching another's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from praxis.core.consents import services as consents
from praxis.core.consents.kinds import (
    MARKETING_EMAIL,
    MARKETING_SMS,
    SERVICE_SMS,
    Method,
)
from praxis.core.consents.models import ConsentRecord
from praxis.core.db import utcnow
from praxis.core.runtime import Runtime
from tests.functional.flows import CONSUMER_PHONE, events
from tests.support import Clinic


async def _record(rt: Runtime, clinic: Clinic, kind, whose, given, *, minutes=0, **extra):  # type: ignore[no-untyped-def]
    async with rt.database.writing(clinic.tenant.id) as db:
        changed = await consents.record(
            db,
            kind,
            whose,
            given=given,
            method=extra.pop("method", Method.PORTAL),
            clinic=clinic.tenant.name,
            now=utcnow() + timedelta(minutes=minutes),
            **extra,
        )
        await db.commit()
    return changed


async def _allows(rt: Runtime, clinic: Clinic, kind, whose) -> bool:  # type: ignore[no-untyped-def]
    async with rt.database.reading(clinic.tenant.id) as db:
        return await consents.allows(db, kind, whose)


async def test_before_any_choice_service_messages_go_and_marketing_does_not(
    rt: Runtime, clinic: Clinic
) -> None:
    me = consents.Whose(clinic.consumer.id, CONSUMER_PHONE)
    assert await _allows(rt, clinic, SERVICE_SMS, me) is True
    assert await _allows(rt, clinic, MARKETING_SMS, me) is False
    assert await _allows(rt, clinic, MARKETING_EMAIL, consents.Whose(clinic.consumer.id)) is False


@pytest.mark.promise("P35")
async def test_records_are_only_added_and_the_latest_is_in_force(
    rt: Runtime, clinic: Clinic
) -> None:
    me = consents.Whose(clinic.consumer.id, "alpha@example.org")
    assert await _record(rt, clinic, MARKETING_EMAIL, me, True, minutes=1)
    assert await _allows(rt, clinic, MARKETING_EMAIL, me) is True
    assert await _record(rt, clinic, MARKETING_EMAIL, me, False, minutes=2)
    assert await _allows(rt, clinic, MARKETING_EMAIL, me) is False
    # Withdrawing twice adds nothing: it was not a change.
    assert not await _record(rt, clinic, MARKETING_EMAIL, me, False, minutes=3)
    async with rt.database.reading(clinic.tenant.id) as db:
        kept = await db.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        assert [(r.given, r.method) for r in kept] == [(True, "portal"), (False, "portal")]
    ledger_rows = [e for e in await events(rt, clinic) if e.kind == "consent"]
    assert [(e.operation, e.subject_id) for e in ledger_rows] == [
        ("marketing_email_opt_in", clinic.consumer.id),
        ("marketing_email_opt_out", clinic.consumer.id),
    ]


@pytest.mark.promise("P17")
async def test_one_channels_choice_leaves_the_other_as_it_was(rt: Runtime, clinic: Clinic) -> None:
    me = consents.Whose(clinic.consumer.id)
    await _record(rt, clinic, MARKETING_EMAIL, me, True, minutes=1)
    await _record(rt, clinic, MARKETING_SMS, me, True, minutes=1)
    await _record(rt, clinic, MARKETING_SMS, me, False, minutes=2)
    assert await _allows(rt, clinic, MARKETING_EMAIL, me) is True
    assert await _allows(rt, clinic, MARKETING_SMS, me) is False
    async with rt.database.reading(clinic.tenant.id) as db:
        people = [(clinic.consumer.id, CONSUMER_PHONE)]
        assert await consents.given_by(db, MARKETING_SMS, people) == []
        assert await consents.given_by(db, MARKETING_EMAIL, people) == [clinic.consumer.id]


@pytest.mark.promise("P18")
async def test_a_stop_from_the_number_counts_for_the_account_that_holds_it(
    rt: Runtime, clinic: Clinic
) -> None:
    """A withdrawal by number (a STOP) and one by account are the same person's choice:
    whichever is later is in force."""
    account = consents.Whose(clinic.consumer.id)
    await _record(rt, clinic, MARKETING_SMS, account, True, minutes=1)
    number = consents.Whose(None, CONSUMER_PHONE)
    await _record(rt, clinic, MARKETING_SMS, number, False, minutes=2, method=Method.SMS_KEYWORD)
    both = consents.Whose(clinic.consumer.id, CONSUMER_PHONE)
    assert await _allows(rt, clinic, MARKETING_SMS, both) is False
    async with rt.database.reading(clinic.tenant.id) as db:
        people = [(clinic.consumer.id, CONSUMER_PHONE)]
        assert await consents.given_by(db, MARKETING_SMS, people) == []


async def test_who_acted_and_the_notice_in_force_are_kept(rt: Runtime, clinic: Clinic) -> None:
    me = consents.Whose(clinic.consumer.id)
    await _record(
        rt,
        clinic,
        MARKETING_EMAIL,
        me,
        True,
        method=Method.STAFF_WRITTEN_REQUEST,
        actor_id=clinic.admin.id,
        notice_version=3,
    )
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(ConsentRecord))
        assert row is not None
        assert (row.actor_id, row.notice_version, row.method) == (
            clinic.admin.id,
            3,
            "staff_written_request",
        )
        assert await db.scalar(select(func.count()).select_from(ConsentRecord)) == 1


async def test_a_consent_must_be_about_someone(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.reading(clinic.tenant.id) as db:
        with pytest.raises(ValueError, match="about an account"):
            await consents.allows(db, MARKETING_SMS, consents.Whose())
