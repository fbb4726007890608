"""The platform operator's site on the bare platform domain, and custom domains."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from praxis.core.db import utcnow
from praxis.core.outbox.queue import JobStatus, enqueue
from praxis.core.runtime import Runtime
from praxis.tenants import verification
from praxis.tenants.models import TenantDomain
from tests.conftest import client_for
from tests.support import Clinic, login, make_operator, make_tenant, post_form


@pytest.fixture
async def operator(app: Any, rt: Runtime) -> Any:
    await make_operator(rt)
    async with client_for(app, "localhost") as http:
        await login(http, "ops", prefix="/platform")
        yield http


async def test_platform_root_is_the_directory_and_sign_in_redirects(
    app: Any, clinic: Clinic
) -> None:
    async with client_for(app, "localhost:8000") as http:
        root = await http.get("/")
        assert root.status_code == 200 and "Find a clinic" in root.text
        assert 'href="/platform/privacy"' in root.text and 'href="/contact"' in root.text
        platform = await http.get("/platform")
        assert platform.status_code == 303
        assert platform.headers["location"] == "/login?next=/platform".replace(
            "/login", "/platform/login"
        )


async def test_operator_sees_tenants(operator: httpx.AsyncClient, clinic: Clinic) -> None:
    page = await operator.get("/platform")
    assert page.status_code == 200
    assert "Alpha Clinic" in page.text
    detail = await operator.get(f"/platform/tenants/{clinic.tenant.id}")
    assert detail.status_code == 200
    assert "alpha.localhost" in detail.text


async def test_tenant_accounts_cannot_sign_in_to_the_platform(app: Any, clinic: Clinic) -> None:
    async with client_for(app, "localhost") as http:
        response = await post_form(
            http,
            "/platform/login",
            {"username": clinic.admin.username, "password": "correct-horse-battery"},
        )
        assert response.status_code == 401


async def test_platform_pages_are_not_served_on_tenant_hosts(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    assert (await client.get("/platform")).status_code == 404
    assert (await client.get(f"/platform/tenants/{clinic.tenant.id}")).status_code == 404


async def test_tenant_pages_are_not_served_on_the_platform_host(
    operator: httpx.AsyncClient,
) -> None:
    for path in ("/professionals", "/admin", "/api/v1/professionals"):
        assert (await operator.get(path)).status_code == 404, path


class FakeDns:
    """The tests play DNS: TXT records by name."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}

    async def txt(self, name: str) -> list[str]:
        return list(self.records.get(name, []))


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(verification, "resolver", fake)
    return fake


async def _proof(rt: Runtime, domain: str) -> str:
    async with rt.database.reading() as db:
        row = await db.get(TenantDomain, domain)
        assert row is not None and len(row.proof) == 32
        return row.proof


async def test_a_custom_domain_serves_only_once_its_dns_proves_control(
    app: Any, operator: httpx.AsyncClient, rt: Runtime, dns: FakeDns
) -> None:
    tenant = await make_tenant(rt, "gamma", domains=["book.gamma-clinic.example"])
    page = f"/platform/tenants/{tenant.id}"
    record = "_praxis-verification.book.gamma-clinic.example"
    async with client_for(app, "book.gamma-clinic.example") as visitor:
        assert (await visitor.get("/")).status_code == 404
        shown = await operator.get(page)
        assert record in shown.text and await _proof(rt, "book.gamma-clinic.example") in shown.text
        dns.records[record] = ["praxis-verification=someone-elses-guess"]
        refused = await post_form(
            operator,
            f"/platform/tenants/{tenant.id}/domains/verify",
            {"domain": "book.gamma-clinic.example"},
            page=page,
        )
        assert refused.status_code == 422
        assert "No TXT record" in refused.text
        assert (await visitor.get("/")).status_code == 404
        dns.records[record] = [
            "unrelated",
            "praxis-verification=" + await _proof(rt, "book.gamma-clinic.example"),
        ]
        verified = await post_form(
            operator,
            f"/platform/tenants/{tenant.id}/domains/verify",
            {"domain": "book.gamma-clinic.example"},
            page=f"/platform/tenants/{tenant.id}",
        )
        assert verified.status_code == 303
        home = await visitor.get("/")
        assert home.status_code == 200
        assert "Gamma Clinic" in home.text
        stopped = await post_form(
            operator,
            f"/platform/tenants/{tenant.id}/domains/unverify",
            {"domain": "book.gamma-clinic.example"},
            page=f"/platform/tenants/{tenant.id}",
        )
        assert stopped.status_code == 303
        assert (await visitor.get("/")).status_code == 404


async def test_verifying_another_tenants_domain_is_not_found(
    operator: httpx.AsyncClient, rt: Runtime, clinic: Clinic, dns: FakeDns
) -> None:
    await make_tenant(rt, "delta", domains=["delta.example"])
    response = await post_form(
        operator,
        f"/platform/tenants/{clinic.tenant.id}/domains/verify",
        {"domain": "delta.example"},
        page="/platform",
    )
    assert response.status_code == 404


async def test_health_answers_on_any_host(app: Any) -> None:
    async with client_for(app, "10.0.0.1:8000") as http:
        response = await http.get("/-/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


async def test_operator_sees_usage_and_providers_health_but_no_patient(
    operator: httpx.AsyncClient, rt: Runtime, clinic: Clinic
) -> None:
    now = utcnow()
    async with rt.database.writing(clinic.tenant.id) as db:
        job = enqueue(db, clinic.tenant.id, "notifications.email", {"x": "1"})
        job.status, job.last_error = JobStatus.DEAD.value, "the relay refused the login"
        await db.commit()
    page = await operator.get(f"/platform/tenants/{clinic.tenant.id}")
    assert page.status_code == 200
    month = f"{now.year:04d}-{now.month:02d}"
    row = re.search(rf'<th scope="row">{month}</th>((?:<td>\d+</td>)+)', page.text)
    assert row, page.text
    assert re.findall(r"<td>(\d+)</td>", row.group(1)) == ["1", "0", "0", "0"]
    assert "1 failed job on the clinic's failed list" in page.text
    assert "the relay refused the login" in page.text
    assert clinic.consumer.username not in page.text and "Consumer Example" not in page.text
