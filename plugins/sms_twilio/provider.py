"""Text messages through Twilio's Messages API, for one clinic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from praxis.core.providers.common import ProviderContext, WebhookReply, WebhookRequest
from praxis.core.providers.sms import (
    MessageErasure,
    SmsInbound,
    SmsMessage,
    SmsReceipt,
    SmsStatusUpdate,
)
from praxis.plugins.sms_twilio.api import Sender, TwilioMessage, TwilioMessages
from praxis.plugins.sms_twilio.settings import TwilioSettings
from praxis.plugins.sms_twilio.webhooks import (
    EMPTY_TWIML,
    inbound_message,
    status_update,
    verified_params,
)

# How far back a retry looks for the message an earlier attempt may have created.
RETRY_LOOKBACK = timedelta(days=2)
RETRY_LOOKUP_LIMIT = 20


class TwilioSms:
    """An ``SmsProvider`` that can erase what it sent (``SmsErasingProvider``). Twilio takes
    no idempotency key for Messages, so a retry first looks for the message an earlier
    attempt may have created, and sends only if none."""

    webhook_reply = WebhookReply(body=EMPTY_TWIML, media_type="text/xml")

    def __init__(self, context: ProviderContext[TwilioSettings]) -> None:
        settings = context.settings
        self._account_sid = settings.account_sid
        self._auth_token = settings.auth_token.get_secret_value()
        self._sender = Sender(settings.from_number)
        self._webhook_url = context.webhook_url.rstrip("/")
        self._messages = TwilioMessages(
            account_sid=settings.account_sid,
            auth_token=self._auth_token,
            http=context.http,
            origin=settings.api_origin,
        )

    @property
    def status_callback_url(self) -> str:
        return f"{self._webhook_url}/status"

    @property
    def inbound_url(self) -> str:
        """What the clinic enters as its number's "A message comes in" webhook."""
        return f"{self._webhook_url}/inbound"

    async def send_message(self, message: SmsMessage) -> SmsReceipt:
        retry = message.attempt > 1
        if retry:
            earlier = await self._sent_before(message)
            if earlier is not None:
                return SmsReceipt(message_id=earlier.sid, status=earlier.status, recovered=True)
        sent = await self._messages.create(
            to=message.to,
            sender=self._sender,
            body=message.body,
            status_callback=message.status_callback_url or self.status_callback_url,
        )
        return SmsReceipt(
            message_id=sent.sid, status=sent.status, recovered=False if retry else None
        )

    async def erase_message(self, request: MessageErasure) -> None:
        """Delete the message, its number and words, from the clinic's Twilio account (Twilio
        says its systems may take up to 14 days to remove every copy)."""
        await self._messages.delete(request.message_id)

    async def _sent_before(self, message: SmsMessage) -> TwilioMessage | None:
        """The message an earlier attempt created, if its answer was lost on the way back."""
        # Nothing this job sent is older than the job (Twilio's dates have whole seconds, so a
        # second's margin); without the job's date, a fixed window.
        first = message.first_attempt_at
        since = first - timedelta(seconds=1) if first else datetime.now(UTC) - RETRY_LOOKBACK
        for candidate in await self._messages.sent_to(message.to, limit=RETRY_LOOKUP_LIMIT):
            if (
                candidate.direction == "outbound-api"
                and candidate.to == message.to
                and candidate.body == message.body
                and candidate.is_from(self._sender)
                and candidate.date_created is not None
                and candidate.date_created >= since
            ):
                return candidate
        return None

    def parse_webhook(self, request: WebhookRequest) -> SmsStatusUpdate | SmsInbound | None:
        params = verified_params(
            request, auth_token=self._auth_token, account_sid=self._account_sid
        )
        if request.topic == "status":
            return status_update(params)
        if request.topic == "inbound":
            return inbound_message(params)
        return None
