"""Nothing a clinic admin types aims the platform inward: provider hosts that resolve to this
machine, a private network or a metadata service are refused on /admin/providers and again
when the platform connects; SMTP needs TLS outside development (issue 10)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from praxis.core.outbox import OutboxJob, drain
from praxis.core.plugins.settings import ProviderSetting
from praxis.core.providers import network
from praxis.core.runtime import Runtime
from tests.conftest import client_for
from tests.functional.flows import signed_in
from tests.provider_fixtures import Providers, use_providers
from tests.support import Clinic, post_form

EMAIL_SETTINGS = "/admin/providers/email/settings"
RELAY = {
    "from_address": "bookings@alpha.example",
    "relay_company": "Alpha Mail Relay Ltd",
    "relay_privacy_policy_url": "https://relay.example/privacy",
}


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="s-email-{name}-error">([^<]+)</p>', page)
    assert found, f"no message for {name}"
    return found.group(1)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """What the attacker ran on the platform's machine: it must never hear from us."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


class TestTheAttackOfIssue10:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"OUTBOUND_ALLOWED_HOSTS": ""}  # as in production: nothing inward allowed

    async def test_an_smtp_relay_on_this_machine_gets_no_password_reset(
        self, app: Any, rt: Runtime, clinic: Clinic, listener: socket.socket
    ) -> None:
        port = listener.getsockname()[1]
        tenant = await use_providers(rt, clinic.tenant.id, {"email": "email_smtp"})
        admin = await signed_in(app, clinic, clinic.admin.username)
        typed = {"host": "127.0.0.1", "port": str(port), "security": "none", **RELAY}
        refused = await post_form(admin, EMAIL_SETTINGS, typed, page="/admin/providers")
        assert refused.status_code == 422
        assert "internal address" in field_error(refused.text, "host")
        assert "starttls or tls" in field_error(refused.text, "security")
        async with rt.database.reading(tenant.id) as db:
            assert await db.scalar(select(ProviderSetting)) is None  # nothing saved

        # The same settings, stored before this rule: the connection is refused instead.
        async with rt.database.writing(tenant.id) as db:
            values = {"host": "127.0.0.1", "port": port, "security": "none", **RELAY}
            db.add(ProviderSetting(plugin="email_smtp", values=values, secrets={}, version=1))
            await db.commit()
        rt.registry.forget(tenant.id)
        anyone = client_for(app, clinic.host)
        asked = await post_form(anyone, "/password/forgot", {"who": clinic.consumer.username})
        assert asked.status_code == 303
        await drain(rt.jobs)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
        async with rt.database.reading(tenant.id) as db:
            job = await db.scalar(select(OutboxJob))
        assert job is not None and job.status == "dead"
        assert "starttls or tls" in job.last_error

        values["security"] = "starttls"  # and with TLS asked for, the address is refused
        async with rt.database.writing(tenant.id) as db:
            row = await db.scalar(select(ProviderSetting))
            assert row is not None
            row.values, row.version = dict(values), 2
            await db.commit()
        rt.registry.forget(tenant.id)
        await post_form(anyone, "/password/forgot", {"who": clinic.consumer.username})
        await drain(rt.jobs)
        with pytest.raises(BlockingIOError):
            listener.accept()
        async with rt.database.reading(tenant.id) as db:
            errors = list(await db.scalars(select(OutboxJob.last_error)))
        assert any("internal address" in e for e in errors), errors


async def test_hosts_that_resolve_inward_are_refused_and_a_public_one_saved(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {
        "mail.attacker.example": ["169.254.169.254"],
        "smtp.attacker.example": ["10.1.2.3"],
        "smtp.relay-company.example": ["93.184.215.14"],
    }

    async def lookup(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")  # relay.example, the privacy policy's
        return answers[host]

    monkeypatch.setattr(network, "lookup", lookup)
    admin = await signed_in(app, clinic, clinic.admin.username)
    for host in ("mail.attacker.example", "smtp.attacker.example"):
        typed = {"host": host, "port": "587", "security": "starttls", **RELAY}
        refused = await post_form(admin, EMAIL_SETTINGS, typed, page="/admin/providers")
        assert refused.status_code == 422, host
        assert field_error(refused.text, "host").startswith(f"{host} is an internal address")
    typed = {"host": "smtp.relay-company.example", "port": "587", "security": "starttls", **RELAY}
    saved = await post_form(admin, EMAIL_SETTINGS, typed, page="/admin/providers")
    assert saved.status_code == 303, saved.text
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(ProviderSetting).where(ProviderSetting.plugin == "email_smtp"))
    assert row is not None and row.values["host"] == "smtp.relay-company.example"
