"""A small OpenID provider for the tests, served on 127.0.0.1 and signing with authlib's JOSE
(joserfc): discovery, an authorization endpoint that consents at once for the identity a test
sets, a token endpoint that checks the client's secret and the PKCE verifier, and its keys.
``fault`` makes the next ID token wrong in one way, as a broken or hostile provider would.

Registered as a pytest plugin (tests/conftest.py): the provider runs once per session
(``running_provider``), reset for each test that asks for it (``op``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from praxis.core.sandbox.harness import RunningFake, start

CLIENT_ID = "praxis-alpha"
CLIENT_SECRET = "op-client-secret-0123456789"
FAULTS = (
    "wrong issuer",
    "wrong audience",
    "bad nonce",
    "expired",
    "bad signature",
)


@dataclass
class Grant:
    nonce: str
    challenge: str
    redirect_uri: str


@dataclass
class OpenIdProvider:
    email: str = "pro@alpha-clinic.org"
    email_verified: bool = True
    amr: list[str] = field(default_factory=lambda: ["pwd"])
    acr: str | None = None  # the authentication class it claims, if any
    fault: str | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "op"}))
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens_issued: int = 0

    def reset(self) -> None:
        self.email, self.email_verified, self.amr, self.acr, self.fault = (
            "pro@alpha-clinic.org",
            True,
            ["pwd"],
            None,
            None,
        )
        self.grants.clear()
        self.tokens_issued = 0

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    @staticmethod
    def _issuer(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def discovery(self, request: Request) -> Response:
        issuer = self._issuer(request)
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(q["nonce"], q["code_challenge"], q["redirect_uri"])
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code")), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        self.tokens_issued += 1
        access = secrets.token_urlsafe(16)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": self._id_token(self._issuer(request), grant.nonce),
            }
        )

    def _client_authenticated(self, request: Request, form: Any) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header[6:]).decode()
            return pair == f"{CLIENT_ID}:{CLIENT_SECRET}"
        return (form.get("client_id"), form.get("client_secret")) == (CLIENT_ID, CLIENT_SECRET)

    def _id_token(self, issuer: str, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": "user-1",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": self.email,
            "email_verified": self.email_verified,
            "amr": self.amr,
        }
        if self.acr is not None:
            claims["acr"] = self.acr
        key = self.key
        if self.fault == "wrong issuer":
            claims["iss"] = "https://elsewhere.example"
        elif self.fault == "wrong audience":
            claims["aud"] = "another-client"
        elif self.fault == "bad nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800  # past authlib's leeway
        elif self.fault == "bad signature":
            key = RSAKey.generate_key(2048, parameters={"kid": "op"})
        return jwt.encode({"alg": "RS256", "kid": "op"}, claims, key)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


@pytest.fixture(scope="session")
def running_provider() -> Iterator[tuple[OpenIdProvider, RunningFake]]:
    provider = OpenIdProvider()
    running = start(provider.app)
    try:
        yield provider, running
    finally:
        running.stop()


@pytest.fixture
def op(running_provider: tuple[OpenIdProvider, RunningFake]) -> OpenIdProvider:
    provider, _ = running_provider
    provider.reset()
    return provider


@pytest.fixture
def op_url(running_provider: tuple[OpenIdProvider, RunningFake]) -> str:
    return running_provider[1].url


async def through_provider(http: httpx.AsyncClient, prefix: str = "") -> httpx.Response:
    """Start at the site (a clinic's, or the platform's with ``prefix="/platform"``), sign in
    at the provider (which consents at once), come back."""
    started = await http.get(f"{prefix}/login/sso")
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser_at_provider:
        answered = await browser_at_provider.get(started.headers["location"])
    assert answered.status_code == 302, answered.text
    back = urlsplit(answered.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == str(http.base_url).rstrip("/")
    assert back.path == f"{prefix}/login/sso/callback"
    return await http.get(f"{back.path}?{back.query}")
