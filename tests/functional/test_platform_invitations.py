"""Staff invitations: single-use, expiring, only hashed; the invitee sets their own password,
and their own authenticator where staff must use two-step sign-in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import func, select

from praxis.core.accounts import invitations
from praxis.core.accounts.models import Professional, User
from praxis.core.db import utcnow
from praxis.core.errors import InvalidInput
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, csrf_in, login

NEW = "sam.new"


async def _invite(rt: Runtime, clinic: Clinic, role: str = "clinic_admin", **extra: Any) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await invitations.invite(
            db,
            clinic.tenant,
            email="sam@alpha.example",
            full_name="Sam New",
            role=role,
            invited_by=f"user:{clinic.admin.id}",
            **extra,
        )
        await db.commit()


async def _link(providers: Providers) -> str:
    await providers.run_jobs()
    mails = [m for m in providers.mails() if m["To"] == "sam@alpha.example"]
    assert len(mails) == 1
    payload = mails[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.search(r"(/invitation\?token=[A-Za-z0-9_-]+)", payload.decode())
    assert found
    return found.group(1)


async def _accounts(rt: Runtime, clinic: Clinic) -> int:
    async with rt.database.reading(clinic.tenant.id) as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


def _answer(page: str, link: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_in(page),
        "token": link.split("token=")[1],
        "username": NEW,
        "password": PASSWORD,
        "confirm": PASSWORD,
        **fields,
    }


async def test_an_invited_professional_gets_a_pending_profile(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await _invite(rt, clinic, role="professional")
    link = await _link(providers)
    async with client_for(app, clinic.host) as sam:
        page = await sam.get(link)
        assert page.status_code == 200 and "Professional" in page.text
        done = await sam.post("/invitation", data=_answer(page.text, link))
        assert done.status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.scalar(select(User).where(User.username == NEW))
        assert user is not None and user.role == "professional"
        profile = await db.scalar(select(Professional).where(Professional.user_id == user.id))
        assert profile is not None and profile.status == "pending"
        spent = await db.scalar(select(invitations.StaffInvitation))
        assert spent is not None and spent.user_id == user.id and spent.used_at is not None
        assert spent.email == "" and spent.full_name == ""  # kept once only: on the account


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"username": "x"}, "username", "3 to 32 characters"),
        ({"username": "{admin}"}, "username", "taken"),
        ({"password": "short", "confirm": "short"}, "password", "at least 10"),
        ({"confirm": "something-else-entirely"}, "confirm", "differ"),
    ],
)
async def test_bad_answers_are_refused_on_the_field_and_no_account_is_made(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    fields: dict[str, str],
    where: str,
    message: str,
) -> None:
    await _invite(rt, clinic)
    link = await _link(providers)
    before = await _accounts(rt, clinic)
    async with client_for(app, clinic.host) as sam:
        page = await sam.get(link)
        given = {k: v.replace("{admin}", clinic.admin.username) for k, v in fields.items()}
        answer = await sam.post("/invitation", data=_answer(page.text, link, **given))
        assert answer.status_code == 422
        assert f'id="f-{where}-error"' in answer.text and message in answer.text
        again = await sam.get(link)
        assert again.status_code == 200  # the link still works: nothing was spent
    assert await _accounts(rt, clinic) == before


async def test_an_expired_link_answers_a_clear_page(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await _invite(rt, clinic, now=utcnow() - invitations.VALID_FOR + timedelta(minutes=1))
    link = await _link(providers)
    async with rt.database.writing(clinic.tenant.id) as db:
        row = await db.scalar(select(invitations.StaffInvitation))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
        await db.commit()
    async with client_for(app, clinic.host) as sam:
        page = await sam.get(link)
        assert page.status_code == 410 and "expired or was already used" in page.text
        before = await _accounts(rt, clinic)
        refused = await sam.post("/invitation", data=_answer((await sam.get("/login")).text, link))
        assert refused.status_code == 410
    assert await _accounts(rt, clinic) == before


async def test_a_made_up_link_answers_the_same_clear_page(app: Any, clinic: Clinic) -> None:
    async with client_for(app, clinic.host) as visitor:
        for link in ("/invitation", "/invitation?token=nothing-like-a-real-one"):
            page = await visitor.get(link)
            assert page.status_code == 410 and "expired or was already used" in page.text
            check_page(page.text, link)


async def test_the_invitation_service_refuses_bad_input(rt: Runtime, clinic: Clinic) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        with pytest.raises(InvalidInput) as bad:
            await invitations.invite(
                db, clinic.tenant, email="nope", full_name="", role="owner", invited_by="test"
            )
        assert set(bad.value.fields) == {"email"}
        with pytest.raises(InvalidInput) as worse:
            await invitations.invite(
                db, clinic.tenant, email="a@b.example", full_name="", role="owner", invited_by="t"
            )
        assert set(worse.value.fields) == {"full_name", "role"}


@pytest.mark.parametrize("settings_overrides", [{"STAFF_MFA_REQUIRED": True}], indirect=True)
async def test_where_two_step_is_required_the_invitee_sets_up_their_own_authenticator(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await _invite(rt, clinic)
    link = await _link(providers)
    before = await _accounts(rt, clinic)
    async with client_for(app, clinic.host) as sam:
        page = await sam.get(link)
        assert page.status_code == 200 and "<svg" in page.text
        check_page(page.text, "/invitation")
        offer = re.search(r'name="offer" value="([^"]+)"', page.text)
        secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page.text)
        assert offer and secret
        no_code = await sam.post("/invitation", data=_answer(page.text, link, offer=offer.group(1)))
        assert no_code.status_code == 422 and 'id="f-code-error"' in no_code.text
        assert await _accounts(rt, clinic) == before
        done = await sam.post(
            "/invitation",
            data=_answer(
                page.text,
                link,
                offer=offer.group(1),
                code=pyotp.TOTP(secret.group(1)).now(),
            ),
        )
        assert done.status_code == 303, done.text
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.scalar(select(User).where(User.username == NEW))
        assert user is not None and user.totp_enabled_at is not None and user.totp_secret
    async with client_for(app, clinic.host) as fresh:
        signed = await login(fresh, NEW)
        assert signed.headers["location"].startswith("/login/code")


async def test_the_invitation_page_only_exists_on_a_clinic_site(app: Any) -> None:
    async with client_for(app, "localhost") as platform:
        assert (await platform.get("/invitation?token=x")).status_code == 404


async def test_accepting_needs_the_form_token(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await _invite(rt, clinic)
    link = await _link(providers)
    before = await _accounts(rt, clinic)
    async with client_for(app, clinic.host) as sam:
        forged = await sam.post(
            "/invitation",
            data={
                "token": link.split("token=")[1],
                "username": NEW,
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        )
        assert forged.status_code == 400
    assert await _accounts(rt, clinic) == before
