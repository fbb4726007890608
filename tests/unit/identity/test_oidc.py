"""core.identity.oidc: what an ID token's claims say of the person, for clinic staff and
operators alike: a verified email at the provider's domain, and whether it asked for a second
factor (``amr`` or a multi-factor ``acr``), malformed claims read as no promise at all."""

from __future__ import annotations

from typing import Any

import pytest

from praxis.core.identity.oidc import MULTI_FACTOR_CLASSES, SignInFailed, _identity
from praxis.core.identity.platform import PlatformIdentityProvider

PROVIDER = PlatformIdentityProvider("https://op.example", "id", "secret", "example.org")


def claims(**extra: Any) -> dict[str, Any]:
    return {"email": " Ops@Example.ORG ", "email_verified": True, **extra}


@pytest.mark.parametrize(
    ("extra", "asserted"),
    [
        ({}, False),
        ({"amr": ["pwd"]}, False),
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": ["pwd", "hwk"]}, True),
        ({"amr": "mfa"}, False),  # a string, not the list RFC 8176 asks for
        ({"amr": [["mfa"]]}, False),
        ({"acr": sorted(MULTI_FACTOR_CLASSES)[0]}, True),
        ({"acr": sorted(MULTI_FACTOR_CLASSES)[1]}, True),
        ({"acr": "urn:okta:loa:2fa:any:ifpossible"}, False),
        ({"acr": ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"]}, False),
        ({"acr": "0"}, False),
    ],
)
def test_a_second_factor_is_taken_only_where_promised(
    extra: dict[str, Any], asserted: bool
) -> None:
    identity = _identity(claims(**extra), PROVIDER)
    assert identity.email == "ops@example.org"
    assert identity.asserted_second_factor is asserted


@pytest.mark.parametrize(
    "given",
    [
        {"email_verified": False},
        {"email_verified": "true"},  # a string is not the boolean the spec asks for
        {"email": ""},
        {"email": "ops@example.org.evil.example"},
        {"email": "ops@sub.example.org"},
    ],
)
def test_an_email_it_cannot_vouch_for_is_refused(given: dict[str, Any]) -> None:
    with pytest.raises(SignInFailed):
        _identity(claims(**given), PROVIDER)
