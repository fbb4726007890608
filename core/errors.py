"""Errors services raise; the web layer turns each into a page or a JSON error."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: ``message`` is a sentence a person can act on, free of personal data."""

    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    """Some fields are wrong; nothing was changed."""

    code = "invalid_input"
    status = 422

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "Please correct the fields marked below; nothing was saved.")
        self.fields = fields


class NotFound(ServiceError):
    code = "not_found"
    status = 404

    def __init__(self, message: str = "We could not find that page.") -> None:
        super().__init__(message)


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class NotAllowed(ServiceError):
    code = "not_allowed"
    status = 403


class TooManyAttempts(ServiceError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderNotReady(ServiceError):
    """The clinic has not chosen, or not finished setting up, a provider of this kind."""

    code = "provider_not_ready"
    status = 409
