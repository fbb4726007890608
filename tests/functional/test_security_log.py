"""The clinic's security log (issue 10): sign-ins and failed ones, lockouts, password resets and
signing out everywhere reach /admin/security, naming the account by id and never what someone
typed; staff bulk downloads are EXPORT entries in the ledger; another clinic sees none of it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.accounts.security_log import SecurityEvent
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import events, signed_in
from tests.functional.test_auth import api_try_login, try_login
from tests.functional.test_mfa import enrol, give_code
from tests.support import Clinic, login, post_form


async def logged(rt: Runtime, clinic: Clinic) -> list[tuple[str, Any, str]]:
    async with rt.database.reading(clinic.tenant.id) as db:
        rows = await db.scalars(select(SecurityEvent).order_by(SecurityEvent.at))
        return [(e.kind, e.user_id, e.via) for e in rows]


@pytest.mark.promise("P16")
async def test_sign_ins_failures_and_lockouts_are_logged_by_account_only(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic
) -> None:
    person = clinic.consumer
    async with client_for(app, clinic.host) as browser:
        await login(browser, person.username)
        await post_form(browser, "/logout/everywhere", {}, page="/account/security")
        for attempt in range(5):
            assert (
                await try_login(browser, person.username, f"wrong-{attempt}")
            ).status_code == 401
        assert (await try_login(browser, person.username)).status_code == 429  # locked
        typed = "someone-typed-this@example.org"
        assert (await try_login(browser, typed, "a-secret-typed-here")).status_code == 401
        api = await api_try_login(browser, clinic.professional.username)
        assert api.status_code == 200
    kinds = await logged(rt, clinic)
    assert kinds[:2] == [
        ("signed_in", person.id, "portal"),
        ("signed_out_everywhere", person.id, ""),
    ]
    assert kinds[2:7] == [("sign_in_failed", person.id, "portal")] * 5
    assert kinds[7] == ("locked_out", person.id, "portal")
    assert kinds[8] == ("sign_in_failed", None, "portal")  # no such account: nothing typed kept
    assert kinds[9] == ("signed_in", clinic.professional.id, "api")

    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/security")
    assert page.status_code == 200 and "<h1>Security log</h1>" in page.text
    text = page.text
    assert "Sign-in refused: too many failed attempts" in text and person.username in text
    assert "someone-typed-this" not in text and "a-secret-typed-here" not in text
    only = await admin.get("/admin/security", params={"account": clinic.professional.username})
    assert "Signed in" in only.text and person.username not in only.text
    unknown = await admin.get("/admin/security", params={"account": "nobody-here"})
    assert unknown.status_code == 422 and "No account of this clinic" in unknown.text
    # Another clinic's admin sees only their own clinic's log.
    theirs = await signed_in(app, other_clinic, other_clinic.admin.username)
    assert person.username not in (await theirs.get("/admin/security")).text
    assert (await logged(rt, other_clinic)) == [("signed_in", other_clinic.admin.id, "portal")]
    # Other roles cannot read it.
    professional = await signed_in(app, clinic, clinic.professional.username)
    assert (await professional.get("/admin/security")).status_code in (403, 404)


async def test_staff_downloads_are_export_entries_in_the_ledger(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    assert (await admin.get("/admin/appointments.csv")).status_code == 200
    assert (await admin.get("/admin/ledger.json")).status_code == 200
    taken = [
        (e.kind, e.operation, e.actor_id) for e in await events(rt, clinic) if e.kind == "export"
    ]
    assert taken == [
        ("export", "appointments_csv", clinic.admin.id),
        ("export", "ledger_json", clinic.admin.id),
    ]


async def test_two_step_sign_in_set_up_then_moved_and_a_wrong_code_are_logged(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    async with client_for(app, clinic.host) as browser:
        await login(browser, clinic.admin.username)
        await enrol(browser)
        await enrol(browser)  # a new phone: the app moves
    async with client_for(app, clinic.host) as browser:
        await login(browser, clinic.admin.username)
        assert (await give_code(browser, "000000")).status_code == 422
    kinds = [kind for kind, who, _ in await logged(rt, clinic) if who == clinic.admin.id]
    assert kinds == [
        "signed_in",
        "two_step_enrolled",
        "two_step_replaced",
        "signed_in",
        "two_step_code_wrong",
    ]
