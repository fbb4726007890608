"""Forgotten passwords: a single-use link by email (through the clinic's email plugin and the
outbox, recorded in the ledger), the same answer whether or not the account exists."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from praxis.core import ledger
from praxis.core.accounts import security_log
from praxis.core.accounts.models import PasswordReset
from praxis.core.db import utcnow
from praxis.core.outbox import OutboxJob
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.provider_fixtures import Providers
from tests.support import PASSWORD, Clinic, csrf_in, post_form

NEW_PASSWORD = "a-brand-new-password"


async def _ask(client: httpx.AsyncClient, who: str) -> httpx.Response:
    return await post_form(client, "/password/forgot", {"who": who})


def _link(providers: Providers) -> str:
    body = providers.mails()[-1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    found = re.search(r"http://alpha\.localhost(/password/reset\?token=[\w-]+)", body)
    assert found, body
    return found.group(1)


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> int:
    response = await post_form(client, "/login", {"username": username, "password": password})
    return response.status_code


async def test_a_link_by_email_sets_a_new_password_once_and_signs_out_elsewhere(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    elsewhere = client_for(app, clinic.host)
    assert await _sign_in(elsewhere, clinic.consumer.username, PASSWORD) == 303
    client = client_for(app, clinic.host)
    asked = await _ask(client, clinic.consumer.username)
    assert asked.status_code == 303
    assert await providers.run_jobs() == 1
    link = _link(providers)
    assert providers.mails()[-1]["To"] == f"{clinic.consumer.username}@example.org"

    form = await client.get(link)
    assert form.status_code == 200
    token = link.split("token=")[1]
    done = await client.post(
        "/password/reset",
        data={"token": token, "password": NEW_PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert done.status_code == 303
    assert (await elsewhere.get("/appointments")).status_code == 303  # signed out there
    assert await _sign_in(client_for(app, clinic.host), clinic.consumer.username, PASSWORD) == 401
    assert (
        await _sign_in(client_for(app, clinic.host), clinic.consumer.username, NEW_PASSWORD) == 303
    )
    again = await client.post(
        "/password/reset",
        data={"token": token, "password": "yet-another-password", "csrf_token": csrf_in(form.text)},
    )
    assert again.status_code == 400 and "expired or was already used" in again.text
    async with rt.database.reading(clinic.tenant.id) as db:  # the clinic's security log
        logged = await security_log.recent(db, user_id=clinic.consumer.id)
    words = [e.words for e in reversed(logged)]
    assert (
        "Password reset link asked for" in words and "Password reset with the emailed link" in words
    )

    async with rt.database.reading(clinic.tenant.id) as db:
        events = await ledger.subject_events(db, clinic.consumer.id)
    assert [(e.operation, e.categories, e.status) for e in events] == [
        ("send_email", "email", "succeeded"),
        ("send_email", "email", "attempted"),
    ]


async def test_the_answer_is_the_same_for_an_unknown_account_and_nothing_is_sent(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    known = await _ask(client, f"{clinic.consumer.username}@EXAMPLE.org")
    unknown = await _ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/login"
    assert await providers.run_jobs() == 1  # only the real account got a job
    async with rt.database.reading(clinic.tenant.id) as db:
        topics = list(await db.scalars(select(OutboxJob.topic)))
    assert topics == ["accounts.password_reset"]


async def test_an_expired_link_is_refused(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    await _ask(client, clinic.consumer.username)
    await providers.run_jobs()
    link = _link(providers)
    async with rt.database.writing(clinic.tenant.id) as db:
        await db.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
        await db.commit()
    response = await client.get(link)
    assert response.status_code == 400 and "Ask for a new one" in response.text


async def test_links_per_hour_are_limited(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    for _ in range(5):
        await _ask(client, clinic.consumer.username)
    await providers.run_jobs()
    assert len(providers.mails()) == 3


async def test_a_short_new_password_is_refused_and_the_link_still_works(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    client = client_for(app, clinic.host)
    await _ask(client, clinic.consumer.username)
    await providers.run_jobs()
    link = _link(providers)
    form = await client.get(link)
    token = link.split("token=")[1]
    short = await client.post(
        "/password/reset",
        data={"token": token, "password": "short", "csrf_token": csrf_in(form.text)},
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    assert (await client.get(link)).status_code == 200
