"""P20 with a plugin the platform has never seen: a third party's SMS plugin, installed the way
pip installs one (a distribution with a ``praxis`` entry point), chosen by a clinic admin on
/admin/providers. The next reminder goes through it, the ledger names its processor with the
categories it declares, and its code holds no logging of its own. A build whose manifest
leaves out a category the platform would send is refused: nothing leaves."""

from __future__ import annotations

import importlib
import sys
import threading
import tokenize
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from token import NAME
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from praxis.core.app import create_app
from praxis.core.config import Settings
from praxis.core.notifications.services import SMS_TOPIC
from praxis.core.runtime import Runtime
from praxis.core.sandbox.harness import RunningFake, start
from praxis.core.worker import scan_appointments
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from tests.functional.flows import (
    CONSUMER_PHONE,
    appointment,
    book_and_pay,
    events,
    jobs,
    signed_in,
)
from tests.provider_fixtures import Providers
from tests.source import PLUGIN_API, imports, within
from tests.support import Clinic, post_form

THIRDPARTY = Path(__file__).resolve().parents[1] / "thirdparty"
PACKAGE = THIRDPARTY / "praxis_sms_acme"
API_KEY = "acme_live_0123456789abcdef"
ACME = "Acme SMS Ltd"


# --- Acme's API, as small as the plugin needs -------------------------------------------------


@dataclass
class FakeAcme:
    """Acme SMS's one endpoint: POST /v1/messages, Bearer key, Idempotency-Key honoured."""

    keys: set[str] = field(default_factory=lambda: {API_KEY})
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self._sent.clear()

    async def send(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.requests.append({"headers": dict(request.headers), "body": body})
            scheme, _, key = request.headers.get("authorization", "").partition(" ")
            if scheme != "Bearer" or key not in self.keys:
                return JSONResponse({"error": "invalid API key"}, status_code=401)
            idempotency = request.headers.get("idempotency-key", "")
            if idempotency in self._sent:
                return JSONResponse(self._sent[idempotency], status_code=200)
            sent = {"id": f"msg_{uuid.uuid4().hex[:12]}", "status": "accepted", **body}
            self.messages.append(sent)
            self._sent[idempotency] = sent
            return JSONResponse(sent, status_code=201)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self.send, methods=["POST"])])


@pytest.fixture(scope="module")
def acme_server() -> Iterator[tuple[FakeAcme, RunningFake]]:
    fake = FakeAcme()
    running = start(fake.app)
    try:
        yield fake, running
    finally:
        running.stop()


@pytest.fixture
def acme(acme_server: tuple[FakeAcme, RunningFake]) -> tuple[FakeAcme, str]:
    fake, running = acme_server
    fake.reset()
    return fake, running.url


# --- installing it as pip would ----------------------------------------------------------------


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A ``praxis-sms-acme`` distribution on sys.path: metadata, entry points, and its code."""
    site = tmp_path / "site-packages"
    dist = site / "praxis_sms_acme-1.0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: praxis-sms-acme\nVersion: 1.0.0\n"
        "Summary: Appointment texts through Acme SMS, for Praxis\n"
    )
    (dist / "entry_points.txt").write_text(
        "[praxis]\nsms_acme = praxis_sms_acme\nsms_acme_careless = praxis_sms_acme.careless\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(THIRDPARTY))  # where its code was unpacked
    importlib.invalidate_caches()
    yield
    for name in [n for n in sys.modules if n.split(".")[0] == "praxis_sms_acme"]:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
async def app(settings: Settings, acme_installed: None) -> AsyncIterator[Any]:
    """The app built as always: the plugin is found by its entry point, nothing else."""
    application = create_app(settings, access_log=False)
    async with application.router.lifespan_context(application):
        yield application


async def operator_points_it_at(rt: Runtime, clinic: Clinic, plugin: str, url: str) -> None:
    """The API address is the operator's to set (OPERATOR_ONLY): here, the fake's."""
    async with rt.database.writing(clinic.tenant.id) as db:
        errors = await rt.provider_settings.save(
            db,
            tenant_id=clinic.tenant.id,
            plugin=plugin,
            model=rt.plugins.manifests[plugin].settings_model,
            audience="operator",
            submitted={"api_base_url": url},
            actor_id=None,
        )
        assert errors == {}
        await db.commit()


async def admin_switches_sms_to(app: Any, clinic: Clinic, plugin: str) -> str:
    """On /admin/providers: choose the plugin, then fill in its settings. Returns the page."""
    admin = await signed_in(app, clinic, clinic.admin.username)
    chose = await post_form(
        admin, "/admin/providers/sms", {"plugin": plugin}, page="/admin/providers"
    )
    assert chose.status_code == 303, chose.text
    page = (await admin.get("/admin/providers")).text
    section = page.split('id="kind-sms"', 1)[1].split("</section>", 1)[0]
    assert 'name="api_key"' in section and 'type="password"' in section
    assert 'name="sender"' in section and 'name="api_base_url"' not in section
    assert "Not ready yet: api key, sender are missing." in section
    saved = await post_form(
        admin,
        "/admin/providers/sms/settings",
        {"api_key": API_KEY, "sender": "AlphaClinic"},
        page="/admin/providers",
    )
    assert saved.status_code == 303, saved.text
    page = (await admin.get("/admin/providers")).text
    assert API_KEY not in page
    return page.split('id="kind-sms"', 1)[1].split("</section>", 1)[0]


async def remind(rt: Runtime, clinic: Clinic, providers: Providers, appointment_id: Any) -> None:
    starts = (await appointment(rt, clinic, appointment_id)).starts_at
    tenant = await _fresh(rt, clinic)
    assert await scan_appointments(rt, [tenant], now=starts - timedelta(hours=20)) == (1, 0)
    await providers.run_jobs()


async def _fresh(rt: Runtime, clinic: Clinic) -> TenantInfo:
    async with rt.database.reading() as db:
        row = await db.get(Tenant, clinic.tenant.id)
    assert row is not None
    return TenantInfo.from_row(row)


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.promise("P20")
async def test_a_third_party_sms_plugin_takes_over_and_its_texts_are_in_the_ledger(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    acme: tuple[FakeAcme, str],
) -> None:
    fake, url = acme
    manifest = rt.plugins.manifests["sms_acme"]
    assert manifest.processor is not None and manifest.processor.legal_name == ACME
    assert "sms_acme" in {m.name for m in rt.plugins.usable("sms")}

    consumer = await signed_in(app, clinic, clinic.consumer.username)
    appointment_id = await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    assert [m.to for m in providers.twilio.messages] == [CONSUMER_PHONE]  # confirmed by Twilio

    await operator_points_it_at(rt, clinic, "sms_acme", url)
    section = await admin_switches_sms_to(app, clinic, "sms_acme")
    assert "Acme SMS (Acme SMS Ltd)" in section and "<p>Ready.</p>" in section
    assert "Data goes to Acme SMS Ltd (GB; processed in the UK only)." in section

    await remind(rt, clinic, providers, appointment_id)
    (text,) = fake.messages
    assert text["to"] == CONSUMER_PHONE and text["from"] == "AlphaClinic"
    assert "reminder" in text["text"] and clinic.tenant.name in text["text"]
    (request,) = fake.requests
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    (reminder_job,) = [
        j for j in await jobs(rt, clinic, SMS_TOPIC) if j.payload["template"] == "reminder"
    ]
    assert request["headers"]["idempotency-key"] == str(reminder_job.id)
    assert reminder_job.status == "done"
    assert len(providers.twilio.messages) == 1  # Twilio got nothing more

    acme_events = [e for e in await events(rt, clinic) if e.plugin == "sms_acme"]
    use = manifest.data[0]
    assert [
        (e.kind, e.status, e.recipient, e.recipient_kind, e.operation, e.categories)
        for e in acme_events
    ] == [
        ("disclosure", "attempted", ACME, "processor", "send_message", "appointment,phone"),
        ("disclosure", "succeeded", ACME, "processor", "send_message", "appointment,phone"),
    ]
    for event in acme_events:
        assert (event.purpose, event.legal_basis) == (use.purpose, use.legal_basis)
        assert event.subject_id == clinic.consumer.id
        assert event.correlation_id == str(reminder_job.id)
    assert acme_events[1].attempt_seq == acme_events[0].seq

    mine = (await consumer.get("/account/disclosures")).text
    assert ACME in mine and "Twilio Ireland Limited" in mine  # both did receive a text
    admin = await signed_in(app, clinic, clinic.admin.username)
    listed = {p["name"]: p for p in (await admin.get("/-/plugins")).json()["plugins"]}
    assert listed["sms_acme"]["enabled"] is True and listed["sms_twilio"]["enabled"] is False
    assert listed["sms_acme"]["processor"]["legal_name"] == ACME


@pytest.mark.promise("P20")
def test_the_plugin_writes_no_ledger_or_logging_code_and_uses_only_the_plugin_api() -> None:
    sources = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in sources} == {"__init__.py", "careless.py", "provider.py", "settings.py"}
    allowed = (*PLUGIN_API, "praxis_sms_acme", "httpx", "pydantic", "__future__")
    for path in sources:
        with path.open("rb") as source:  # names in the code itself, not its prose
            names = {t.string for t in tokenize.tokenize(source.readline) if t.type == NAME}
        assert names, path
        for word in ("ledger", "logging", "structlog", "getLogger", "log", "logger", "print"):
            assert word not in names, f"{path.name} uses {word}"
        for line, name in imports(path, f"praxis_sms_acme.{path.stem}"):
            assert any(within(name, ok) for ok in allowed), f"{path.name}:{line} imports {name}"


@pytest.mark.promise("P20")
async def test_a_plugin_that_would_send_undeclared_data_is_never_offered_and_nothing_leaves(
    app: Any,
    rt: Runtime,
    clinic: Clinic,
    providers: Providers,
    acme: tuple[FakeAcme, str],
) -> None:
    fake, _url = acme
    careless = rt.plugins.disabled["sms_acme_careless"]  # its manifest forgets "appointment"
    assert careless.reason == (
        "sms_acme_careless: the manifest must declare appointment for send_message (the "
        "platform sends them, and the privacy notice is made from the manifest)"
    )
    assert "sms_acme_careless" not in rt.plugins.manifests
    assert [m.name for m in rt.plugins.usable("sms")] == ["sms_acme", "sms_twilio"]
    consumer = await signed_in(app, clinic, clinic.consumer.username)
    await book_and_pay(consumer, clinic, providers, days_ahead=3)
    await providers.run_jobs()
    before = await events(rt, clinic)

    admin = await signed_in(app, clinic, clinic.admin.username)
    page = (await admin.get("/admin/providers")).text
    section = page.split('id="kind-sms"', 1)[1].split("</section>", 1)[0]
    assert 'value="sms_acme_careless"' not in section  # not offered...
    assert "sms_acme_careless" in section and "must declare appointment" in section  # ...and why
    refused = await post_form(
        admin, "/admin/providers/sms", {"plugin": "sms_acme_careless"}, page="/admin/providers"
    )
    assert refused.status_code == 303
    tenant = await rt.directory.resolve(clinic.host)
    assert isinstance(tenant, TenantInfo) and tenant.providers["sms"] == "sms_twilio"
    assert fake.requests == [] and fake.messages == []
    assert [e.seq for e in await events(rt, clinic)] == [e.seq for e in before]  # nothing sent
