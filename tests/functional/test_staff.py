"""Issue 11: the clinic's staff page. Roles, invitations, removal and the last-admin rule."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select

from praxis.core.accounts.invitations import StaffInvitation
from praxis.core.accounts.models import Professional, Role, User, UserSession
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.test_platform_invitations import NEW, _answer, _invite, _link
from tests.provider_fixtures import Providers
from tests.support import Clinic, Person, login, make_admin, post_form


async def make_staff(rt: Runtime, clinic: Clinic, username: str, *roles: Role) -> Person:
    """An account of the clinic's staff holding exactly these roles."""
    person = await make_admin(rt, clinic.tenant, username)
    async with rt.database.writing(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, person.id))
        assert user is not None
        user.give_roles(set(roles))
        await db.commit()
    return person


async def user_of(rt: Runtime, clinic: Clinic, person_id: uuid.UUID) -> User:
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.get(User, (clinic.tenant.id, person_id))
        assert user is not None
        return user


async def test_the_staff_page_lists_staff_with_their_roles_and_no_patients(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await make_staff(rt, clinic, "solo", Role.CLINIC_ADMIN, Role.PROFESSIONAL)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = await admin.get("/admin/staff")
    assert page.status_code == 200
    assert "Solo Example" in page.text and "clinic admin, Professional" in page.text
    assert clinic.professional.username.title() in page.text
    assert clinic.consumer.username.title() not in page.text


async def test_an_admin_invites_a_front_desk_colleague(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        sent = await post_form(
            admin,
            "/admin/staff/invite",
            {"full_name": "Desk Person", "email": "desk@example.org", "role": "front_desk"},
            page="/admin/staff",
        )
    assert sent.status_code == 303
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(StaffInvitation))
    assert row is not None and row.role == "front_desk" and row.email == "desk@example.org"
    assert row.invited_by == f"user:{clinic.admin.id}"


async def test_a_bad_invitation_answers_on_the_field_and_saves_nothing(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        for form, field in (
            ({"full_name": "Jo", "email": "not an email", "role": "front_desk"}, "email"),
            ({"full_name": "", "email": "jo@example.org", "role": "front_desk"}, "full_name"),
            ({"full_name": "Jo", "email": "jo@example.org", "role": "owner"}, "role"),
        ):
            bad = await post_form(admin, "/admin/staff/invite", form, page="/admin/staff")
            assert bad.status_code == 422, field
            assert f'href="#f-{field}"' in bad.text, field
    assert "Choose clinic admin, Professional or front desk." in bad.text
    async with rt.database.reading(clinic.tenant.id) as db:
        assert await db.scalar(select(StaffInvitation)) is None


async def test_giving_the_professional_role_makes_a_pending_profile(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    desk = await make_staff(rt, clinic, "desk.one", Role.FRONT_DESK)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        changed = await admin.post(
            f"/admin/staff/{desk.id}/roles",
            data={
                "roles": ["front_desk", "professional"],
                "csrf_token": await _token(admin, f"/admin/staff/{desk.id}"),
            },
        )
    assert changed.status_code == 303, changed.text
    user = await user_of(rt, clinic, desk.id)
    assert user.roles == {Role.PROFESSIONAL, Role.FRONT_DESK}
    assert user.role == Role.PROFESSIONAL.value  # the primary role: the first held
    async with rt.database.reading(clinic.tenant.id) as db:
        profile = await db.scalar(select(Professional).where(Professional.user_id == desk.id))
    assert profile is not None and profile.status == "pending"
    # and with both roles the person reaches both areas
    async with client_for(app, clinic.host) as both:
        await login(both, "desk.one")
        assert (await both.get("/workspace")).status_code == 200
        assert (await both.get("/admin/staff")).status_code == 403


async def test_no_role_or_an_unknown_one_is_refused_on_the_field(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    desk = await make_staff(rt, clinic, "desk.two", Role.FRONT_DESK)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        for roles in ([], ["owner"], ["consumer"]):
            token = await _token(admin, f"/admin/staff/{desk.id}")
            bad = await admin.post(
                f"/admin/staff/{desk.id}/roles", data={"roles": roles, "csrf_token": token}
            )
            assert bad.status_code == 422, roles
            assert "Choose at least one role." in bad.text
    assert (await user_of(rt, clinic, desk.id)).roles == {Role.FRONT_DESK}


async def test_the_last_clinic_admin_can_be_neither_demoted_nor_removed(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = f"/admin/staff/{clinic.admin.id}"
        demoted = await admin.post(
            f"{page}/roles",
            data={
                "roles": ["professional"],
                "confirm_own": "yes",
                "csrf_token": await _token(admin, page),
            },
        )
        assert demoted.status_code == 422
        assert "at least one clinic admin" in demoted.text
        removed = await post_form(admin, f"{page}/remove", {}, page=page)
        assert removed.status_code == 422  # themselves, and the last
    user = await user_of(rt, clinic, clinic.admin.id)
    assert user.roles == {Role.CLINIC_ADMIN} and user.is_active


async def test_an_admin_gives_up_their_own_admin_role_only_when_they_say_so(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    await make_staff(rt, clinic, "second.admin", Role.CLINIC_ADMIN)
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = f"/admin/staff/{clinic.admin.id}"
        data = {"roles": ["professional"], "csrf_token": await _token(admin, page)}
        unconfirmed = await admin.post(f"{page}/roles", data=data)
        assert unconfirmed.status_code == 422 and 'id="f-confirm_own-error"' in unconfirmed.text
        assert (await user_of(rt, clinic, clinic.admin.id)).roles == {Role.CLINIC_ADMIN}
        confirmed = await admin.post(f"{page}/roles", data={**data, "confirm_own": "yes"})
        assert confirmed.status_code == 303
        assert (await admin.get("/admin/staff")).status_code == 403
    assert (await user_of(rt, clinic, clinic.admin.id)).roles == {Role.PROFESSIONAL}


async def test_removing_someone_ends_every_session_of_theirs_at_once(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as pro, client_for(app, clinic.host) as other:
        await login(pro, clinic.professional.username)
        await login(other, clinic.professional.username)
        assert (await pro.get("/workspace")).status_code == 200
        async with client_for(app, clinic.host) as admin:
            await login(admin, clinic.admin.username)
            page = f"/admin/staff/{clinic.professional.id}"
            removed = await post_form(admin, f"{page}/remove", {}, page=page)
            assert removed.status_code == 303
            assert "Removed" in (await admin.get("/admin/staff")).text
        for browser in (pro, other):
            gone = await browser.get("/workspace")
            assert gone.status_code == 303 and "/login" in gone.headers["location"]
    async with rt.database.reading(clinic.tenant.id) as db:
        left = await db.scalar(
            select(UserSession).where(UserSession.user_id == clinic.professional.id)
        )
        profile = await db.get(Professional, (clinic.tenant.id, clinic.professional_id))
    assert left is None
    assert profile is not None and profile.status == "pending"  # off the portal
    assert not (await user_of(rt, clinic, clinic.professional.id)).is_active
    async with client_for(app, clinic.host) as again:
        refused = await post_form(
            again, "/login", {"username": clinic.professional.username, "password": "x" * 12}
        )
        assert refused.status_code != 303


async def test_only_admins_reach_the_staff_pages_and_other_clinics_ids_404(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    desk = await make_staff(rt, clinic, "desk.three", Role.FRONT_DESK)
    for username in (desk.username, clinic.professional.username, clinic.consumer.username):
        async with client_for(app, clinic.host) as http:
            await login(http, username)
            assert (await http.get("/admin/staff")).status_code == 403, username
            assert (await http.get("/admin")).status_code == 403, username
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        for someone in (other_clinic.admin.id, other_clinic.professional.id, clinic.consumer.id):
            assert (await admin.get(f"/admin/staff/{someone}")).status_code == 404
            token = await _token(admin, "/admin/staff")
            gone = await admin.post(f"/admin/staff/{someone}/remove", data={"csrf_token": token})
            assert gone.status_code == 404
    assert (await user_of(rt, clinic, clinic.consumer.id)).is_active


async def _token(http: httpx.AsyncClient, page: str) -> str:
    from tests.support import csrf_in

    return csrf_in((await http.get(page)).text)


async def test_an_invited_front_desk_colleague_joins_and_lands_on_the_desk(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    await _invite(rt, clinic, role="front_desk")
    link = await _link(providers)
    async with client_for(app, clinic.host) as sam:
        page = await sam.get(link)
        assert page.status_code == 200 and "front desk" in page.text
        assert (await sam.post("/invitation", data=_answer(page.text, link))).status_code == 303
        signed_in = await login(sam, NEW)
        assert signed_in.headers["location"] == "/desk"
        assert (await sam.get("/desk")).status_code == 200
        assert (await sam.get("/admin")).status_code == 403
    async with rt.database.reading(clinic.tenant.id) as db:
        user = await db.scalar(select(User).where(User.username == NEW))
        assert user is not None and user.roles == {Role.FRONT_DESK}
        assert await db.scalar(select(Professional).where(Professional.user_id == user.id)) is None
