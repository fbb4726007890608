"""``PostboxEmail``: one JSON call per email, with the platform's idempotency key.

Postbox answers a repeated ``Idempotency-Key`` with the first email (``Idempotent-Replayed:
true``) instead of sending it again; the Message-ID is derived from the same key, so a
receiving server can tell a repeat too. Email takes no webhooks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import httpx
from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderContext,
    TemporaryFailure,
)
from praxis.core.providers.email import EmailMessage, EmailReceipt
from pydantic import BaseModel, Field, ValidationError

from praxis_email_postbox.settings import PostboxSettings


def message_id(idempotency_key: str, *, tenant_slug: str, domain: str) -> str:
    """The same Message-ID on every attempt: one clinic's job, one email."""
    digest = hashlib.sha256(f"{tenant_slug}\x00{idempotency_key}".encode()).hexdigest()
    return f"<{digest[:40]}@{domain}>"


class _Accepted(BaseModel):
    id: str = Field(min_length=1)


class PostboxEmail:
    """An ``EmailProvider`` for one clinic's Postbox server."""

    def __init__(self, context: ProviderContext[PostboxSettings]) -> None:
        settings = context.settings
        self._http = context.http
        self._url = str(settings.api_base_url).rstrip("/") + "/v1/email"
        self._token = settings.server_token.get_secret_value()
        self._from = str(settings.from_address)

    async def send_email(self, message: EmailMessage) -> EmailReceipt:
        domain = self._from.rpartition("@")[2]
        body = {
            "from": {"name": " ".join(message.sender_name.split()), "address": self._from},
            "to": message.to,
            "reply_to": message.reply_to,
            "subject": " ".join(message.subject.split()),  # one line: no header injection
            "text": message.text,
            "headers": {
                "Message-ID": message_id(
                    message.idempotency_key, tenant_slug=message.tenant_slug, domain=domain
                ),
                "Auto-Submitted": "auto-generated",  # out-of-office replies stay quiet
            },
        }
        response = await self._post(body, idempotency_key=message.idempotency_key)
        _raise_for_status(response)
        try:
            accepted = _Accepted.model_validate(response.json())
        except (ValueError, ValidationError):
            raise TemporaryFailure("Postbox sent an answer the plugin could not read") from None
        replayed = response.headers.get("idempotent-replayed") == "true"
        return EmailReceipt(
            message_id=accepted.id, recovered=replayed if message.attempt > 1 else None
        )

    async def _post(self, body: Mapping[str, object], *, idempotency_key: str) -> httpx.Response:
        headers = {"X-Postbox-Token": self._token, "Idempotency-Key": idempotency_key}
        try:
            return await self._http.post(self._url, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise TemporaryFailure("Postbox could not be reached") from None
        except httpx.TimeoutException:
            raise AnswerLost("Postbox did not answer in time") from None
        except httpx.TransportError:
            raise AnswerLost("Postbox's answer was lost on the way back") from None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429:
        wait = response.headers.get("retry-after", "")
        raise TemporaryFailure(
            "Postbox is limiting our requests (429)",
            retry_after=float(wait) if wait.isdigit() else None,
        )
    if status >= 500:
        raise TemporaryFailure(f"Postbox failed to send the email ({status})")
    if status == 401:
        raise PermanentFailure(
            "Postbox refused the server token (401): check it in the email settings",
            code="unauthorized",
        )
    code = _error_code(response)
    if code == "inactive_recipient":  # bounced before or marked as spam: Postbox won't send
        raise PermanentFailure("Postbox will not send to this recipient any more", code=code)
    if code == "invalid_recipient":  # the reason never names the address
        raise PermanentFailure("the recipient address is not valid", code=code)
    raise PermanentFailure(f"Postbox refused the email ({status}, {code or 'no code'})", code=code)


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) and code.isidentifier() else None
