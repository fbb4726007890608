"""Browsers an account has signed in with (OWASP's "device cookies"): while someone's wrong
passwords hold an account locked, its owner still signs in from a browser they used before;
failures from that browser count against that browser alone.

The cookie is sealed with the platform's key and bound to the clinic (the throttle's realm)
and the username: it says nothing readable, works for no other account, and expires after
``KEEP_DAYS``. A stolen one still needs the password, and is throttled on its own.
"""

from __future__ import annotations

import secrets

from praxis.core.crypto import Keyring

KEEP_DAYS = 90
_PURPOSE = "device"


def device_token(keyring: Keyring, realm: str, username: str, device: str | None = None) -> str:
    """The cookie's value after a successful sign-in (the same device id if it had one)."""
    return keyring.seal(_PURPOSE, f"{realm}\0{username}\0{device or secrets.token_hex(8)}")


def trusted_device(keyring: Keyring, sealed: str | None, realm: str, username: str) -> str | None:
    """The device id if ``sealed`` is this account's cookie, unexpired; else None."""
    if not sealed or len(sealed) > 400:
        return None
    plain = keyring.unseal(_PURPOSE, sealed, max_age=KEEP_DAYS * 86400)
    if plain is None:
        return None
    parts = plain.split("\0")
    if len(parts) != 3 or parts[0] != realm or parts[1] != username:
        return None  # another clinic's, or another account's
    return parts[2]
