"""Operators' sign-in through the platform's own OpenID provider, named in the environment.

The platform's settings, not a clinic's: nothing is stored. The four variables go together;
with some but not all of them set, the platform refuses to start and says which are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from praxis.core.accounts.models import Operator
from praxis.core.config import ConfigError, Settings
from praxis.core.identity.oidc import SignInFailed
from praxis.core.identity.settings import clean_domain, clean_issuer

VARIABLES = (
    "PLATFORM_OIDC_ISSUER",
    "PLATFORM_OIDC_CLIENT_ID",
    "PLATFORM_OIDC_CLIENT_SECRET",
    "PLATFORM_OIDC_EMAIL_DOMAIN",
)
UNKNOWN = (
    "No active operator uses that email address. Ask another operator to add you with it, "
    "or sign in with your username and password."
)


@dataclass(frozen=True)
class PlatformIdentityProvider:
    """The platform's provider as sign-in uses it."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    email_domain: str


def from_settings(settings: Settings) -> PlatformIdentityProvider | None:
    """The platform's provider, None when not set up; ConfigError when half set up or wrong.
    Errors name the variable, never its value."""
    secret = settings.platform_oidc_client_secret
    given = dict(
        zip(
            VARIABLES,
            (
                settings.platform_oidc_issuer.strip(),
                settings.platform_oidc_client_id.strip(),
                secret.get_secret_value().strip() if secret is not None else "",
                settings.platform_oidc_email_domain.strip(),
            ),
            strict=True,
        )
    )
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigError(
            f"Operators' sign-in through an OpenID provider needs all of {', '.join(VARIABLES)}; "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Set "
            "them all, or none to sign operators in with a password only."
        )
    issuer, client_id, client_secret, domain = given.values()
    return PlatformIdentityProvider(
        issuer=_issuer(issuer, allow_http=settings.allows_http_links),
        client_id=client_id,
        client_secret=client_secret,
        email_domain=_domain(domain),
    )


def _issuer(value: str, *, allow_http: bool) -> str:
    try:
        issuer = clean_issuer(value)
    except ValueError:
        raise ConfigError(
            "PLATFORM_OIDC_ISSUER: give the provider's issuer address alone, such as "
            "https://accounts.google.com (no ? or # or user name)."
        ) from None
    if urlsplit(issuer).scheme != "https" and not allow_http:
        raise ConfigError("PLATFORM_OIDC_ISSUER: use the issuer's https:// address.")
    return issuer


def _domain(value: str) -> str:
    try:
        return clean_domain(value)
    except ValueError:
        raise ConfigError(
            "PLATFORM_OIDC_EMAIL_DOMAIN: give the domain of the operators' email addresses, "
            "such as example.org."
        ) from None


async def operator_with_email(db: AsyncSession, email: str) -> Operator:
    """The one active operator with this email; unknown and inactive are told the same."""
    found = list(
        await db.scalars(
            select(Operator)
            .where(func.lower(Operator.email) == email.lower())
            .where(Operator.is_active.is_(True))
            .limit(2)
        )
    )
    if not found:
        raise SignInFailed(UNKNOWN)
    if len(found) > 1:
        raise SignInFailed(
            "More than one operator uses that email address, so it cannot say which is yours. "
            "Sign in with your username, and ask another operator to fix the addresses."
        )
    return found[0]
