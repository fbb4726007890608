"""Second factor for staff: TOTP (RFC 6238) through pyotp, secrets sealed at rest."""

from __future__ import annotations

import hmac
import time
import uuid

import pyotp
import segno

from praxis.core.crypto import Keyring

_PURPOSE = "totp-secret"
_STEP = 30
# A set-up token is good this long: the password was asked for just before it was shown.
OFFER_SECONDS = 15 * 60


class Authenticator:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def new_secret(self) -> tuple[str, str]:
        """A fresh secret: (the base32 text to show once, the sealed form to store)."""
        secret = pyotp.random_base32()
        return secret, self._keyring.seal(_PURPOSE, secret)

    def reveal(self, sealed: str) -> str | None:
        return self._keyring.unseal(_PURPOSE, sealed)

    def seal(self, secret: str) -> str:
        return self._keyring.seal(_PURPOSE, secret)

    def offer(self, owner_id: uuid.UUID) -> tuple[str, str]:
        """A secret proposed to one account: (the base32 text to show, a token for the form).

        Nothing is stored until a code proves the app holds it, so an abandoned set-up
        leaves the working secret (and the two-step requirement) as it was. The token is
        sealed with a key of that account alone: it cannot be moved to another account.
        """
        secret = pyotp.random_base32()
        return secret, self._keyring.seal(f"totp-offer:{owner_id}", secret)

    def offered(self, owner_id: uuid.UUID, token: str) -> str | None:
        """The secret a token from :meth:`offer` carries, if it was made for this account."""
        if not token or len(token) > 512:
            return None
        return self._keyring.unseal(f"totp-offer:{owner_id}", token, max_age=OFFER_SECONDS)

    def enrolment(self, secret: str, *, account: str, issuer: str) -> tuple[str, str]:
        """The otpauth:// URI and an inline SVG QR code of it."""
        uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)
        svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
        return uri, svg

    def accept(self, sealed: str | None, code: str, last_step: int | None) -> int | None:
        """The time step the code belongs to, if valid and newer than the last one used.

        One step either side tolerates clock drift; refusing used steps stops replay.
        """
        secret = self.reveal(sealed) if sealed else None
        if secret is None:
            return None
        return self.accept_secret(secret, code, last_step)

    @staticmethod
    def accept_secret(secret: str, code: str, last_step: int | None) -> int | None:
        totp = pyotp.TOTP(secret)
        now_step = int(time.time()) // _STEP
        for step in (now_step - 1, now_step, now_step + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                if last_step is not None and step <= last_step:
                    return None
                return step
        return None

    @staticmethod
    def current_code(secret: str) -> str:
        """For the CLI and tests: the code an authenticator app would show now."""
        return pyotp.TOTP(secret).now()
