"""Each tenant's provider settings (core.providers.settings) and the providers built from them
(core.providers.registry): secrets sealed to the tenant and plugin, forms per audience that
never show a stored secret, bad input that changes nothing, and providers rebuilt when their
settings change."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from praxis.core.config import Settings
from praxis.core.errors import ProviderNotReady
from praxis.core.hookspecs import DataCategory, DataUse, PluginManifest, Processor, hookimpl
from praxis.core.plugins import load_plugins
from praxis.core.plugins.registry import Registry
from praxis.core.plugins.settings import Audience, ProviderSetting, SettingsStore, fields_for
from praxis.core.providers.common import (
    OPERATOR_ONLY,
    ProviderContext,
    ProviderFactory,
    WebhookReply,
    WebhookRequest,
)
from praxis.core.providers.sms import SmsMessage, SmsReceipt
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from tests.conftest import client_for
from tests.provider_fixtures import TWILIO_SID, TWILIO_TOKEN, use_providers
from tests.support import Clinic, login, make_tenant

PLUGIN = "sms_probe"
API_KEY = "probe-clinic-key-0123456789"
PLATFORM_KEY = "probe-platform-key-9876543210"
ROWS = ProviderSetting.__table__
CLINIC_FIELDS = ["api_key", "sender", "batch_size", "mode", "signature"]
OPERATOR_FIELDS = ["platform_key", "api_base_url"]


class ProbeSettings(BaseModel):
    """One field of each kind a form shows, for the clinic and for the operator."""

    model_config = ConfigDict(hide_input_in_errors=True)

    api_key: SecretStr = Field(description="The clinic's API key")
    sender: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="Sender number")
    batch_size: int = Field(10, ge=1, le=100, description="Messages per batch")
    mode: Literal["live", "test"] = Field("live", description="Live or test")
    signature: bool = Field(False, description="Sign messages with the clinic's name")
    platform_key: SecretStr = Field(description="Platform key", json_schema_extra=OPERATOR_ONLY)
    api_base_url: HttpUrl = Field(
        HttpUrl("https://api.probe.example"), description="API", json_schema_extra=OPERATOR_ONLY
    )


class ProbeSms:
    """An SmsProvider that keeps what it was built with."""

    webhook_reply = WebhookReply()

    def __init__(self, context: ProviderContext[ProbeSettings]) -> None:
        self.context = context

    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        return SmsReceipt(message_id="SM1", status="queued")

    def parse_webhook(self, request: WebhookRequest) -> None:
        return None


class ProbePlugin:
    __name__ = "praxis_sms_probe"

    def __init__(self) -> None:
        self.built: list[ProbeSms] = []

    @hookimpl
    def praxis_manifest(self) -> PluginManifest:
        return PluginManifest(
            name=PLUGIN,
            kind="sms",
            title="Probe SMS",
            version="1.0.0",
            requires=">=1.0,<2",
            processor=Processor(
                legal_name="Probe Messaging Ltd",
                country="GB",
                transfer_safeguard="UK: no transfer",
                privacy_policy_url="https://probe.example/privacy",
            ),
            data=(
                DataUse(
                    operation="send_message",
                    categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                    purpose="reminders",
                    legal_basis="contract",
                ),
            ),
            settings_model=ProbeSettings,
        )

    @hookimpl
    def praxis_register_providers(self) -> ProviderFactory:
        def build(context: ProviderContext[Any]) -> ProbeSms:
            provider = ProbeSms(context)
            self.built.append(provider)
            return provider

        return build


@pytest.fixture
def probe() -> ProbePlugin:
    return ProbePlugin()


@pytest.fixture
def registry(rt: Runtime, probe: ProbePlugin) -> Iterator[Registry]:
    """A registry that knows only the probe plugin, sharing the app's store and client."""
    plugins = load_plugins(extra=[probe], entry_points=False)
    yield Registry(plugins, rt.provider_settings, rt.http, rt.settings)


@pytest.fixture
async def tenant(rt: Runtime) -> TenantInfo:
    row = await make_tenant(rt, "alpha")
    return dataclasses.replace(row, providers={"sms": PLUGIN})


def store(rt: Runtime) -> SettingsStore:
    return rt.provider_settings


async def save(
    rt: Runtime, tenant: TenantInfo, audience: Audience, **submitted: str
) -> dict[str, str]:
    async with rt.database.writing(tenant.id) as db:
        errors = await store(rt).save(
            db,
            tenant_id=tenant.id,
            plugin=PLUGIN,
            model=ProbeSettings,
            audience=audience,
            submitted=submitted,
            actor_id=None,
        )
        await db.commit()  # even a careless caller that commits stores nothing on errors
    return errors


async def configured(rt: Runtime, tenant: TenantInfo) -> None:
    clinic = await save(
        rt, tenant, "clinic", api_key=API_KEY, sender="+447700900123", batch_size="20",
        mode="test", signature="on",
    )  # fmt: skip
    operator = await save(rt, tenant, "operator", platform_key=PLATFORM_KEY)
    assert clinic == operator == {}


async def row_of(rt: Runtime, tenant: TenantInfo, plugin: str = PLUGIN) -> ProviderSetting | None:
    async with rt.database.reading(tenant.id) as db:
        return await store(rt).row(db, plugin)


async def raw_rows(settings: Settings) -> list[dict[str, Any]]:
    """The table as the database owner sees it."""
    engine = create_async_engine(settings.migration_url)
    try:
        async with engine.connect() as conn:
            return [r._asdict() for r in await conn.execute(select(ROWS))]
    finally:
        await engine.dispose()


async def build(registry: Registry, rt: Runtime, tenant: TenantInfo) -> ProbeSms:
    async with rt.database.reading(tenant.id) as db:
        provider = (await registry.build(db, tenant, "sms")).provider
    assert isinstance(provider, ProbeSms)
    return provider


# --- sealed secrets -------------------------------------------------------------------------


async def test_secrets_are_stored_sealed_and_opened_to_build_the_provider(
    rt: Runtime, settings: Settings, tenant: TenantInfo, registry: Registry
) -> None:
    await configured(rt, tenant)
    [row] = await raw_rows(settings)
    assert set(row["secrets"]) == {"api_key", "platform_key"}
    assert not {"api_key", "platform_key"} & set(row["values"])
    assert API_KEY not in repr(row) and PLATFORM_KEY not in repr(row)
    provider = await build(registry, rt, tenant)
    built = provider.context.settings
    assert built.api_key.get_secret_value() == API_KEY
    assert built.platform_key.get_secret_value() == PLATFORM_KEY
    assert (built.sender, built.batch_size, built.mode, built.signature) == (
        "+447700900123",
        20,
        "test",
        True,
    )


@pytest.mark.promise("P27")
async def test_a_sealed_secret_copied_to_another_tenant_opens_as_unset(
    rt: Runtime, settings: Settings, tenant: TenantInfo, registry: Registry
) -> None:
    await configured(rt, tenant)
    beta = dataclasses.replace(await make_tenant(rt, "beta"), providers={"sms": PLUGIN})
    [alpha_row] = await raw_rows(settings)
    engine = create_async_engine(settings.migration_url)  # the owner: no tenant wall
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(ROWS).values({**alpha_row, "tenant_id": beta.id}))
    finally:
        await engine.dispose()
    copied = await row_of(rt, beta)
    assert copied is not None and copied.secrets == alpha_row["secrets"]
    opened = store(rt).stored(copied, beta.id)
    assert "api_key" not in opened and "platform_key" not in opened
    assert opened["sender"] == "+447700900123"  # plain values are not secret
    assert store(rt).status(ProbeSettings, copied, beta.id) == ["api_key", "platform_key"]
    shown = {f.name: f for f in store(rt).form(ProbeSettings, copied, "clinic")}
    assert shown["api_key"].secret_set is False  # the form does not claim it is stored
    with pytest.raises(ProviderNotReady):
        await build(registry, rt, beta)


async def test_a_sealed_secret_moved_to_another_plugin_opens_as_unset(
    rt: Runtime, tenant: TenantInfo
) -> None:
    await configured(rt, tenant)
    row = await row_of(rt, tenant)
    assert row is not None
    elsewhere = ProviderSetting(
        tenant_id=tenant.id, plugin="sms_other", values={}, secrets=dict(row.secrets)
    )
    assert store(rt).stored(elsewhere, tenant.id) == {}
    assert store(rt).stored(row, tenant.id)["api_key"] == API_KEY


# --- forms ----------------------------------------------------------------------------------


async def test_the_clinic_form_never_shows_a_stored_secret_only_that_it_is_set(
    rt: Runtime, tenant: TenantInfo
) -> None:
    await configured(rt, tenant)
    row = await row_of(rt, tenant)
    typed_back = {"api_key": "a-new-key-typed-0123456789", "sender": "bad"}  # after an error
    for typed in (None, typed_back):
        fields = {f.name: f for f in store(rt).form(ProbeSettings, row, "clinic", typed)}
        assert fields["api_key"].input == "secret"
        assert fields["api_key"].value == ""
        assert fields["api_key"].secret_set is True
        for shown in fields.values():
            assert API_KEY not in shown.value and PLATFORM_KEY not in shown.value
            assert "a-new-key-typed" not in shown.value
    assert fields["sender"].value == "bad"  # other fields come back as typed


async def test_the_admin_providers_page_never_shows_a_stored_secret(
    app: Any, rt: Runtime, clinic: Clinic
) -> None:
    tenant = await use_providers(rt, clinic.tenant.id, {"sms": "sms_twilio"})
    async with rt.database.writing(tenant.id) as db:
        errors = await store(rt).save(
            db,
            tenant_id=tenant.id,
            plugin="sms_twilio",
            model=rt.plugins.manifests["sms_twilio"].settings_model,
            audience="clinic",
            submitted={
                "account_sid": TWILIO_SID,
                "auth_token": TWILIO_TOKEN,
                "from_number": "+447700900123",
            },
            actor_id=None,
        )
        await db.commit()
    assert errors == {}
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        page = await admin.get("/admin/providers")
    assert page.status_code == 200
    assert TWILIO_SID in page.text  # plain settings are shown back
    assert TWILIO_TOKEN not in page.text
    assert "Stored: leave blank to keep it" in page.text


async def test_an_empty_form_shows_defaults_and_blanks(rt: Runtime) -> None:
    fields = {f.name: f for f in store(rt).form(ProbeSettings, None, "clinic")}
    assert {name: f.value for name, f in fields.items()} == {
        "api_key": "",
        "sender": "",  # required, no default: blank, not a placeholder object's name
        "batch_size": "10",
        "mode": "live",
        "signature": "",
    }
    assert [f.input for f in fields.values()] == ["secret", "text", "number", "select", "checkbox"]
    assert fields["mode"].choices == ("live", "test")
    assert [f.required for f in fields.values()] == [True, True, False, False, False]


async def test_a_blank_secret_keeps_the_stored_one(
    rt: Runtime, tenant: TenantInfo, registry: Registry
) -> None:
    await configured(rt, tenant)
    assert await save(rt, tenant, "clinic", api_key="", sender="+447700900999") == {}
    row = await row_of(rt, tenant)
    assert row is not None and row.version == 3
    kept = store(rt).stored(row, tenant.id)
    assert (kept["api_key"], kept["sender"]) == (API_KEY, "+447700900999")
    assert await save(rt, tenant, "clinic", api_key=" replaced-key-0123 ", sender="+4477009") == {}
    replaced = (await build(registry, rt, tenant)).context.settings
    assert replaced.api_key.get_secret_value() == "replaced-key-0123"


def test_operator_only_fields_appear_only_to_the_operator(rt: Runtime) -> None:
    audiences: dict[Audience, list[str]] = {"clinic": CLINIC_FIELDS, "operator": OPERATOR_FIELDS}
    for audience, expected in audiences.items():
        assert list(fields_for(ProbeSettings, audience)) == expected
        assert [f.name for f in store(rt).form(ProbeSettings, None, audience)] == expected


async def test_each_audience_can_change_only_its_own_fields(
    rt: Runtime, tenant: TenantInfo
) -> None:
    await configured(rt, tenant)
    sneaky = {"platform_key": "clinic-chosen-key", "api_base_url": "https://evil.example"}
    assert await save(rt, tenant, "clinic", sender="+447700900123", **sneaky) == {}
    assert await save(rt, tenant, "operator", api_key="operator-chosen-key") == {}
    stored = store(rt).stored(await row_of(rt, tenant), tenant.id)
    assert stored["platform_key"] == PLATFORM_KEY
    assert "api_base_url" not in stored  # still the default, untouched
    assert stored["api_key"] == API_KEY


# --- bad input ------------------------------------------------------------------------------


async def test_bad_values_give_one_error_per_field_and_store_nothing(
    rt: Runtime, tenant: TenantInfo
) -> None:
    await configured(rt, tenant)
    before = await row_of(rt, tenant)
    assert before is not None
    errors = await save(
        rt, tenant, "clinic", api_key="typed-secret-0123", sender="07700 900123",
        batch_size="lots", mode="sometimes",
    )  # fmt: skip
    assert sorted(errors) == ["batch_size", "mode", "sender"]
    for message in errors.values():
        assert message[0].isupper() and message.endswith("."), message
        assert "07700" not in message and "lots" not in message and "typed-secret" not in message
    after = await row_of(rt, tenant)
    assert after is not None
    assert (after.version, after.values, after.secrets) == (
        before.version,
        before.values,
        before.secrets,
    )


async def test_a_first_save_with_bad_values_creates_nothing(
    rt: Runtime, tenant: TenantInfo
) -> None:
    errors = await save(rt, tenant, "clinic", api_key="k", sender="", batch_size="0")
    assert sorted(errors) == ["batch_size", "sender"]
    assert await row_of(rt, tenant) is None


async def test_status_names_the_fields_still_missing(rt: Runtime, tenant: TenantInfo) -> None:
    missing = store(rt).status
    assert missing(ProbeSettings, None, tenant.id) == ["api_key", "platform_key", "sender"]
    # The clinic's part is saved though the operator's is still to come.
    assert await save(rt, tenant, "clinic", api_key=API_KEY, sender="+447700900123") == {}
    assert missing(ProbeSettings, await row_of(rt, tenant), tenant.id) == ["platform_key"]
    assert await save(rt, tenant, "operator", platform_key=PLATFORM_KEY) == {}
    assert missing(ProbeSettings, await row_of(rt, tenant), tenant.id) == []


# --- the registry ---------------------------------------------------------------------------


async def test_the_registry_reuses_a_provider_until_its_settings_change(
    rt: Runtime, tenant: TenantInfo, registry: Registry, probe: ProbePlugin
) -> None:
    await configured(rt, tenant)
    first = await build(registry, rt, tenant)
    assert await build(registry, rt, tenant) is first
    assert await save(rt, tenant, "clinic", sender="+447700900999") == {}
    # Another process's change shows after TENANT_CACHE_TTL; this one's at once, once told.
    assert await build(registry, rt, tenant) is first
    registry.forget(tenant.id)  # what the settings pages do after saving
    second = await build(registry, rt, tenant)
    assert second is not first
    assert second.context.settings.sender == "+447700900999"
    assert probe.built == [first, second]
    assert isinstance(second.context.http, httpx.AsyncClient)
    assert second.context.webhook_url == "http://alpha.localhost/-/plugins/sms_probe/webhook"


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ({}, "Alpha Clinic has not set up text messages."),
        ({"sms": "sms_uninstalled"}, "Alpha Clinic has not set up text messages."),
        ({"video": PLUGIN}, "Alpha Clinic has not set up text messages."),
    ],
    ids=["no plugin chosen", "chosen but not installed", "chosen for another kind"],
)
async def test_the_registry_is_not_ready_without_a_usable_plugin(
    rt: Runtime, tenant: TenantInfo, registry: Registry, providers: dict[str, str], message: str
) -> None:
    await configured(rt, tenant)
    with pytest.raises(ProviderNotReady) as caught:
        await build(registry, rt, dataclasses.replace(tenant, providers=providers))
    assert caught.value.message == message


async def test_the_registry_is_not_ready_while_settings_are_incomplete(
    rt: Runtime, tenant: TenantInfo, registry: Registry, probe: ProbePlugin
) -> None:
    with pytest.raises(ProviderNotReady) as caught:
        await build(registry, rt, tenant)  # nothing saved yet
    assert caught.value.message == "The settings of Probe SMS for Alpha Clinic are incomplete."
    assert await save(rt, tenant, "clinic", api_key=API_KEY, sender="+447700900123") == {}
    with pytest.raises(ProviderNotReady):
        await build(registry, rt, tenant)  # the operator's key is still missing
    assert await save(rt, tenant, "operator", platform_key=PLATFORM_KEY) == {}
    assert (await build(registry, rt, tenant)).context.settings.platform_key is not None
    assert len(probe.built) == 1
