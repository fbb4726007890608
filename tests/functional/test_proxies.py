"""Parents and carers (P26): only after clinic staff record that they checked the authority
may someone manage another person's consents and correct their details; every change shows
who acted for whom; an ended authority stops at once."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import update

from praxis.core.accounts.models import User
from praxis.core.runtime import Runtime
from tests.functional.flows import events, signed_in
from tests.functional.test_consents import state_of
from tests.support import PASSWORD, Clinic, make_consumer, post_form

CHECKED = "birth certificate seen at reception"


async def record_authority(admin: Any, carer: str, person: str, **extra: str) -> Any:
    form = {
        "proxy": carer,
        "person": person,
        "relationship": "parent",
        "checked_how": CHECKED,
        **extra,
    }
    return await post_form(admin, "/admin/proxies", form)


@pytest.mark.promise("P26")
async def test_a_parent_acts_only_after_staff_checked_the_authority_and_is_named_for_it(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    parent = await make_consumer(rt, clinic.tenant, "parent")
    child = clinic.consumer
    theirs = f"/account/privacy/for/{child.id}"
    carer = await signed_in(app, clinic, parent.username)
    assert (await carer.get(theirs)).status_code == 404  # no authority yet
    form = {"consent": "marketing.email", "give": "yes"}
    assert (await post_form(carer, theirs, form, page="/account/privacy")).status_code == 404

    admin = await signed_in(app, clinic, clinic.admin.username)
    recorded = await record_authority(admin, parent.username, child.username)
    assert recorded.status_code == 303
    listed = html.unescape((await admin.get("/admin/proxies")).text)
    assert CHECKED in listed and "Parent or guardian" in listed

    own = (await carer.get("/account/privacy")).text
    assert f'href="{theirs}"' in own
    page = await carer.get(theirs)
    assert page.status_code == 200
    assert state_of(page.text, "News and offers by email") == "Not given"
    changed = await post_form(carer, theirs, form)
    assert changed.status_code == 303 and changed.headers["location"] == theirs
    assert state_of((await carer.get(theirs)).text, "News and offers by email") == "Given"

    # The person sees who acted for them; the ledger says who acted for whom.
    child_client = await signed_in(app, clinic, child.username)
    mine = html.unescape((await child_client.get("/account/privacy")).text)
    assert state_of(mine, "News and offers by email") == "Given"
    assert "by Parent Example on your behalf" in mine
    found = await events(rt, clinic)
    (granted,) = [e for e in found if e.operation == "proxy_authority_recorded"]
    assert (granted.subject_id, granted.recipient_id, granted.actor_id) == (
        child.id,
        parent.id,
        clinic.admin.id,
    )
    (consent,) = [e for e in found if e.operation == "marketing_email_opt_in"]
    assert (consent.subject_id, consent.actor_id) == (child.id, parent.id)
    # Their own consents are untouched by what they did for the child.
    assert state_of(own, "News and offers by email") == "Not given"


@pytest.mark.promise("P26")
async def test_an_ended_authority_stops_at_once(app: Any, rt: Runtime, clinic: Clinic) -> None:
    parent = await make_consumer(rt, clinic.tenant, "carer")
    admin = await signed_in(app, clinic, clinic.admin.username)
    await record_authority(admin, parent.username, clinic.consumer.username, relationship="carer")
    page = (await admin.get("/admin/proxies")).text
    end = page.split('action="/admin/proxies/', 1)[1].split('"', 1)[0]
    ended = await post_form(admin, f"/admin/proxies/{end}", {}, page="/admin/proxies")
    assert ended.status_code == 303
    assert "No one acts for anyone else." in (await admin.get("/admin/proxies")).text
    carer = await signed_in(app, clinic, parent.username)
    assert (await carer.get(f"/account/privacy/for/{clinic.consumer.id}")).status_code == 404
    again = await post_form(admin, f"/admin/proxies/{end}", {}, page="/admin/proxies")
    assert again.status_code == 404
    assert "proxy_authority_ended" in [e.operation for e in await events(rt, clinic)]


async def test_a_wrong_authority_names_each_field_and_records_nothing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    before = await events(rt, clinic)
    unknown = await record_authority(admin, "nobody", "noone", checked_how="")
    assert unknown.status_code == 422
    assert "How you checked it" in unknown.text
    unknown = await record_authority(admin, "nobody", "noone")
    assert unknown.text.count("No consumer of this clinic has this username.") >= 2
    itself = await record_authority(admin, clinic.consumer.username, clinic.consumer.username)
    assert itself.status_code == 422 and "cannot act on their own behalf" in itself.text
    staff = await record_authority(admin, clinic.admin.username, clinic.consumer.username)
    assert staff.status_code == 422  # staff accounts are not consumers
    assert await events(rt, clinic) == before
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    assert (await consumer.get("/admin/proxies")).status_code == 403


@pytest.mark.promise("P26")
async def test_a_parent_corrects_the_childs_details_and_the_ledger_names_them(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    parent = await make_consumer(rt, clinic.tenant, "parent")
    child = clinic.consumer
    theirs = f"/account/details/for/{child.id}"
    carer = await signed_in(app, clinic, parent.username)
    assert (await carer.get(theirs)).status_code == 404  # no authority yet
    admin = await signed_in(app, clinic, clinic.admin.username)
    await record_authority(admin, parent.username, child.username)
    async with rt.database.writing(clinic.tenant.id) as db:  # only the parent's password works
        await db.execute(update(User).where(User.id == child.id).values(password_hash="!"))
        await db.commit()

    assert f'href="{theirs}"' in (await carer.get(f"/account/privacy/for/{child.id}")).text
    page = await carer.get(theirs)
    assert page.status_code == 200 and "Correct the details of" in page.text
    form = {
        "full_name": "Child Example",
        "email": f"{child.username}@example.org",
        "phone": "07911 123499",
        "address_line1": "1 High Street",
        "town": "London",
        "postcode": "SW1A 1AA",
    }
    wrong = await post_form(carer, theirs, form | {"current_password": "not-it"})
    assert wrong.status_code == 422 and "current password" in wrong.text
    done = await post_form(carer, theirs, form | {"current_password": PASSWORD})
    assert done.status_code == 303, re.findall(r"class=\"error\"[^>]*>([^<]+)", done.text)
    async with rt.database.reading(clinic.tenant.id) as db:
        corrected = await db.get(User, (clinic.tenant.id, child.id))
    assert corrected is not None and corrected.phone == "+447911123499"
    (entry,) = [e for e in await events(rt, clinic) if e.operation == "rectification"]
    assert (entry.subject_id, entry.actor_id) == (child.id, parent.id)
    assert "on the person's behalf" in entry.reason and "123499" not in entry.reason
    # Someone they do not act for stays out of reach.
    stranger = await make_consumer(rt, clinic.tenant, "stranger")
    assert (await carer.get(f"/account/details/for/{stranger.id}")).status_code == 404
