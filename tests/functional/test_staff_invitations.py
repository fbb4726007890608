"""Issue 11: invitations an admin manages (send again, cancel), expired ones deleted by the
retention run, and someone removed invited back to choose new credentials."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import func, select

from praxis.core.accounts import invitations, staff_log
from praxis.core.accounts import staff as people
from praxis.core.accounts.invitations import StaffInvitation
from praxis.core.accounts.models import Professional, Role, User
from praxis.core.db import utcnow
from praxis.core.ledger import EventKind, LedgerEvent
from praxis.core.privacy import retention
from praxis.core.runtime import Runtime
from praxis.core.web.rendering import Clock
from tests.conftest import client_for
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, csrf_in, login, post_form

NEW_PASSWORD = "a-brand-new-passphrase"
DESK = {"full_name": "Desk Person", "email": "desk@example.org", "role": "front_desk"}


async def _links(providers: Providers, to: str) -> list[str]:
    """The invitation links emailed to ``to``, oldest first."""
    await providers.run_jobs()
    found = []
    for mail in providers.mails():
        if mail["To"] != to:
            continue
        payload = mail.get_payload(decode=True)
        assert isinstance(payload, bytes)
        link = re.search(r"(/invitation\?token=[A-Za-z0-9_-]+)", payload.decode())
        assert link
        found.append(link.group(1))
    return found


async def _invite(admin: httpx.AsyncClient, form: dict[str, str] = DESK) -> httpx.Response:
    return await post_form(admin, "/admin/staff/invite", form, page="/admin/staff")


async def _waiting(rt: Runtime, clinic: Clinic) -> list[StaffInvitation]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(StaffInvitation).where(StaffInvitation.used_at.is_(None))
        return list(await db.scalars(query))


async def _staff_entries(rt: Runtime, clinic: Clinic, operation: str) -> list[LedgerEvent]:
    async with rt.database.reading(clinic.tenant.id) as db:
        query = select(LedgerEvent).where(
            LedgerEvent.kind == EventKind.STAFF.value, LedgerEvent.operation == operation
        )
        return list(await db.scalars(query.order_by(LedgerEvent.seq)))


async def _accounts(rt: Runtime, clinic: Clinic) -> int:
    async with rt.database.reading(clinic.tenant.id) as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def _account(rt: Runtime, clinic: Clinic, person_id: uuid.UUID) -> User:
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, person_id))
        assert user is not None
        return user


async def _post(admin: httpx.AsyncClient, path: str, page: str = "/admin/staff") -> httpx.Response:
    return await admin.post(path, data={"csrf_token": csrf_in((await admin.get(page)).text)})


def _accept(page: str, link: str, **fields: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_in(page),
        "token": link.split("token=")[1],
        "username": "desk.person",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        **fields,
    }


# --- invitations waiting to be accepted -------------------------------------------------------


async def test_waiting_invitations_are_listed_with_roles_and_dates(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert "No invitation is waiting." in (await admin.get("/admin/staff")).text
        assert (await _invite(admin)).status_code == 303
        page = await admin.get("/admin/staff")
    check_page(page.text, "/admin/staff")
    [row] = await _waiting(rt, clinic)
    waiting = page.text.split('id="h-waiting"')[1]
    clock = Clock(clinic.tenant)
    for shown in (
        "Desk Person",
        "desk@example.org",
        "front desk",
        clock.when(row.created_at),
        clock.when(row.expires_at),
        f'action="/admin/staff/invitations/{row.id}/send-again"',
        f'action="/admin/staff/invitations/{row.id}/cancel"',
    ):
        assert shown in waiting, shown
    assert row.expires_at - row.created_at == invitations.VALID_FOR
    [invited] = await _staff_entries(rt, clinic, staff_log.INVITED)
    assert invited.actor_id == clinic.admin.id and invited.correlation_id == f"invitation:{row.id}"
    assert "desk@example.org" not in invited.reason  # the ledger keeps no address


async def test_send_again_emails_a_new_link_with_the_same_role_and_the_old_one_stops(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await _invite(admin, {**DESK, "role": "professional"})
        [first] = await _links(providers, "desk@example.org")
        [old] = await _waiting(rt, clinic)
        again = await _post(admin, f"/admin/staff/invitations/{old.id}/send-again")
        assert again.status_code == 303 and again.headers["location"] == "/admin/staff"
        notice = await admin.get("/admin/staff")
        assert "no longer works" in notice.text
    first_link, second = await _links(providers, "desk@example.org")
    assert first_link == first and second != first
    [new] = await _waiting(rt, clinic)
    assert new.id != old.id and new.role == "professional" and new.email == old.email
    assert new.invited_by == f"user:{clinic.admin.id}"
    async with client_for(app, clinic.host) as invitee:
        assert (await invitee.get(first)).status_code == 410
        page = await invitee.get(second)
        assert page.status_code == 200 and "Professional" in page.text
        joined = await invitee.post("/invitation", data=_accept(page.text, second))
        assert joined.status_code == 303
    [entry] = await _staff_entries(rt, clinic, staff_log.SENT_AGAIN)
    assert entry.actor_id == clinic.admin.id and entry.correlation_id == f"invitation:{new.id}"
    assert str(old.id) in entry.reason


async def test_cancelling_stops_the_link_and_leaves_no_account(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    before = await _accounts(rt, clinic)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await _invite(admin)
        [link] = await _links(providers, "desk@example.org")
        [row] = await _waiting(rt, clinic)
        cancelled = await _post(admin, f"/admin/staff/invitations/{row.id}/cancel")
        assert cancelled.status_code == 303
        assert "was cancelled" in (await admin.get("/admin/staff")).text
    async with client_for(app, clinic.host) as invitee:
        assert (await invitee.get(link)).status_code == 410
        login_page = (await invitee.get("/login")).text
        refused = await invitee.post("/invitation", data=_accept(login_page, link))
        assert refused.status_code == 410
    assert await _waiting(rt, clinic) == []
    assert await _accounts(rt, clinic) == before
    [entry] = await _staff_entries(rt, clinic, staff_log.CANCELLED)
    assert entry.actor_id == clinic.admin.id and entry.correlation_id == f"invitation:{row.id}"


async def test_an_accepted_unknown_or_other_clinics_invitation_is_not_found(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    async with client_for(app, other_clinic.host) as theirs:
        await login(theirs, other_clinic.admin.username)
        await _invite(theirs)
    [foreign] = await _waiting(rt, other_clinic)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await _invite(admin, {**DESK, "email": "used@example.org"})
        [link] = await _links(providers, "used@example.org")
        async with client_for(app, clinic.host) as invitee:
            page = await invitee.get(link)
            joined = await invitee.post("/invitation", data=_accept(page.text, link))
            assert joined.status_code == 303
        async with rt.database.reading(clinic.tenant.id) as db:
            used = await db.scalar(
                select(StaffInvitation.id).where(StaffInvitation.used_at.is_not(None))
            )
        assert used is not None
        for some_id in (foreign.id, used, uuid.uuid4()):
            for action in ("send-again", "cancel"):
                answer = await _post(admin, f"/admin/staff/invitations/{some_id}/{action}")
                assert answer.status_code == 404, (some_id, action)
                assert "accepted or cancelled meanwhile" in answer.text
    assert [r.id for r in await _waiting(rt, other_clinic)] == [foreign.id]
    assert await _staff_entries(rt, clinic, staff_log.SENT_AGAIN) == []
    assert await _staff_entries(rt, clinic, staff_log.CANCELLED) == []


async def test_send_again_and_cancel_need_the_form_token(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await _invite(admin)
        [row] = await _waiting(rt, clinic)
        for action in ("send-again", "cancel"):
            forged = await admin.post(f"/admin/staff/invitations/{row.id}/{action}")
            assert forged.status_code == 400, action
    assert [r.id for r in await _waiting(rt, clinic)] == [row.id]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("{admin}@example.org", "already works here"),
        ("{professional}@example.org", "who was removed"),
        ("desk@example.org", "An invitation to this address is waiting"),
    ],
)
async def test_an_address_on_the_staff_or_already_invited_is_refused_on_the_field(
    app: Any, rt: Runtime, clinic: Clinic, email: str, message: str
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await _invite(admin)
        page = f"/admin/staff/{clinic.professional.id}"
        assert (await post_form(admin, f"{page}/remove", {}, page=page)).status_code == 303
        address = email.format(
            admin=clinic.admin.username, professional=clinic.professional.username
        )
        before = await _waiting(rt, clinic)
        refused = await _invite(admin, {**DESK, "full_name": "Someone", "email": address})
    assert refused.status_code == 422
    assert 'href="#f-email"' in refused.text and message in refused.text
    assert len(await _waiting(rt, clinic)) == len(before)


# --- expired invitations go with the retention run ------------------------------------------


async def test_the_retention_run_deletes_invitations_past_their_expiry_only(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    now = utcnow()
    async with rt.database.writing(clinic.tenant.id) as db:
        admin = await people.member(db, clinic.admin.id)
        for email, sent in (
            ("late@example.org", now - invitations.VALID_FOR - timedelta(minutes=1)),
            ("fresh@example.org", now - timedelta(days=1)),
        ):
            await invitations.invite(
                db,
                clinic.tenant,
                email=email,
                full_name="Some One",
                role="front_desk",
                invited_by=f"user:{admin.id}",
                now=sent,
            )
        await people.remove(db, clinic.professional.id, by=admin)
        await people.invite_back(
            db, clinic.tenant, clinic.professional.id, by=admin, now=now - timedelta(days=8)
        )
        accepted = await invitations.invite(
            db,
            clinic.tenant,
            email="joined@example.org",
            full_name="Joined",
            role="front_desk",
            invited_by="test",
            now=now - timedelta(days=30),
        )
        accepted.used_at = now - timedelta(days=29)
        await db.commit()
    before = await _accounts(rt, clinic)
    async with rt.database.writing(clinic.tenant.id) as db:
        dry = await retention.run(db, clinic.tenant, now=now, dry_run=True)
    assert dry.invitations_deleted == 2 and len(await _waiting(rt, clinic)) == 3
    async with rt.database.writing(clinic.tenant.id) as db:
        report = await retention.run(db, clinic.tenant, now=now)
    assert report.invitations_deleted == 2
    assert "staff invitations expired without being accepted: 2" in "\n".join(report.lines())
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(StaffInvitation))
        kept = {(r.email, r.used_at is not None) for r in rows}
    assert kept == {("fresh@example.org", False), ("joined@example.org", True)}
    assert await _accounts(rt, clinic) == before  # the account invited back stays, removed
    assert not (await _account(rt, clinic, clinic.professional.id)).is_active
    async with rt.database.writing(clinic.tenant.id) as db:
        assert (await retention.run(db, clinic.tenant, now=now)).invitations_deleted == 0
    async with rt.database.reading(clinic.tenant.id) as db:
        summary = await db.scalar(
            select(LedgerEvent.reason)
            .where(LedgerEvent.operation == "retention_run")
            .order_by(LedgerEvent.seq)
            .limit(1)
        )
    assert summary is not None and "2 expired staff invitations deleted" in summary


async def test_the_retention_page_shows_invitations_the_next_run_deletes(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await invitations.invite(
            db,
            clinic.tenant,
            email="late@example.org",
            full_name="Late One",
            role="front_desk",
            invited_by="test",
            now=utcnow() - invitations.VALID_FOR - timedelta(hours=1),
        )
        await db.commit()
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = await admin.get("/admin/retention")
        staff = await admin.get("/admin/staff")
    assert "Expired staff invitations to delete: 1" in page.text
    assert "Staff invitations" in page.text
    assert "Expired on" in staff.text.split('id="h-waiting"')[1]  # still shown: may be sent again


# --- inviting back someone removed ----------------------------------------------------------


async def test_someone_removed_is_invited_back_and_chooses_a_new_password(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    pro = clinic.professional
    page = f"/admin/staff/{pro.id}"
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert (await post_form(admin, f"{page}/remove", {}, page=page)).status_code == 303
        removed = await admin.get(page)
        check_page(removed.text, page)
        assert "Invite back" in removed.text and "choose a new password" in removed.text
        sent = await post_form(admin, f"{page}/invite-back", {}, page=page)
        assert sent.status_code == 303 and sent.headers["location"] == page
        shown = await admin.get(page)
        assert "An invitation to come back was sent" in shown.text
        listed = (await admin.get("/admin/staff")).text.split('id="h-waiting"')[1]
        assert "invited back" in listed and "Professional" in listed
    assert not (await _account(rt, clinic, pro.id)).is_active  # removed until they accept
    [link] = await _links(providers, f"{pro.username}@example.org")
    before = await _accounts(rt, clinic)
    async with client_for(app, clinic.host) as back:
        invited = await back.get(link)
        assert invited.status_code == 200 and "Welcome back" in invited.text
        assert pro.username in invited.text and 'id="f-username"' not in invited.text
        check_page(invited.text, "/invitation")
        short = await back.post(
            "/invitation", data=_accept(invited.text, link, password="short", confirm="short")
        )
        assert short.status_code == 422 and 'id="f-password-error"' in short.text
        assert not (await _account(rt, clinic, pro.id)).is_active  # nothing changed
        done = await back.post("/invitation", data=_accept(invited.text, link, username="x"))
        assert done.status_code == 303, done.text
        assert (await back.get(link)).status_code == 410  # spent
    assert await _accounts(rt, clinic) == before  # the same account, reopened
    account = await _account(rt, clinic, pro.id)
    assert account.is_active and account.username == pro.username
    assert account.roles == {Role.PROFESSIONAL}
    async with client_for(app, clinic.host) as old:
        refused = await post_form(old, "/login", {"username": pro.username, "password": PASSWORD})
        assert refused.status_code != 303  # the old password never works again
    async with client_for(app, clinic.host) as fresh:
        await login(fresh, pro.username, NEW_PASSWORD)
        assert (await fresh.get("/workspace")).status_code == 200
    async with rt.database.reading(clinic.tenant.id) as db:
        profile = await db.scalar(select(Professional).where(Professional.user_id == pro.id))
    assert profile is not None and profile.status == "pending"  # listed once approved again
    [removal] = await _staff_entries(rt, clinic, staff_log.REMOVED)
    [back_entry] = await _staff_entries(rt, clinic, staff_log.INVITED_BACK)
    for entry in (removal, back_entry):
        assert entry.actor_id == clinic.admin.id and entry.subject_id == pro.id


@pytest.mark.parametrize("settings_overrides", [{"STAFF_MFA_REQUIRED": True}], indirect=True)
async def test_invited_back_where_two_step_is_required_they_set_up_a_new_authenticator(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    pro = clinic.professional
    async with rt.database.writing(clinic.tenant.id) as db:
        account = await people.member(db, pro.id)
        account.totp_secret, account.recovery_codes = "old-sealed-secret", "old-digests"
        admin = await people.member(db, clinic.admin.id)
        await people.remove(db, pro.id, by=admin)
        await people.invite_back(db, clinic.tenant, pro.id, by=admin, now=utcnow())
        await db.commit()
    [link] = await _links(providers, f"{pro.username}@example.org")
    async with client_for(app, clinic.host) as back:
        page = await back.get(link)
        assert "set up two-step sign-in again" in page.text
        offer = re.search(r'name="offer" value="([^"]+)"', page.text)
        secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page.text)
        assert offer and secret
        no_code = await back.post("/invitation", data=_accept(page.text, link, offer=offer[1]))
        assert no_code.status_code == 422 and 'id="f-code-error"' in no_code.text
        assert not (await _account(rt, clinic, pro.id)).is_active
        code = pyotp.TOTP(secret[1]).now()
        done = await back.post(
            "/invitation", data=_accept(page.text, link, offer=offer[1], code=code)
        )
        assert done.status_code == 303, done.text
    account = await _account(rt, clinic, pro.id)
    assert account.is_active and account.totp_secret not in (None, "old-sealed-secret")
    assert account.recovery_codes is None and account.totp_enabled_at is not None
    async with client_for(app, clinic.host) as fresh:
        signed = await login(fresh, pro.username, NEW_PASSWORD)
        assert signed.headers["location"].startswith("/login/code")


async def test_inviting_back_again_replaces_the_link_sent_before(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    pro = clinic.professional
    page = f"/admin/staff/{pro.id}"
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        await post_form(admin, f"{page}/remove", {}, page=page)
        await post_form(admin, f"{page}/invite-back", {}, page=page)
        assert len(await _links(providers, f"{pro.username}@example.org")) == 1
        [row] = await _waiting(rt, clinic)
        again = await _post(admin, f"/admin/staff/invitations/{row.id}/send-again")
        assert again.status_code == 303
        assert len(await _links(providers, f"{pro.username}@example.org")) == 2
        await post_form(admin, f"{page}/invite-back", {}, page=page)
    links = await _links(providers, f"{pro.username}@example.org")
    assert len(links) == 3
    [still] = await _waiting(rt, clinic)
    assert still.user_id == pro.id
    async with client_for(app, clinic.host) as back:
        for old in links[:2]:
            assert (await back.get(old)).status_code == 410
        assert (await back.get(links[2])).status_code == 200


async def test_inviting_back_someone_active_is_refused_and_other_clinics_staff_404(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = f"/admin/staff/{clinic.professional.id}"
        active = await post_form(admin, f"{page}/invite-back", {}, page=page)
        assert active.status_code == 422 and "They were not removed" in active.text
        for someone in (other_clinic.professional.id, clinic.consumer.id, uuid.uuid4()):
            gone = await _post(admin, f"/admin/staff/{someone}/invite-back")
            assert gone.status_code == 404, someone
    assert await _waiting(rt, clinic) == [] and await _waiting(rt, other_clinic) == []
    assert await _staff_entries(rt, clinic, staff_log.INVITED_BACK) == []


async def test_a_link_to_come_back_fails_once_the_account_is_gone(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    pro = clinic.professional
    async with rt.database.writing(clinic.tenant.id) as db:
        admin = await people.member(db, clinic.admin.id)
        await people.remove(db, pro.id, by=admin)
        await people.invite_back(db, clinic.tenant, pro.id, by=admin, now=utcnow())
        await db.commit()
    [link] = await _links(providers, f"{pro.username}@example.org")
    async with rt.database.writing(clinic.tenant.id) as db:
        account = await people.member(db, pro.id)
        account.is_active = True  # back by another way meanwhile
        await db.commit()
    async with client_for(app, clinic.host) as back:
        page = await back.get(link)
        assert page.status_code == 410
        answer = await back.post("/invitation", data=_accept((await back.get("/login")).text, link))
        assert answer.status_code == 410


async def test_changing_roles_is_in_the_ledger_naming_the_admin(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    page = f"/admin/staff/{clinic.professional.id}"
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        token = csrf_in((await admin.get(page)).text)
        changed = await admin.post(
            f"{page}/roles", data={"roles": ["professional", "front_desk"], "csrf_token": token}
        )
        assert changed.status_code == 303
    [entry] = await _staff_entries(rt, clinic, staff_log.ROLES_CHANGED)
    assert entry.actor_id == clinic.admin.id and entry.subject_id == clinic.professional.id
    assert entry.reason == "Professional, front desk"


async def test_an_operators_invitation_is_in_the_ledger_as_the_platforms(
    rt: Runtime, clinic: Clinic
) -> None:
    async with rt.database.writing(clinic.tenant.id) as db:
        await invitations.invite(
            db,
            clinic.tenant,
            email="first@example.org",
            full_name="First Admin",
            role="clinic_admin",
            invited_by=f"operator:{uuid.uuid4()}",
        )
        await db.commit()
    [entry] = await _staff_entries(rt, clinic, staff_log.INVITED)
    assert entry.actor_id is None
    assert entry.reason == "as clinic admin; by the platform's operator"
