"""Twilio's failures as the platform's: retry later, or give up with a reason staff can act on.

Reasons name Twilio's error code and never quote Twilio's message: it can repeat the number.
"""

from __future__ import annotations

import json

import httpx
from twilio.base.exceptions import (  # type: ignore[import-untyped]
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)

from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderError,
    TemporaryFailure,
)

UNSUBSCRIBED_RECIPIENT = 21610
AUTHENTICATE = 20003
NOT_FOUND = 20404
NOT_YET_COMPLETE = 20009  # a message still being sent cannot be deleted: wait and try again

# The causes a clinic can fix, in words; any other code is named as it is.
_REASONS = {
    AUTHENTICATE: "Twilio rejected the Account SID or Auth Token",
    21211: "Twilio says the recipient's number is not a valid phone number",
    21602: "Twilio refused a message with no text",
    21603: "Twilio needs a sender number or Messaging Service",
    21606: "the sender number cannot send text messages from this Twilio account",
    21608: "a Twilio trial account can only text verified numbers",
    21610: "the recipient has replied STOP to this sender",
    21617: "the message is longer than Twilio's 1600 characters",
}

SdkFailure = (TwilioException, httpx.TransportError, json.JSONDecodeError)


def provider_error(exc: Exception, *, retry_after: float | None = None) -> ProviderError:
    """The platform's error for something the SDK (or the network under it) raised."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):  # nothing was sent
        return TemporaryFailure(f"could not reach Twilio ({type(exc).__name__})")
    if isinstance(exc, httpx.TimeoutException):
        return AnswerLost("Twilio did not answer in time")
    if isinstance(exc, httpx.TransportError):  # sent, perhaps: the answer never came
        return AnswerLost(f"Twilio's answer was lost ({type(exc).__name__})")
    if isinstance(exc, json.JSONDecodeError):
        return TemporaryFailure("Twilio answered with something that is not JSON")
    answer = _status_and_code(exc)
    if answer is None:
        return TemporaryFailure(f"the Twilio SDK failed ({type(exc).__name__})")
    status, code = answer
    if status == 429 or status >= 500:
        return TemporaryFailure(f"Twilio answered {status} (error {code})", retry_after=retry_after)
    if code == NOT_YET_COMPLETE:
        return TemporaryFailure(
            f"Twilio cannot delete a message it is still sending (Twilio error {code})",
            retry_after=retry_after,
        )
    reason = (
        f"{_REASONS.get(code, 'Twilio refused the message')} (Twilio error {code}, HTTP {status})"
    )
    if code == UNSUBSCRIBED_RECIPIENT:
        return PermanentFailure(reason, code=PermanentFailure.OPTED_OUT)
    return PermanentFailure(reason, code=f"twilio_{code}")


def is_gone(exc: Exception) -> bool:
    """Twilio answered 404: the resource is not there (deleted already, or never was)."""
    answer = _status_and_code(exc)
    return answer is not None and answer[0] == 404


def _status_and_code(exc: Exception) -> tuple[int, int] | None:
    """Twilio's HTTP status and error code, or None if no answer came with ``exc``."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        return status, int(exc.code or status)
    # a failed list page arrives as TwilioException("Unable to fetch page", response)
    response = exc.args[1] if len(exc.args) > 1 else None
    page_status = getattr(response, "status_code", None)
    if not isinstance(page_status, int):
        return None
    try:
        code = int(json.loads(getattr(response, "text", ""))["code"])
    except (KeyError, TypeError, ValueError):
        code = page_status
    return page_status, code
