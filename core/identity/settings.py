"""What a clinic admin sets for staff sign-in through the clinic's identity provider.

The issuer is checked before anything is saved: it must be reachable at a public address
(the outbound rule: an admin cannot aim the platform inward), publish its OpenID
configuration, and name itself exactly as typed there. The client secret is sealed with a key
bound to the clinic, as providers' secrets are.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.fields import clean_line
from praxis.core.crypto import Keyring
from praxis.core.errors import InvalidInput
from praxis.core.identity.models import IdentityProvider
from praxis.core.plugins.outbound import CheckedTransport
from praxis.core.providers.network import OutboundPolicy
from praxis.core.untrusted import read_json

DISCOVERY = "/.well-known/openid-configuration"
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
NEEDED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def _purpose(tenant_id: uuid.UUID) -> str:
    return f"identity-provider:{tenant_id}"


def clean_domain(value: str) -> str:
    value = value.strip().lower().removeprefix("@").rstrip(".")
    if not _DOMAIN.match(value):
        raise ValueError("Enter the domain of your staff's email addresses, like clinic.org.")
    return value


def clean_issuer(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("Enter the issuer's address, like https://accounts.google.com.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("Enter the issuer's address alone, without ? or # or a user name.")
    return value


class IdentityProviderForm(BaseModel):
    issuer: Annotated[str, AfterValidator(clean_issuer), Field(max_length=500)]
    client_id: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        AfterValidator(clean_line),
    ]
    client_secret: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    email_domain: Annotated[str, AfterValidator(clean_domain)]
    enabled: bool = False


@dataclass(frozen=True)
class ClinicIdentityProvider:
    """The settings as sign-in uses them, the secret opened."""

    issuer: str
    client_id: str
    client_secret: str
    email_domain: str
    enabled: bool


async def stored(db: AsyncSession) -> IdentityProvider | None:
    return await db.scalar(select(IdentityProvider))


async def offered(db: AsyncSession) -> bool:
    """Does the clinic's sign-in page offer its staff the provider?"""
    row = await stored(db)
    return row is not None and row.enabled


async def for_sign_in(
    db: AsyncSession, keyring: Keyring, tenant_id: uuid.UUID
) -> ClinicIdentityProvider | None:
    """The clinic's provider if it is switched on and its secret opens; None otherwise."""
    row = await stored(db)
    if row is None or not row.enabled:
        return None
    secret = keyring.unseal(_purpose(tenant_id), row.client_secret)
    if secret is None:  # sealed under another key, or copied from another clinic
        return None
    return ClinicIdentityProvider(
        row.issuer, row.client_id, secret, row.email_domain, enabled=row.enabled
    )


async def check_issuer(
    issuer: str, *, policy: OutboundPolicy, allow_http: bool, seconds: float
) -> str | None:
    """Why the issuer cannot be used, in words for the form; None when it can."""
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not allow_http:
        return "Use the issuer's https:// address."
    assert parts.hostname is not None
    refused = await policy.check(parts.hostname, parts.port or 443)
    if refused:
        return refused
    try:
        async with httpx.AsyncClient(
            transport=CheckedTransport(policy), timeout=seconds, trust_env=False
        ) as http:
            answer = await http.get(issuer + DISCOVERY)
    except httpx.HTTPError:
        return f"{issuer}{DISCOVERY} did not answer: check the address."
    if answer.status_code != 200:
        return f"{issuer}{DISCOVERY} answered {answer.status_code}: check the address."
    try:
        document = read_json(answer.content)
    except ValueError:
        document = None
    if not isinstance(document, dict) or any(not document.get(k) for k in NEEDED):
        return "That address does not publish an OpenID Connect configuration."
    if document.get("issuer") != issuer:
        return "The provider names itself differently: use the issuer exactly as it gives it."
    return None


async def save(
    db: AsyncSession,
    keyring: Keyring,
    tenant_id: uuid.UUID,
    form: IdentityProviderForm,
    *,
    by: uuid.UUID,
    issuer_problem: str | None,
) -> IdentityProvider:
    """Store the settings; InvalidInput, with nothing saved, if any is wrong. A blank secret
    keeps the one stored."""
    row = await stored(db)
    errors: dict[str, str] = {}
    if issuer_problem:
        errors["issuer"] = issuer_problem
    if not form.client_secret and row is None:
        errors["client_secret"] = "Enter the client secret the provider gave you."  # noqa: S105
    if errors:
        raise InvalidInput(errors)
    sealed = keyring.seal(_purpose(tenant_id), form.client_secret) if form.client_secret else None
    if row is None:
        assert sealed is not None
        row = IdentityProvider(tenant_id=tenant_id, client_secret=sealed)
        db.add(row)
    elif sealed is not None:
        row.client_secret = sealed
    row.issuer = form.issuer
    row.client_id = form.client_id
    row.email_domain = form.email_domain
    row.enabled = form.enabled
    row.updated_by = by
    await db.flush()
    return row
