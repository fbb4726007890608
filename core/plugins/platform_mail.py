"""The platform's own mail, to its operators: sent through the email_smtp plugin (its TLS
rules, outbound policy and Maildir) with a relay named in the environment, not a clinic's.

PLATFORM_SMTP_URL names the relay, PLATFORM_MAIL_FROM the sender. Off production, without
them, messages go into the development mailbox (``<PRAXIS_VAR_DIR>/mailbox``, read at
``/-/mailbox``). Production refuses to start without them: an operator's security alert
that silently goes nowhere would hide a takeover.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import ValidationError

from praxis.core.config import ConfigError, Settings
from praxis.core.plugins.loader import Plugins
from praxis.core.providers.common import ProviderContext
from praxis.core.providers.email import EmailMessage, EmailProvider
from praxis.core.providers.network import REQUIRE_TLS, OutboundPolicy

PLUGIN = "email_smtp"
SENDER_NAME = "Praxis platform"
DEVELOPMENT_FROM = "praxis@praxis.example"
TIMEOUT_SECONDS = 10.0  # per SMTP command: the request that made the change is not kept waiting
SECURITY = {"smtp": ("starttls", 587), "smtps": ("tls", 465)}
URL_FORM = (
    "PLATFORM_SMTP_URL: use smtp://user:password@host:587 (STARTTLS) or "
    "smtps://user:password@host:465 (TLS); percent-encode any @ : / in the password."
)
MISSING = (
    "PLATFORM_SMTP_URL is not set. Production emails operators when their sign-in details "
    "change, so a takeover cannot go unnoticed: set PLATFORM_SMTP_URL (e.g. "
    "smtps://user:password@smtp.example.org:465) and PLATFORM_MAIL_FROM (e.g. "
    "praxis@your-domain). For local use set PRAXIS_ENV=development."
)


@dataclass(frozen=True)
class PlatformMail:
    """Sends one message to an operator; raises the plugin's ProviderError when it cannot."""

    provider: EmailProvider

    async def send(self, *, to: str, subject: str, text: str, key: str) -> None:
        message = EmailMessage(
            idempotency_key=key,
            to=to,
            subject=subject,
            text=text,
            sender_name=SENDER_NAME,
            about=(),
        )
        async with asyncio.timeout(2 * TIMEOUT_SECONDS):  # all commands together
            await self.provider.send_email(message)


def relay_settings(settings: Settings) -> dict[str, Any]:
    """The email_smtp plugin's settings for the platform's relay, or its development mailbox.
    Errors name the variable, never its value (the URL holds a password)."""
    url = _url(settings)
    if settings.env == "production" and not url:
        raise ConfigError(MISSING)
    sender = settings.platform_mail_from.strip()
    values: dict[str, Any] = {
        # The relay is the platform's processor, named in PLATFORM_PROCESSORS and its notice.
        "relay_company": "The platform's SMTP relay (PLATFORM_SMTP_URL)",
        "relay_privacy_policy_url": settings.site_url() + "/platform/privacy",
        "timeout_seconds": TIMEOUT_SECONDS,
    }
    if not url:
        mailbox = (settings.var_dir / "mailbox").resolve()
        return values | {"mailbox_dir": str(mailbox), "from_address": sender or DEVELOPMENT_FROM}
    if not sender:
        raise ConfigError(
            "PLATFORM_MAIL_FROM is not set: name the address the platform's mail comes from, "
            "one your relay (PLATFORM_SMTP_URL) may send as."
        )
    try:
        parts = urlsplit(url)
        security, port = SECURITY[parts.scheme.lower()]
        port = parts.port or port
    except (KeyError, ValueError):
        raise ConfigError(URL_FORM) from None
    if not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(URL_FORM)
    return values | {
        "host": parts.hostname,
        "port": port,
        "security": security,
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "from_address": sender,
    }


def relay(settings: Settings, plugins: Plugins) -> Any:
    """The plugin's validated settings for the platform's relay: checked at start-up, before
    anything is opened; ConfigError when the platform's mail could not work."""
    values = relay_settings(settings)
    manifest = plugins.manifests.get(PLUGIN)
    if manifest is None or PLUGIN not in plugins.factories:
        raise ConfigError(
            f"The platform's mail to operators goes through the {PLUGIN} plugin, which is not "
            f"installed or is disabled (praxis plugins list says why)."
        )
    try:
        checked = manifest.settings_model.model_validate(
            values, context={REQUIRE_TLS: settings.requires_tls}
        )
    except ValidationError as exc:
        wrong = sorted({str(error["loc"][0]) for error in exc.errors()})
        variable = "PLATFORM_MAIL_FROM" if wrong == ["from_address"] else "PLATFORM_SMTP_URL"
        raise ConfigError(f"{variable}: not usable ({', '.join(wrong)}).") from None
    return checked


def platform_mail(
    settings: Settings,
    plugins: Plugins,
    relay: Any,
    http: httpx.AsyncClient,
    network: OutboundPolicy,
) -> PlatformMail:
    """The platform's mail, built once per process from ``relay``'s settings."""
    context = ProviderContext(
        settings=relay,
        http=http,
        tenant_slug="",
        tenant_name=SENDER_NAME,
        public_url=settings.site_url(),
        webhook_url="",
        network=network,
    )
    provider = plugins.factories[PLUGIN](context)
    if not isinstance(provider, EmailProvider):
        raise ConfigError(f"The {PLUGIN} plugin did not build an email provider.")
    return PlatformMail(provider)


def _url(settings: Settings) -> str:
    given = settings.platform_smtp_url
    return given.get_secret_value().strip() if given is not None else ""
