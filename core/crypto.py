"""Keys derived from the platform secret, and sealing small secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Keyring:
    """One platform secret, a separate derived key per purpose."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._fernets: dict[str, Fernet] = {}
        self._keys: dict[str, bytes] = {}

    def derive(self, purpose: str) -> bytes:
        if purpose not in self._keys:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
            self._keys[purpose] = hkdf.derive(self._secret)
        return self._keys[purpose]

    def sign(self, purpose: str, message: str) -> str:
        key = self.derive("hmac:" + purpose)
        digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def seal(self, purpose: str, plaintext: str) -> str:
        return self._fernet(purpose).encrypt(plaintext.encode()).decode()

    def unseal(self, purpose: str, token: str, *, max_age: int | None = None) -> str | None:
        """The plaintext, or None if forged, for another purpose or older than ``max_age``s."""
        try:
            return self._fernet(purpose).decrypt(token.encode(), ttl=max_age).decode()
        except InvalidToken:
            return None

    def _fernet(self, purpose: str) -> Fernet:
        if purpose not in self._fernets:
            key = base64.urlsafe_b64encode(self.derive("fernet:" + purpose))
            self._fernets[purpose] = Fernet(key)
        return self._fernets[purpose]


def token_digest(token: str) -> str:
    """Sessions are looked up by the SHA-256 of their random token, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()
