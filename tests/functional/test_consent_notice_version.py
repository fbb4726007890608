"""Every consent record keeps the version of the clinic's privacy notice in force when the
choice was made (P35): what the person had been told is part of the record."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.consents import subscribers
from praxis.core.consents.models import ConsentRecord
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import signed_in
from tests.functional.test_privacy_notice import publish
from tests.support import Clinic, post_form


async def versions(rt: Runtime, clinic: Clinic) -> list[tuple[str, bool, int | None]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(ConsentRecord).order_by(ConsentRecord.recorded_at))
        return [(f"{r.purpose}.{r.channel}", r.given, r.notice_version) for r in rows]


@pytest.mark.promise("P35")
async def test_each_consent_records_the_notice_version_in_force_when_it_was_given(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    form = {"consent": "marketing.email", "give": "yes"}
    assert (await post_form(consumer, "/account/privacy", form)).status_code == 303

    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await publish(admin)).status_code == 303  # version 1, in force today
    form = {"consent": "marketing.sms", "give": "yes"}
    assert (await post_form(consumer, "/account/privacy", form)).status_code == 303
    objected = await post_form(consumer, "/account/privacy/object", {}, page="/account/privacy")
    assert objected.status_code == 303

    assert await versions(rt, clinic) == [
        ("marketing.email", True, None),  # before the clinic had published a notice
        ("marketing.sms", True, 1),
        ("marketing.sms", False, 1),
        ("marketing.email", False, 1),
    ]


@pytest.mark.promise("P35")
async def test_a_news_sign_up_without_an_account_records_the_notice_version_too(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await publish(admin)).status_code == 303
    visitor = client_for(app, clinic.host)
    form = {"phone": "07400 123456", "by_sms": "yes"}
    assert (await post_form(visitor, "/news", form)).status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        person = await db.scalar(select(subscribers.Subscriber.id))
    assert person is not None
    sealed = subscribers.token(rt.keyring, clinic.tenant.id, person, "confirm_sms")
    confirm = f"/news/confirm/{sealed}"  # the link texted to the number
    assert (await post_form(visitor, confirm, {}, page=confirm)).status_code == 303
    assert await versions(rt, clinic) == [("marketing.sms", True, 1)]
