"""Every hook a Praxis plugin may implement. This module is the public plugin API.

A plugin is a module registered under the ``praxis`` entry-point group. It
implements hooks with ``@hookimpl``; a misspelt hook name stops start-up with a
message naming the plugin. docs/hooks.md is generated from these docstrings
(``praxis plugins docs``) and a test fails if any hook lacks documentation.
"""

from __future__ import annotations

import pluggy

from praxis.core.providers.common import PLUGIN_API, ProviderContext, ProviderFactory
from praxis.core.providers.manifest import (
    DataCategory,
    DataUse,
    NoSettings,
    PluginManifest,
    Processor,
)

hookspec = pluggy.HookspecMarker("praxis")
hookimpl = pluggy.HookimplMarker("praxis")

__all__ = [
    "PLUGIN_API",
    "DataCategory",
    "DataUse",
    "NoSettings",
    "PluginManifest",
    "Processor",
    "ProviderContext",
    "ProviderFactory",
    "hookimpl",
    "hookspec",
    "praxis_manifest",
    "praxis_register_providers",
]


@hookspec
def praxis_manifest() -> PluginManifest:  # type: ignore[empty-body]
    """Declare what the plugin is. Every plugin implements this hook, exactly once.

    Returns:
        A ``PluginManifest``: ``name`` (lower_snake_case, unique), ``kind`` (video,
        payments, sms, email or questionnaires), ``title`` and ``version``; ``requires``,
        the plugin API versions it works with (this platform's is ``PLUGIN_API``; a
        plugin that does not fit is disabled at load); the ``processor`` that receives
        personal data (legal name, country, transfer safeguard, privacy policy URL), or
        ``None`` if data never leaves the platform; ``data``, one ``DataUse`` per
        operation of the kind that sends personal data, naming at least the categories
        the platform sends with it (see docs/providers.md), its purpose and legal basis;
        and ``settings_model``, a pydantic model of the per-tenant settings (secrets as
        ``SecretStr``).

    The manifest feeds ``/-/plugins`` and each tenant's privacy notice. A manifest that
    is not valid, or breaks a rule of the conformance kit, disables the plugin (the
    reason is logged and shown in ``praxis plugins list``); the platform starts anyway.

    Example::

        @hookimpl
        def praxis_manifest() -> PluginManifest:
            return PluginManifest(
                name="sms_example", kind="sms", title="Example SMS", version="1.0.0",
                requires=">=1.0,<2",
                processor=Processor(legal_name="Example Ltd", country="GB",
                                    transfer_safeguard="UK", privacy_policy_url="https://x.example/p"),
                data=(DataUse(operation="send_message",
                              categories=(DataCategory.PHONE, DataCategory.APPOINTMENT),
                              purpose="appointment reminders", legal_basis="contract"),),
            )
    """


@hookspec
def praxis_register_providers() -> ProviderFactory:  # type: ignore[empty-body]
    """Give the class (or any callable) that builds this plugin's provider for one tenant.

    Returns:
        A callable taking a ``ProviderContext`` (the tenant's validated settings, the
        shared ``httpx.AsyncClient``, the tenant's public and webhook URLs) and returning
        an object that implements the Protocol of the manifest's kind:
        ``praxis.core.providers.video.VideoProvider``, ``payments.PaymentsProvider``,
        ``sms.SmsProvider``, ``email.EmailProvider`` or
        ``questionnaires.QuestionnaireProvider``. The platform checks a class at load and
        every provider it builds; one that does not fit is not used.

    The platform alone calls the provider, through its facade: it records every
    disclosure before and after the call, so the provider writes no logging code. It
    gives each call a deadline (``PROVIDER_DEADLINE_SECONDS``, by default twice the shared
    client's ``PROVIDER_TIMEOUT_SECONDS``) and checks the result against its DTO before
    using it. Raise ``TemporaryFailure`` (retried), ``AnswerLost`` (retried; the request
    may have arrived) or ``PermanentFailure`` from ``praxis.core.providers.common``; a
    connection the shared client could not make counts as temporary, and an answer it lost
    as ``AnswerLost``. See docs/plugins.md and docs/providers.md.

    Example::

        from praxis.core.providers.common import (
            PermanentFailure, ProviderContext, TemporaryFailure, WebhookRejected,
            WebhookReply, WebhookRequest,
        )
        from praxis.core.providers.sms import SmsMessage, SmsReceipt

        class ExampleSms:
            webhook_reply = WebhookReply()

            def __init__(self, context: ProviderContext) -> None:
                self.context = context

            async def send_message(self, message: SmsMessage) -> SmsReceipt:
                response = await self.context.http.post(
                    "https://api.sms.example/send",
                    json={"to": message.to, "text": message.body},
                    headers={"Idempotency-Key": message.idempotency_key},  # same on retries
                )
                if response.status_code == 429 or response.status_code >= 500:
                    raise TemporaryFailure(f"Example SMS answered {response.status_code}")
                if response.status_code >= 400:
                    raise PermanentFailure(f"Example SMS refused it ({response.status_code})")
                return SmsReceipt(message_id=response.json()["id"], status="queued")

            def parse_webhook(self, request: WebhookRequest) -> None:
                raise WebhookRejected("Example SMS sends no webhooks")  # or verify, then read

        @hookimpl
        def praxis_register_providers() -> ProviderFactory:
            return ExampleSms
    """
