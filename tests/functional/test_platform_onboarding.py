"""Operators onboard a clinic in the browser; its first admin is invited by a single-use link
and chooses their own credentials (the operator never holds them)."""

from __future__ import annotations

import email
import mailbox
import re
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from praxis.core.accounts.invitations import TOPIC, StaffInvitation
from praxis.core.accounts.models import User
from praxis.core.outbox import drain
from praxis.core.outbox.queue import OutboxJob
from praxis.core.plugins.settings import put_settings
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from praxis.tenants.services import tenant_by_slug
from tests.conftest import client_for
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import use_providers
from tests.support import PASSWORD, Clinic, csrf_in, login, make_operator, post_form

FORM = {
    "name": "North Clinic",
    "slug": "north",
    "timezone": "Europe/London",
    "admin_name": "Jo Admin",
    "admin_email": "jo@north.example",
    "domain": "",
    "legal_name": "North Clinic Ltd",
    "address": "1 High Street, Leeds LS1 1AA",
    "dpo_contact": "dpo@north.example",
    "ico_registration": "ZA123456",
    "email_plugin": "email_smtp",
}


@pytest.fixture
async def operator(app: Any, rt: Runtime) -> Any:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        await login(http, "ops", prefix="/platform")
        yield http


async def _tenants(rt: Runtime) -> int:
    async with rt.database.reading() as db:
        return int(await db.scalar(select(func.count()).select_from(Tenant)) or 0)


async def _north(rt: Runtime) -> TenantInfo:
    async with rt.database.reading() as db:
        row = await tenant_by_slug(db, "north")
        assert row is not None
        return TenantInfo.from_row(row)


async def _email_to_mailbox(rt: Runtime, tenant: TenantInfo, folder: Path) -> None:
    """The clinic's email settings, as its admin or the operator would complete them."""
    await use_providers(rt, tenant.id, {"email": "email_smtp"})
    async with rt.database.writing(tenant.id) as db:
        await put_settings(
            rt.provider_settings,
            db,
            tenant_id=tenant.id,
            plugin="email_smtp",
            model=rt.plugins.manifests["email_smtp"].settings_model,
            values={
                "from_address": "hello@north.example",
                "mailbox_dir": str(folder),
                "relay_company": "North Relay Ltd",
                "relay_privacy_policy_url": "https://relay.example/privacy",
            },
        )
        await db.commit()


def _mails(folder: Path) -> list[Message]:
    box = mailbox.Maildir(folder, create=True)
    return [email.message_from_bytes(box.get_bytes(key)) for key in sorted(box.keys())]


def _link(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    found = re.search(
        r"http://north\.localhost(/invitation\?token=[A-Za-z0-9_-]+)", payload.decode()
    )
    assert found, payload
    return found.group(1)


async def test_operator_onboards_a_clinic_and_its_first_admin_sets_their_own_password(
    app: Any, rt: Runtime, operator: httpx.AsyncClient, tmp_path: Path, caplog: Any
) -> None:
    page = await operator.get("/platform/tenants/new")
    assert page.status_code == 200 and 'name="slug"' in page.text
    made = await post_form(operator, "/platform/tenants/new", FORM)
    assert made.status_code == 303, made.text
    north = await _north(rt)
    assert made.headers["location"] == f"/platform/tenants/{north.id}"
    shown = await operator.get(made.headers["location"])
    assert "1 waiting to be accepted" in shown.text
    assert north.name == "North Clinic" and north.controller.ico_registration == "ZA123456"
    async with rt.database.reading(north.id) as db:
        invitation = await db.scalar(select(StaffInvitation))
        assert invitation is not None and invitation.role == "clinic_admin"
        assert invitation.invited_by.startswith("operator:")
        assert await db.scalar(select(func.count()).select_from(User)) == 0  # no account yet
    await _email_to_mailbox(rt, north, tmp_path)
    await drain(rt.jobs)
    (message,) = _mails(tmp_path)
    assert message["To"] == "jo@north.example"
    link = _link(message)
    token = link.split("token=")[1]
    async with rt.database.reading(north.id) as db:
        stored = await db.scalar(select(StaffInvitation))
        assert stored is not None and token not in stored.token_hash  # only its hash is kept
        jobs = list(await db.scalars(select(OutboxJob).where(OutboxJob.topic == TOPIC)))
        assert all(token not in str(job.payload) for job in jobs)
    assert token not in caplog.text
    async with client_for(app, "north.localhost") as jo:
        shown = await jo.get(link)
        assert shown.status_code == 200 and "Jo Admin" in shown.text
        check_page(shown.text, "/invitation")
        accepted = await jo.post(
            "/invitation",
            data={
                "csrf_token": csrf_in(shown.text),
                "token": token,
                "username": "jo.admin",
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        )
        assert accepted.status_code == 303, accepted.text
        await login(jo, "jo.admin")
        assert (await jo.get("/admin")).status_code == 200
        assert (
            "0 waiting to be accepted" in (await operator.get(f"/platform/tenants/{north.id}")).text
        )
        again = await jo.get(link)
        assert again.status_code == 410 and "expired or was already used" in again.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "North Clinic!", "lower-case letters"),
        ("slug", "platform", "reserved"),
        ("admin_email", "not-an-address", "valid email"),
        ("timezone", "Mars/Olympus", "IANA time zone"),
        ("ico_registration", "123", "ICO registration"),
        ("name", "", "required"),
        ("domain", "localhost", "domain name"),
        ("email_plugin", "payments_stripe", "email providers"),
    ],
)
async def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    rt: Runtime, operator: httpx.AsyncClient, field: str, value: str, message: str
) -> None:
    before = await _tenants(rt)
    answer = await post_form(
        operator, "/platform/tenants/new", FORM | {field: value}, page="/platform/tenants/new"
    )
    assert answer.status_code == 422
    assert f'id="f-{field}-error"' in answer.text and message in answer.text
    check_page(answer.text, "/platform/tenants/new")
    assert await _tenants(rt) == before


async def test_a_taken_slug_is_refused_and_nothing_is_saved(
    rt: Runtime, operator: httpx.AsyncClient, clinic: Clinic
) -> None:
    before = await _tenants(rt)
    answer = await post_form(operator, "/platform/tenants/new", FORM | {"slug": "alpha"})
    assert answer.status_code == 422 and "already exists" in answer.text
    assert await _tenants(rt) == before


async def test_only_an_operator_onboards_a_clinic(app: Any, rt: Runtime, clinic: Clinic) -> None:
    async with client_for(app, "localhost") as anonymous:
        assert (await anonymous.get("/platform/tenants/new")).status_code == 303
        refused = await anonymous.post("/platform/tenants/new", data=FORM)
        assert refused.status_code in (303, 400)  # signed out, or no CSRF token
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert (await admin.get("/platform/tenants/new")).status_code == 404
    assert await _tenants(rt) == 1
