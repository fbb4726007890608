"""The only caller of providers: every call that sends personal data is recorded around it.

For each operation the facade builds the request with exactly the fields it needs, checks
that the plugin's manifest declares every category the request carries (so the privacy
notice never names fewer recipients or categories than are used), records the disclosure
as *attempted* in a transaction of its own before the bytes leave, calls the plugin under a
deadline, checks what it returned against the operation's DTO, and records the outcome:
*succeeded*, *failed*, or *unknown* when the answer was lost (a later attempt settles it).
A plugin cannot skip this, and writes no logging code. A call asking a provider to erase what
it holds about a person is recorded the same way, as an *erasure* naming what is erased; an
optional operation the clinic's plugin leaves out is not called (``NotOffered``), and said so.

Callers must not hold a write transaction open while they call: the facade writes the
ledger in transactions of its own (SQLite allows one writer at a time).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog

from praxis.core import ledger
from praxis.core.errors import ProviderNotReady
from praxis.core.ledger import Entry, EventKind, RecipientKind, Status
from praxis.core.logs import where_it_failed
from praxis.core.plugins.registry import Built, Registry, webhook_url
from praxis.core.providers import email, payments, questionnaires, sms, video
from praxis.core.providers.common import (
    AnswerLost,
    DataCategory,
    Operation,
    PermanentFailure,
    PluginKind,
    ProviderError,
    TemporaryFailure,
)
from praxis.core.providers.conformance import offered
from praxis.core.providers.kinds import KINDS
from praxis.core.providers.manifest import PluginManifest
from praxis.core.providers.results import InvalidResult, check_result
from praxis.core.tenancy import Database
from praxis.tenants.directory import TenantInfo

log = structlog.get_logger("praxis.providers")
RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")
# Why and on what basis a provider is asked to erase: the platform's, not the manifest's.
ERASURE_USE = (
    "erase what the provider holds about the person",
    "right to erasure (UK GDPR Art. 17)",
)


class UndeclaredDisclosure(PermanentFailure):
    """The request carries categories the plugin's manifest does not declare: not sent."""


class NotOffered(PermanentFailure):
    """The clinic's plugin leaves out this optional operation: nothing was asked of it."""

    CODE = "not_offered"


class PluginFault(PermanentFailure):
    """The plugin misbehaved (an unusable result, an unexpected exception): its own failure,
    named with the plugin and the operation, never with the data."""


class Facade:
    """The providers of one tenant, each call recorded in that tenant's ledger."""

    def __init__(self, database: Database, registry: Registry, tenant: TenantInfo) -> None:
        self.database = database
        self.registry = registry
        self.tenant = tenant
        self.video = VideoCalls(self)
        self.payments = PaymentCalls(self)
        self.sms = SmsCalls(self)
        self.email = EmailCalls(self)

    async def built(self, kind: PluginKind) -> Built:
        async with self.database.reading(self.tenant.id) as db:
            return await self.registry.build(db, self.tenant, kind)

    async def ready(self, kind: PluginKind) -> bool:
        try:
            await self.built(kind)
        except ProviderNotReady:
            return False
        return True

    async def offers(self, kind: PluginKind, operation: Operation[Any, Any]) -> bool:
        """Whether the clinic's plugin of ``kind`` has ``operation`` (optional ones may lack it)."""
        return _offers(await self.built(kind), operation)

    async def questionnaires(self) -> questionnaires.QuestionnaireProvider:
        """Questionnaires run inside the platform: nothing leaves, nothing to record."""
        provider: questionnaires.QuestionnaireProvider = (
            await self.built("questionnaires")
        ).provider
        return provider

    async def call(
        self,
        kind: PluginKind,
        operation: Operation[RequestT, ResultT],
        request: RequestT,
        *,
        subject_id: uuid.UUID | None,
        correlation_id: str,
        attempt: int | None = None,
        purpose: tuple[str, str] | None = None,
    ) -> ResultT:
        """Call the provider's ``operation`` with ``request``, recorded around.

        ``attempt`` (1 on a job's first try; None when unknown) decides whether an earlier
        attempt's lost answer may be settled by this one's result. ``purpose`` (purpose, legal
        basis) replaces the manifest's where the platform sends for another purpose of its
        own (marketing, on consent); the categories are checked against the manifest alike.
        """
        categories: Sequence[DataCategory] = getattr(request, "categories", ())
        built = await self.built(kind)
        manifest = built.manifest
        use = _declared(manifest, operation, categories)
        if purpose is not None and categories:
            use = purpose
        entry_kind = EventKind.ERASURE if operation.erases else EventKind.DISCLOSURE
        if operation.erases:  # what is erased is recorded, as what is sent is otherwise
            categories, use = operation.erases, ERASURE_USE
        recorded = bool(categories) and manifest.processor is not None
        if not _offers(built, operation):
            reason = f"plugin {manifest.name} does not offer {operation.name}: not asked"
            log.warning("provider_not_asked", plugin=manifest.name, operation=operation.name)
            if recorded and operation.erases:  # the clinic must ask the processor itself
                await self._record(
                    manifest,
                    operation.name,
                    categories,
                    use,
                    Status.FAILED,
                    subject_id,
                    correlation_id,
                    reason=reason,
                    kind=entry_kind,
                )
            raise NotOffered(reason, code=NotOffered.CODE)
        attempt_seq = None
        if recorded:
            attempt_seq = await self._record(
                manifest,
                operation.name,
                categories,
                use,
                Status.ATTEMPTED,
                subject_id,
                correlation_id,
                kind=entry_kind,
            )
        try:
            result = await self._run(built, operation, request)
        except Exception as exc:
            failure = _as_provider_error(exc, manifest, operation)
            self._log_failure(manifest, operation, exc, failure)
            if attempt_seq is not None:
                status = Status.UNKNOWN if isinstance(failure, AnswerLost) else Status.FAILED
                await self._record(
                    manifest,
                    operation.name,
                    categories,
                    use,
                    status,
                    subject_id,
                    correlation_id,
                    attempt_seq=attempt_seq,
                    reason=failure.reason,
                    kind=entry_kind,
                )
            if failure is exc:
                raise
            raise failure from exc
        if recorded:
            await self._record(
                manifest,
                operation.name,
                categories,
                use,
                Status.SUCCEEDED,
                subject_id,
                correlation_id,
                attempt_seq=attempt_seq,
                kind=entry_kind,
            )
            if attempt != 1:
                await self._settle_earlier(manifest, correlation_id, result, attempt_seq)
        return result

    async def _run(
        self, built: Built, operation: Operation[RequestT, ResultT], request: RequestT
    ) -> ResultT:
        """The plugin's method, under the platform's deadline; its result checked."""
        method = getattr(built.provider, operation.name)
        async with asyncio.timeout(self.registry.settings.provider_deadline):
            result = await method(request)
        try:
            check_result(operation, result, allow_http=self.registry.settings.allows_http_links)
        except InvalidResult as exc:
            raise PluginFault(
                f"plugin {built.manifest.name} returned an unusable answer to "
                f"{operation.name}: {exc}"
            ) from None
        typed: ResultT = result
        return typed

    def _log_failure(
        self,
        manifest: PluginManifest,
        operation: Operation[Any, Any],
        exc: Exception,
        failure: ProviderError,
    ) -> None:
        """Name the plugin and the operation, never the message (it may quote personal data);
        in development, the traceback too."""
        unexpected = not isinstance(exc, ProviderError)
        fields: dict[str, Any] = {
            "plugin": manifest.name,
            "operation": operation.name,
            "error": type(failure).__name__,
            "reason": failure.reason,
        }
        if unexpected:
            fields.update(where_it_failed(exc))
        if unexpected and self.registry.settings.is_development:
            log.exception("provider_call_failed", exc_info=exc, **fields)
        elif unexpected or isinstance(failure, PluginFault):
            log.error("provider_call_failed", **fields)
        else:
            log.warning("provider_call_failed", **fields)

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
        kind: EventKind = EventKind.DISCLOSURE,
    ) -> int:
        assert manifest.processor is not None
        entry = Entry(
            kind=kind,
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

    async def _settle_earlier(
        self, manifest: PluginManifest, correlation_id: str, result: object, by_seq: int | None
    ) -> None:
        """Earlier attempts whose answer was lost: this one's result says whether they had
        arrived (``recovered`` True: found their work; False: found none)."""
        recovered = getattr(result, "recovered", None)
        if recovered is None:
            return  # the plugin cannot tell: they stay unknown
        async with self.database.writing(self.tenant.id) as db:
            unsettled = await ledger.unsettled(db, correlation_id)
            for earlier in unsettled:
                await ledger.append(
                    db,
                    Entry(
                        kind=EventKind(earlier.kind),
                        status=Status.SUCCEEDED if recovered else Status.FAILED,
                        recipient=earlier.recipient,
                        recipient_kind=RecipientKind(earlier.recipient_kind),
                        operation=earlier.operation,
                        categories=earlier.category_list,
                        purpose=earlier.purpose,
                        legal_basis=earlier.legal_basis,
                        subject_id=earlier.subject_id,
                        plugin=manifest.name,
                        correlation_id=correlation_id,
                        reason=(
                            f"settled by attempt {by_seq}: "
                            + ("it had arrived" if recovered else "it never arrived")
                        ),
                        attempt_seq=earlier.seq,
                    ),
                )
            await db.commit()


class VideoCalls:
    def __init__(self, facade: Facade) -> None:
        self._facade = facade

    async def create_meeting(
        self, *, subject_id: uuid.UUID, ends_at: datetime, idempotency_key: str, attempt: int
    ) -> video.Meeting:
        request = video.MeetingRequest(
            idempotency_key=idempotency_key, attempt=attempt, ends_at=ends_at, is_locked=True
        )
        return await self._facade.call(
            "video",
            video.CREATE_MEETING,
            request,
            subject_id=subject_id,
            correlation_id=idempotency_key,
            attempt=attempt,
        )

    async def delete_meeting(self, *, meeting_id: str, idempotency_key: str) -> None:
        request = video.MeetingDeletion(meeting_id=meeting_id, idempotency_key=idempotency_key)
        await self._facade.call(
            "video",
            video.DELETE_MEETING,
            request,
            subject_id=None,
            correlation_id=idempotency_key,
        )


class PaymentCalls:
    def __init__(self, facade: Facade) -> None:
        self._facade = facade

    async def create_account(
        self, *, idempotency_key: str, country: str
    ) -> payments.ConnectedAccount:
        request = payments.AccountRequest(idempotency_key=idempotency_key, country=country)
        return await self._facade.call(
            "payments",
            payments.CREATE_ACCOUNT,
            request,
            subject_id=None,
            correlation_id=idempotency_key,
        )

    async def onboarding_link(
        self, *, account_id: str, return_url: str, refresh_url: str
    ) -> payments.OnboardingLink:
        request = payments.OnboardingRequest(
            account_id=account_id, return_url=return_url, refresh_url=refresh_url
        )
        return await self._facade.call(
            "payments",
            payments.ONBOARDING_LINK,
            request,
            subject_id=None,
            correlation_id=account_id,
        )

    async def create_checkout(
        self, *, subject_id: uuid.UUID, request: payments.CheckoutRequest
    ) -> payments.Checkout:
        return await self._facade.call(
            "payments",
            payments.CREATE_CHECKOUT,
            request,
            subject_id=subject_id,
            correlation_id=request.idempotency_key,
        )

    async def expire_checkout(self, *, account_id: str, checkout_id: str) -> None:
        request = payments.CheckoutExpiry(account_id=account_id, checkout_id=checkout_id)
        await self._facade.call(
            "payments",
            payments.EXPIRE_CHECKOUT,
            request,
            subject_id=None,
            correlation_id=checkout_id,
        )

    async def refund(
        self,
        *,
        subject_id: uuid.UUID | None,
        idempotency_key: str,
        account_id: str,
        payment_id: str,
        amount_minor: int,
        attempt: int,
    ) -> payments.Refund:
        request = payments.RefundRequest(
            idempotency_key=idempotency_key,
            account_id=account_id,
            payment_id=payment_id,
            amount_minor=amount_minor,
            attempt=attempt,
        )
        return await self._facade.call(
            "payments",
            payments.REFUND,
            request,
            subject_id=subject_id,
            correlation_id=idempotency_key,
            attempt=attempt,
        )


class SmsCalls:
    def __init__(self, facade: Facade) -> None:
        self._facade = facade

    async def send(
        self,
        *,
        subject_id: uuid.UUID | None,
        to: str,
        body: str,
        about: tuple[DataCategory, ...],
        idempotency_key: str,
        attempt: int,
        first_attempt_at: datetime | None = None,
        purpose: tuple[str, str] | None = None,
    ) -> sms.SmsReceipt:
        facade = self._facade
        built = await facade.built("sms")
        hook = webhook_url(facade.registry.settings, facade.tenant, built.manifest.name)
        message = sms.SmsMessage(
            idempotency_key=idempotency_key,
            attempt=attempt,
            to=to,
            body=body,
            about=about,
            status_callback_url=hook + "/status",
            first_attempt_at=first_attempt_at,
        )
        return await facade.call(
            "sms",
            sms.SEND_MESSAGE,
            message,
            subject_id=subject_id,
            correlation_id=idempotency_key,
            attempt=attempt,
            purpose=purpose,
        )

    async def erase_message(
        self, *, subject_id: uuid.UUID | None, message_id: str, idempotency_key: str
    ) -> bool:
        """Ask the provider to erase one text it sent. False: the clinic's plugin cannot (it
        leaves out the optional operation), and the ledger says so."""
        request = sms.MessageErasure(message_id=message_id, idempotency_key=idempotency_key)
        try:
            await self._facade.call(
                "sms",
                sms.ERASE_MESSAGE,
                request,
                subject_id=subject_id,
                correlation_id=idempotency_key,
            )
        except NotOffered:
            return False
        return True


class EmailCalls:
    def __init__(self, facade: Facade) -> None:
        self._facade = facade

    async def send(
        self,
        *,
        subject_id: uuid.UUID | None,
        to: str,
        subject: str,
        text: str,
        about: tuple[DataCategory, ...],
        idempotency_key: str,
        attempt: int = 1,
        reply_to: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
        purpose: tuple[str, str] | None = None,
        attachments: tuple[email.Attachment, ...] = (),
    ) -> email.EmailReceipt:
        tenant = self._facade.tenant
        message = email.EmailMessage(
            idempotency_key=idempotency_key,
            to=to,
            subject=subject,
            text=text,
            sender_name=tenant.name,
            about=about,
            reply_to=reply_to,
            tenant_slug=tenant.slug,
            attempt=attempt,
            headers=headers,
            attachments=attachments,
        )
        return await self._facade.call(
            "email",
            email.SEND_EMAIL,
            message,
            subject_id=subject_id,
            correlation_id=idempotency_key,
            attempt=attempt,
            purpose=purpose,
        )


def _offers(built: Built, operation: Operation[Any, Any]) -> bool:
    return not operation.optional or operation.name in offered(
        KINDS[built.manifest.kind], built.provider
    )


def _declared(
    manifest: PluginManifest, operation: Operation[Any, Any], categories: Sequence[DataCategory]
) -> tuple[str, str]:
    """(purpose, legal basis) the manifest gives this operation; refuses undeclared data."""
    if not categories:
        return ("", "")
    if not set(categories) <= set(operation.sends):
        raise UndeclaredDisclosure(  # the platform's own bug: never send more than described
            f"{operation.name} would send more than its kind describes: not sent"
        )
    use = next((u for u in manifest.data if u.operation == operation.name), None)
    if use is None or not set(categories) <= set(use.categories):
        declared = ", ".join(c.value for c in use.categories) if use else "nothing"
        raise UndeclaredDisclosure(
            f"plugin {manifest.name} would send {', '.join(c.value for c in categories)} "
            f"for {operation.name}, but its manifest declares {declared}: not sent"
        )
    return (use.purpose, use.legal_basis)


def _as_provider_error(
    exc: Exception, manifest: PluginManifest, operation: Operation[Any, Any]
) -> ProviderError:
    """What a plugin let through, as the platform's words: a refused connection is temporary;
    a timeout or a dropped answer may have arrived (unknown); anything else is the plugin's
    own fault, named."""
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | ConnectionRefusedError):
        return TemporaryFailure("the provider could not be reached")
    if isinstance(exc, TimeoutError):  # the platform's deadline (asyncio.timeout)
        seconds = f"{manifest.name} did not answer within the deadline"
        return AnswerLost(f"{seconds} ({operation.name}); it may have acted")
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError | ConnectionError):
        return AnswerLost("the provider's answer was lost; it may have acted")
    return PluginFault(
        f"plugin {manifest.name} failed unexpectedly in {operation.name} ({type(exc).__name__})"
    )
