"""The only caller of providers: every call that sends personal data is recorded around it.

For each operation the facade builds the request with exactly the fields it needs, checks
that the plugin's manifest declares every category the request carries (so the privacy
notice never names fewer recipients or categories than are used), records the disclosure
as *attempted* in a transaction of its own before the bytes leave, and its outcome after.
A plugin cannot skip this, and writes no logging code.

Callers must not hold a write transaction open while they call: the facade writes the
ledger in transactions of its own (SQLite allows one writer at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog

from praxis.core import ledger
from praxis.core.errors import ProviderNotReady
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.plugins.registry import Built, Registry, webhook_url
from praxis.core.providers import email, payments, questionnaires, sms, video
from praxis.core.providers.common import PermanentFailure, ProviderError, TemporaryFailure
from praxis.core.providers.manifest import DataCategory, PluginKind, PluginManifest
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.providers")
T = TypeVar("T")


class UndeclaredDisclosure(PermanentFailure):
    """The request carries categories the plugin's manifest does not declare: not sent."""


class Facade:
    """The providers of one tenant, each call recorded in that tenant's ledger."""

    def __init__(self, database: Database, registry: Registry, tenant: TenantInfo) -> None:
        self.database = database
        self.registry = registry
        self.tenant = tenant

    async def built(self, kind: PluginKind) -> Built:
        async with self.database.reading(self.tenant.id) as db:
            return await self.registry.build(db, self.tenant, kind)

    async def ready(self, kind: PluginKind) -> bool:
        try:
            await self.built(kind)
        except ProviderNotReady:
            return False
        return True

    async def _call(
        self,
        kind: PluginKind,
        operation: str,
        request: Any,
        *,
        subject_id: uuid.UUID | None,
        correlation_id: str,
    ) -> Any:
        """Call the provider's method named ``operation`` with ``request``, recorded around."""
        categories: Sequence[DataCategory] = request.categories
        built = await self.built(kind)
        manifest = built.manifest
        use = _declared(manifest, operation, categories)
        attempt = None
        if categories and manifest.processor is not None:
            attempt = await self._record(
                manifest, operation, categories, use, Status.ATTEMPTED, subject_id, correlation_id
            )
        try:
            result = await getattr(built.provider, operation)(request)
        except Exception as exc:
            failure = _as_provider_error(exc)
            if attempt is not None:
                await self._record(
                    manifest,
                    operation,
                    categories,
                    use,
                    Status.FAILED,
                    subject_id,
                    correlation_id,
                    attempt_seq=attempt,
                    reason=failure.reason,
                )
            log.warning(
                "provider_call_failed",
                plugin=manifest.name,
                operation=operation,
                error=type(failure).__name__,
                reason=failure.reason,
            )
            if failure is exc:
                raise
            raise failure from exc
        if attempt is not None:
            await self._record(
                manifest,
                operation,
                categories,
                use,
                Status.SUCCEEDED,
                subject_id,
                correlation_id,
                attempt_seq=attempt,
            )
        return result

    async def _record(
        self,
        manifest: PluginManifest,
        operation: str,
        categories: Sequence[DataCategory],
        use: tuple[str, str],
        status: Status,
        subject_id: uuid.UUID | None,
        correlation_id: str,
        *,
        attempt_seq: int | None = None,
        reason: str = "",
    ) -> int:
        assert manifest.processor is not None
        entry = Entry(
            kind=EventKind.DISCLOSURE,
            status=status,
            recipient=manifest.processor.legal_name,
            recipient_kind=RecipientKind.PROCESSOR,
            operation=operation,
            categories=[c.value for c in categories],
            purpose=use[0],
            legal_basis=use[1],
            subject_id=subject_id,
            plugin=manifest.name,
            correlation_id=correlation_id,
            reason=reason,
            attempt_seq=attempt_seq,
        )
        async with self.database.writing(self.tenant.id) as db:
            appended = await ledger.append(db, entry)
            await db.commit()
        return appended.seq

    # --- video -------------------------------------------------------------------------------

    async def create_meeting(
        self, *, subject_id: uuid.UUID, ends_at: datetime, idempotency_key: str, attempt: int
    ) -> video.Meeting:
        request = video.MeetingRequest(
            idempotency_key=idempotency_key, attempt=attempt, ends_at=ends_at, is_locked=True
        )
        meeting: video.Meeting = await self._call(
            "video",
            "create_meeting",
            request,
            subject_id=subject_id,
            correlation_id=idempotency_key,
        )
        return meeting

    async def delete_meeting(self, *, meeting_id: str, idempotency_key: str) -> None:
        request = video.MeetingDeletion(meeting_id=meeting_id, idempotency_key=idempotency_key)
        await self._call(
            "video", "delete_meeting", request, subject_id=None, correlation_id=idempotency_key
        )

    # --- payments ----------------------------------------------------------------------------

    async def create_account(
        self, *, idempotency_key: str, country: str
    ) -> payments.ConnectedAccount:
        request = payments.AccountRequest(idempotency_key=idempotency_key, country=country)
        account: payments.ConnectedAccount = await self._call(
            "payments", "create_account", request, subject_id=None, correlation_id=idempotency_key
        )
        return account

    async def onboarding_link(
        self, *, account_id: str, return_url: str, refresh_url: str
    ) -> payments.OnboardingLink:
        request = payments.OnboardingRequest(
            account_id=account_id, return_url=return_url, refresh_url=refresh_url
        )
        link: payments.OnboardingLink = await self._call(
            "payments", "onboarding_link", request, subject_id=None, correlation_id=account_id
        )
        return link

    async def create_checkout(
        self, *, subject_id: uuid.UUID, request: payments.CheckoutRequest
    ) -> payments.Checkout:
        checkout: payments.Checkout = await self._call(
            "payments",
            "create_checkout",
            request,
            subject_id=subject_id,
            correlation_id=request.idempotency_key,
        )
        return checkout

    async def expire_checkout(self, *, account_id: str, checkout_id: str) -> None:
        request = payments.CheckoutExpiry(account_id=account_id, checkout_id=checkout_id)
        await self._call(
            "payments", "expire_checkout", request, subject_id=None, correlation_id=checkout_id
        )

    async def refund(
        self,
        *,
        subject_id: uuid.UUID | None,
        idempotency_key: str,
        account_id: str,
        payment_id: str,
        amount_minor: int,
    ) -> payments.Refund:
        request = payments.RefundRequest(
            idempotency_key=idempotency_key,
            account_id=account_id,
            payment_id=payment_id,
            amount_minor=amount_minor,
        )
        refund: payments.Refund = await self._call(
            "payments", "refund", request, subject_id=subject_id, correlation_id=idempotency_key
        )
        return refund

    # --- sms and email -----------------------------------------------------------------------

    async def send_sms(
        self,
        *,
        subject_id: uuid.UUID | None,
        to: str,
        body: str,
        about: tuple[DataCategory, ...],
        idempotency_key: str,
        attempt: int,
        first_attempt_at: datetime | None = None,
    ) -> sms.SmsReceipt:
        built = await self.built("sms")
        callback = webhook_url(self.registry.settings, self.tenant, built.manifest.name) + "/status"
        message = sms.SmsMessage(
            idempotency_key=idempotency_key,
            attempt=attempt,
            to=to,
            body=body,
            about=about,
            status_callback_url=callback,
            first_attempt_at=first_attempt_at,
        )
        receipt: sms.SmsReceipt = await self._call(
            "sms", "send_message", message, subject_id=subject_id, correlation_id=idempotency_key
        )
        return receipt

    async def send_email(
        self,
        *,
        subject_id: uuid.UUID | None,
        to: str,
        subject: str,
        text: str,
        about: tuple[DataCategory, ...],
        idempotency_key: str,
        reply_to: str | None = None,
    ) -> email.EmailReceipt:
        message = email.EmailMessage(
            idempotency_key=idempotency_key,
            to=to,
            subject=subject,
            text=text,
            sender_name=self.tenant.name,
            about=about,
            reply_to=reply_to,
            tenant_slug=self.tenant.slug,
        )
        receipt: email.EmailReceipt = await self._call(
            "email", "send_email", message, subject_id=subject_id, correlation_id=idempotency_key
        )
        return receipt

    # --- questionnaires (answers never leave the platform) ------------------------------------

    async def questionnaires(self) -> questionnaires.QuestionnaireProvider:
        built = await self.built("questionnaires")
        provider: questionnaires.QuestionnaireProvider = built.provider
        return provider


def _declared(
    manifest: PluginManifest, operation: str, categories: Sequence[DataCategory]
) -> tuple[str, str]:
    """(purpose, legal basis) the manifest gives this operation; refuses undeclared data."""
    if not categories:
        return ("", "")
    use = next((u for u in manifest.data if u.operation == operation), None)
    if use is None or not set(categories) <= set(use.categories):
        declared = ", ".join(c.value for c in use.categories) if use else "nothing"
        raise UndeclaredDisclosure(
            f"plugin {manifest.name} would send {', '.join(c.value for c in categories)} "
            f"for {operation}, but its manifest declares {declared}: not sent"
        )
    return (use.purpose, use.legal_basis)


def _as_provider_error(exc: Exception) -> ProviderError:
    """Timeouts and dropped connections a plugin let through are temporary; the rest is not."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return TemporaryFailure("the provider did not answer in time")
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return TemporaryFailure("the provider could not be reached")
    return PermanentFailure(f"the plugin failed unexpectedly ({type(exc).__name__})")
