"""What a Stripe error means to the outbox: retry later, or give up with a reason for staff."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import stripe

from praxis.core.providers.common import PermanentFailure, ProviderError, TemporaryFailure


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turn the SDK's errors into the platform's, without Stripe's message (it may quote data)."""
    try:
        yield
    except stripe.StripeError as exc:
        raise failure(exc) from None


def failure(exc: stripe.StripeError) -> ProviderError:
    if isinstance(exc, stripe.APIConnectionError):
        timed_out = isinstance(exc.__cause__, httpx.TimeoutException)
        return TemporaryFailure("Stripe timed out" if timed_out else "Stripe could not be reached")
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
