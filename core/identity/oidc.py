"""One sign-in through an OpenID provider (a clinic's, for its staff; the platform's, for
operators), with authlib's Starlette client:
discovery, PKCE (S256), state and nonce, and the ID token's signature, issuer, audience,
expiry and nonce all checked by authlib before we read a claim.

authlib keeps the flow's state in ``request.session``; we give it a dict that lives, sealed,
in a short-lived cookie of its own (``flow_cookie``), so nothing else needs sessions.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from starlette.requests import Request

with warnings.catch_warnings():
    # authlib now prefers the httpx2 fork and says so on import; the outbound rule's checked
    # transport is httpx's, which authlib still supports.
    import authlib.deprecate  # noqa: F401  (it sets "always" for its warnings: ours goes after)

    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from praxis.core.crypto import Keyring
from praxis.core.identity.settings import DISCOVERY
from praxis.core.plugins.outbound import CheckedTransport
from praxis.core.providers.network import OutboundPolicy

FLOW_SECONDS = 600  # the person has ten minutes at their provider
SCOPE = "openid email profile"
# RFC 8176 methods that are a factor beyond a password: any of them, or "mfa" itself.
SECOND_FACTORS = frozenset({"mfa", "otp", "hwk", "sc", "fpt", "face", "iris", "retina", "vbm"})
# The standard ``acr`` values that promise more than one factor (OpenID PAPE policies); vendors'
# own values ("...:ifpossible") may not, so they are not taken as one.
MULTI_FACTOR_CLASSES = frozenset(
    {
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical",
    }
)


class Provider(Protocol):
    """Where and as whom to ask, and whose addresses it may vouch for."""

    @property
    def issuer(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def client_secret(self) -> str: ...

    @property
    def email_domain(self) -> str: ...


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in; the message says why, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for."""

    email: str
    asserted_second_factor: bool


class _Kept(httpx.AsyncBaseTransport):
    """authlib opens and closes a client per step; the checked transport outlives them."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None


@asynccontextmanager
async def client(
    provider: Provider, policy: OutboundPolicy, *, seconds: float
) -> AsyncIterator[StarletteOAuth2App]:
    """authlib's client for the provider, connecting only where the outbound rule allows."""
    transport = CheckedTransport(policy)
    try:
        registry = OAuth()
        app: StarletteOAuth2App = registry.register(
            name="provider",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer + DISCOVERY,
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "transport": _Kept(transport),
                "timeout": seconds,
                "trust_env": False,
            },
        )
        yield app
    finally:
        await transport.aclose()


def open_flow(keyring: Keyring, purpose: str, sealed: str | None) -> dict[str, Any]:
    """The flow's state from its cookie (empty if missing, forged or too old)."""
    opened = keyring.unseal(purpose, sealed, max_age=FLOW_SECONDS) if sealed else None
    try:
        value = json.loads(opened) if opened else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def seal_flow(keyring: Keyring, purpose: str, state: dict[str, Any]) -> str:
    return keyring.seal(purpose, json.dumps(state))


async def start(app: StarletteOAuth2App, request: Request, callback: str) -> str:
    """The provider's sign-in address; the state, nonce and PKCE verifier go in
    ``request.session`` (the flow cookie's dict)."""
    try:
        return str((await app.authorize_redirect(request, callback)).headers["location"])
    except (httpx.HTTPError, ValueError, RuntimeError):
        raise SignInFailed(
            "Your organisation's sign-in provider did not answer. Try again, or sign in with "
            "your username and password."
        ) from None


async def finish(app: StarletteOAuth2App, request: Request, provider: Provider) -> Identity:
    """Check the provider's answer and what it says of the person."""
    try:
        token = await app.authorize_access_token(request)
    except OAuthError as exc:
        raise SignInFailed(_oauth_reason(exc)) from None
    except JoseError:
        raise SignInFailed(
            "The provider's answer could not be trusted (its signature, issuer, audience, "
            "expiry or nonce is wrong). Nothing was changed; try again."
        ) from None
    except (httpx.HTTPError, ValueError, KeyError, RuntimeError):
        raise SignInFailed(
            "Your organisation's sign-in provider did not answer as expected. Try again."
        ) from None
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed("The provider did not say who you are. Try again.")
    return _identity(claims, provider)


def _oauth_reason(exc: OAuthError) -> str:
    if exc.error == "mismatching_state":
        return (
            "This sign-in was started elsewhere or too long ago. Start again from the sign-in page."
        )
    if exc.error == "access_denied":
        return "You did not allow the sign-in at your provider."
    return "Your organisation's sign-in provider refused the sign-in. Try again."


def _identity(claims: Any, provider: Provider) -> Identity:
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise SignInFailed(
            "Your provider did not confirm your email address, so it cannot be matched to "
            "an account."
        )
    if email.rpartition("@")[2] != provider.email_domain:
        raise SignInFailed(
            f"Only addresses at {provider.email_domain} may sign in here. Sign in at your "
            "provider with your work account."
        )
    methods = {m for m in claims.get("amr") or () if isinstance(m, str)}
    acr = claims.get("acr")
    multi_factor = isinstance(acr, str) and acr in MULTI_FACTOR_CLASSES
    return Identity(email, asserted_second_factor=multi_factor or bool(methods & SECOND_FACTORS))
