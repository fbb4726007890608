"""/admin/providers: a clinic admin chooses a plugin per kind and fills in its settings, on a
form built from the plugin's own pydantic model; secrets are never shown back, operator-only
fields never shown at all, bad input saves nothing, and nobody else gets in."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import select

from praxis.core.plugins.settings import ProviderSetting
from praxis.core.runtime import Runtime
from praxis.tenants.directory import TenantInfo
from praxis.tenants.models import Tenant
from tests.conftest import client_for
from tests.functional.flows import signed_in
from tests.functional.test_pages_quality import check_page
from tests.provider_fixtures import (
    CLINIC_NUMBER,
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    WHEREBY_KEY,
    WHEREBY_SECRET,
    Providers,
)
from tests.support import Clinic, csrf_in, login, post_form

SECRETS = (TWILIO_TOKEN, WHEREBY_KEY, WHEREBY_SECRET, STRIPE_KEY, STRIPE_WEBHOOK_SECRET)
SMS_SETTINGS = "/admin/providers/sms/settings"


class Fields(HTMLParser):
    """The form controls of each provider section: {kind: {name: attributes}}."""

    def __init__(self) -> None:
        super().__init__()
        self.kind = ""
        self.found: dict[str, dict[str, dict[str, str | None]]] = {}
        self.options: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.kind = str(values.get("aria-labelledby", "")).removeprefix("kind-")
            self.found[self.kind], self.options[self.kind] = {}, []
        elif tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.found[self.kind][str(values["name"])] = values
        elif tag == "option" and self.kind and values.get("value") is not None:
            self.options[self.kind].append(str(values["value"]))


def fields_of(html: str) -> Fields:
    parser = Fields()
    parser.feed(html)
    return parser


async def stored(rt: Runtime, clinic: Clinic, plugin: str) -> tuple[dict[str, Any], int]:
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(ProviderSetting).where(ProviderSetting.plugin == plugin))
    assert row is not None
    return rt.provider_settings.stored(row, clinic.tenant.id), row.version


async def test_the_page_lists_the_usable_plugins_and_builds_each_form_from_its_model(
    app: Any, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    page = await admin.get("/admin/providers")
    assert page.status_code == 200
    check_page(page.text, "/admin/providers")
    form = fields_of(page.text)
    assert form.options == {
        "video": ["", "video_whereby"],
        "payments": ["", "payments_stripe"],
        "sms": ["", "sms_twilio"],
        "email": ["", "email_smtp"],
        "questionnaires": ["", "questionnaires"],
    }
    assert "Twilio SMS (Twilio Ireland Limited)" in page.text

    # Twilio's model: three fields a clinic owns; its API address is the operator's.
    sms = form.found["sms"]
    # ...and "to", the number of the admin's "Send a test text" form below them.
    assert set(sms) == {"plugin", "account_sid", "auth_token", "from_number", "to"}
    assert sms["account_sid"]["value"] == TWILIO_SID
    assert sms["from_number"]["value"] == CLINIC_NUMBER
    assert sms["auth_token"]["type"] == "password" and "value" not in sms["auth_token"]
    assert sms["auth_token"]["placeholder"] == "Stored: leave blank to keep it"
    assert "Account SID (AC followed by 32 characters), from the Twilio Console" in page.text
    # Stripe's settings are all the operator's: the clinic gets no settings form at all.
    assert set(form.found["payments"]) == {"plugin"}
    assert "api_base_url" not in {name for kind in form.found.values() for name in kind}
    assert "application_fee_percent" not in page.text
    # SMTP's model: numbers, a choice and an optional secret, each as its kind of input.
    email = form.found["email"]
    assert email["port"]["type"] == "number"
    assert email["password"]["type"] == "password"
    assert "security" in email and "from_address" in email
    for secret in SECRETS:
        assert secret not in page.text


async def test_choosing_and_turning_off_a_kind_is_a_setting(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    off = await post_form(admin, "/admin/providers/sms", {"plugin": ""}, page="/admin/providers")
    assert off.status_code == 303 and off.headers["location"] == "/admin/providers"
    page = await admin.get("/admin/providers")
    assert "Text messages: off." in page.text
    assert set(fields_of(page.text).found["sms"]) == {"plugin"}
    assert rt.registry.chosen(await _tenant(rt, clinic), "sms") is None

    # Something that is not an SMS plugin is refused and changes nothing.
    wrong = await post_form(
        admin, "/admin/providers/sms", {"plugin": "video_whereby"}, page="/admin/providers"
    )
    assert wrong.status_code == 303
    assert "Choose one of the providers listed." in (await admin.get("/admin/providers")).text
    assert rt.registry.chosen(await _tenant(rt, clinic), "sms") is None
    unknown = await post_form(
        admin, "/admin/providers/fax", {"plugin": ""}, page="/admin/providers"
    )
    assert unknown.status_code == 404

    # Back on: the settings were kept, so it is ready at once.
    on = await post_form(
        admin, "/admin/providers/sms", {"plugin": "sms_twilio"}, page="/admin/providers"
    )
    assert on.status_code == 303
    page = await admin.get("/admin/providers")
    assert "Text messages: now provided by sms_twilio." in page.text
    chosen = rt.registry.chosen(await _tenant(rt, clinic), "sms")
    assert chosen is not None and chosen.name == "sms_twilio"
    section = page.text.split('id="kind-sms"', 1)[1].split("</section>", 1)[0]
    assert "<p>Ready.</p>" in section


async def _tenant(rt: Runtime, clinic: Clinic) -> TenantInfo:
    """The clinic as it is stored now."""
    async with rt.database.reading() as db:
        row = await db.get(Tenant, clinic.tenant.id)
    assert row is not None
    return TenantInfo.from_row(row)


async def test_secrets_are_never_shown_and_blank_keeps_them(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    before, version = await stored(rt, clinic, "sms_twilio")
    saved = await post_form(
        admin,
        SMS_SETTINGS,
        {
            "account_sid": TWILIO_SID,
            "auth_token": "",
            "from_number": "+447700900124",
            "api_base_url": "http://attacker.example",  # operator-only: ignored from a clinic
        },
        page="/admin/providers",
    )
    assert saved.status_code == 303, saved.text
    after, new_version = await stored(rt, clinic, "sms_twilio")
    assert after["auth_token"] == TWILIO_TOKEN  # blank kept it
    assert after["from_number"] == "+447700900124"
    assert after["api_base_url"] == before["api_base_url"] != "http://attacker.example"
    assert new_version == version + 1
    page = await admin.get("/admin/providers")
    assert "Twilio SMS: settings saved." in page.text
    for secret in SECRETS:
        assert secret not in page.text

    # A new secret replaces the old one; it is not shown back either.
    replacement = "b" * 32
    await post_form(
        admin,
        SMS_SETTINGS,
        {"account_sid": TWILIO_SID, "auth_token": replacement, "from_number": CLINIC_NUMBER},
        page="/admin/providers",
    )
    assert (await stored(rt, clinic, "sms_twilio"))[0]["auth_token"] == replacement
    assert replacement not in (await admin.get("/admin/providers")).text
    async with rt.database.reading(clinic.tenant.id) as db:
        row = await db.scalar(select(ProviderSetting).where(ProviderSetting.plugin == "sms_twilio"))
    assert (
        row is not None and replacement not in str(row.secrets) and "auth_token" not in row.values
    )


async def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    admin = await signed_in(app, clinic, clinic.admin.username)
    before = await stored(rt, clinic, "sms_twilio")
    typed_secret = "c" * 32
    refused = await post_form(
        admin,
        SMS_SETTINGS,
        {"account_sid": "not-a-sid", "auth_token": typed_secret, "from_number": "07700 900123"},
        page="/admin/providers",
    )
    assert refused.status_code == 422
    check_page(refused.text, SMS_SETTINGS)
    assert 'class="error-summary"' in refused.text
    for name in ("account_sid", "from_number"):
        error = re.search(rf'<p class="error" id="s-sms-{name}-error">([^<]+)</p>', refused.text)
        assert error and error.group(1).endswith("."), name
        assert f'href="#s-sms-{name}"' in refused.text
    assert 'id="s-sms-auth_token-error"' not in refused.text
    form = fields_of(refused.text).found["sms"]
    assert form["account_sid"]["value"] == "not-a-sid"  # what was typed stays...
    assert form["account_sid"]["aria-invalid"] == "true"
    assert "s-sms-account_sid-error" in str(form["account_sid"]["aria-describedby"])
    assert typed_secret not in refused.text  # ...but never a secret
    assert await stored(rt, clinic, "sms_twilio") == before

    # The other kinds' forms on the same page are untouched by this one's errors.
    assert 'id="s-video-api_key-error"' not in refused.text


async def test_consumers_and_professionals_get_403(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    before = await stored(rt, clinic, "sms_twilio")
    for who in (clinic.consumer.username, clinic.professional.username):
        client = await signed_in(app, clinic, who)
        assert (await client.get("/admin/providers")).status_code == 403
        token = csrf_in((await client.get("/account")).text)
        for path, data in (
            ("/admin/providers/sms", {"plugin": ""}),
            (SMS_SETTINGS, {"account_sid": TWILIO_SID, "from_number": "+447700900999"}),
        ):
            answer = await client.post(path, data={**data, "csrf_token": token})
            assert answer.status_code == 403, (who, path)
    assert await stored(rt, clinic, "sms_twilio") == before
    assert rt.registry.chosen(await _tenant(rt, clinic), "sms") is not None


async def test_another_clinics_admin_neither_sees_nor_changes_these_settings(
    app: Any, rt: Runtime, clinic: Clinic, other_clinic: Clinic, providers: Providers
) -> None:
    before = await stored(rt, clinic, "sms_twilio")
    async with client_for(app, other_clinic.host) as theirs:
        await login(theirs, other_clinic.admin.username)
        page = await theirs.get("/admin/providers")
        assert page.status_code == 200
        for mine in (TWILIO_SID, CLINIC_NUMBER, "alpha"):
            assert mine not in page.text
        assert set(fields_of(page.text).found["sms"]) == {"plugin"}  # nothing chosen there
        token = csrf_in(page.text)
        cookie = "; ".join(f"{name}={value}" for name, value in theirs.cookies.items())
        # What they set on their own site stays theirs.
        chose = await post_form(
            theirs, "/admin/providers/sms", {"plugin": "sms_twilio"}, page="/admin/providers"
        )
        assert chose.status_code == 303
        theirs_saved = await post_form(
            theirs,
            SMS_SETTINGS,
            {
                "account_sid": "AC" + "2" * 32,
                "auth_token": "d" * 32,
                "from_number": "+447700900555",
            },
            page="/admin/providers",
        )
        assert theirs_saved.status_code == 303, theirs_saved.text
        token = csrf_in((await theirs.get("/admin/providers")).text)

    # Their session means nothing on this clinic's site: signed out here, forms refused.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"http://{clinic.host}"
    ) as here:
        shown = await here.get("/admin/providers", headers={"Cookie": cookie})
        assert shown.status_code == 303 and shown.headers["location"].startswith("/login")
        for path, data in (
            ("/admin/providers/sms", {"plugin": ""}),
            (SMS_SETTINGS, {"account_sid": TWILIO_SID, "from_number": "+447700900999"}),
        ):
            answer = await here.post(
                path, data={**data, "csrf_token": token}, headers={"Cookie": cookie}
            )
            assert answer.status_code == 400, path  # their form token is not valid here
            assert "This form has expired" in answer.text
    assert await stored(rt, clinic, "sms_twilio") == before
    assert rt.registry.chosen(await _tenant(rt, clinic), "sms") is not None


async def test_saved_settings_take_effect_on_the_next_message_at_once(
    app: Any, rt: Runtime, clinic: Clinic, providers: Providers
) -> None:
    """The provider built from the old settings is not reused after the clinic saves new ones."""
    before = await rt.providers(providers.tenant).built("sms")
    admin = await signed_in(app, clinic, clinic.admin.username)
    saved = await post_form(
        admin,
        SMS_SETTINGS,
        {"account_sid": TWILIO_SID, "auth_token": "", "from_number": "+447700900124"},
        page="/admin/providers",
    )
    assert saved.status_code == 303, saved.text
    after = await rt.providers(providers.tenant).built("sms")
    assert after is not before
    assert await rt.providers(providers.tenant).built("sms") is after  # and then reused
