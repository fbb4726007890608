"""What a Stripe error means to the outbox: retry later, or give up with a reason for staff."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import stripe

from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderError,
    TemporaryFailure,
)
from praxis.plugins.payments_stripe.version import STRIPE_API_VERSION

# Failures before a byte of the request left: Stripe cannot have acted. Any other transport
# failure (a read timeout, a connection dropped or reset once the request was on its way, a
# write cut short) may come after Stripe received the request: its answer is lost, not refused.
_NOTHING_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turn the SDK's errors into the platform's, without Stripe's message (it may quote data)."""
    try:
        yield
    except stripe.StripeError as exc:
        raise failure(exc) from None


def failure(exc: stripe.StripeError) -> ProviderError:
    if isinstance(exc, stripe.APIConnectionError):
        return _connection_failure(exc.__cause__)
    status = exc.http_status
    ref = f" [{exc.request_id}]" if exc.request_id else ""
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        return TemporaryFailure(
            f"Stripe is rate limiting the platform{ref}", retry_after=retry_after(exc.headers)
        )
    if status == 409:  # a concurrent request holds the same idempotency key: it will finish
        return TemporaryFailure(f"Stripe is still working on this request{ref}")
    if status is None or status >= 500:
        return TemporaryFailure(
            f"Stripe failed (HTTP {status}){ref}", retry_after=retry_after(exc.headers)
        )
    code, param = _code_and_param(exc)
    if _refused_version(exc):
        return PermanentFailure(
            f"Stripe does not accept the API version this plugin speaks ({STRIPE_API_VERSION}):"
            f" update the payments_stripe plugin{ref}",
            code="api_version_invalid",
        )
    if isinstance(exc, stripe.AuthenticationError):
        return PermanentFailure(
            f"Stripe rejected the platform's API key{ref}", code="authentication"
        )
    if isinstance(exc, stripe.IdempotencyError):
        return PermanentFailure(
            f"Stripe refused an idempotency key reused with other parameters{ref}",
            code="idempotency_error",
        )
    if isinstance(exc, stripe.PermissionError):
        return PermanentFailure(
            f"Stripe refused access to the connected account ({code or 'permission'}){ref}",
            code=code or "permission",
        )
    where = f" ({param})" if param else ""
    return PermanentFailure(
        f"Stripe refused the request: {code or 'invalid_request'}{where} (HTTP {status}){ref}",
        code=code or "invalid_request",
    )


def _connection_failure(cause: BaseException | None) -> TemporaryFailure:
    """Nothing sent: try again later. Sent, or perhaps sent: the answer is lost (AnswerLost),
    which the platform records as unknown until a later attempt finds out."""
    if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TemporaryFailure("Stripe timed out before the request was sent")
    if isinstance(cause, _NOTHING_SENT):
        return TemporaryFailure("Stripe could not be reached")
    if isinstance(cause, httpx.TimeoutException):
        return AnswerLost("Stripe did not answer in time; the request may have reached it")
    return AnswerLost(
        "The connection to Stripe was lost before its answer; the request may have reached it"
    )


def _refused_version(exc: stripe.StripeError) -> bool:
    """Stripe's answer to a Stripe-Version it does not accept (read, never repeated)."""
    return (
        isinstance(exc, stripe.InvalidRequestError)
        and exc.http_status == 400
        and (exc.user_message or "").startswith("Invalid Stripe API version")
    )


def _code_and_param(exc: stripe.StripeError) -> tuple[str | None, str | None]:
    """Stripe's machine-readable code and parameter name: safe to log, unlike its message."""
    details = exc.error
    code = (details.code if details else None) or exc.code
    param = details.param if details else None
    return _short(code), _short(param)


def _short(value: object) -> str | None:
    return str(value)[:120] if value else None


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date; None when absent or unreadable."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
