"""The key that signs the ledger's checkpoints: Ed25519, kept outside the database.

Whoever can write to the database can recompute every hash of a chain; they cannot sign a
checkpoint without this key. The private key is read from ``LEDGER_SIGNING_KEY`` or
``LEDGER_SIGNING_KEY_FILE`` (a PEM file, as ``openssl genpkey -algorithm ed25519`` writes,
or 32 random bytes in base64); the public key travels with each clinic's ledger download.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "Ed25519"
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class SigningKeyError(ValueError):
    """A key that cannot be read; the message says which and never shows the key."""


class PublicKey:
    """What verifies a checkpoint: in the database's absence too (an offline export)."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key
        self.raw = key.public_bytes(*_RAW)

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """The base64 form a ledger download carries."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
            return cls(Ed25519PublicKey.from_public_bytes(raw))
        except (binascii.Error, ValueError):
            raise SigningKeyError("the public key is not an Ed25519 key in base64") from None

    @property
    def text(self) -> str:
        return base64.b64encode(self.raw).decode()

    @property
    def key_id(self) -> str:
        """A short fingerprint a clinic's DPO can compare with the one the platform states."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verifies(self, message: bytes, signature: str) -> bool:
        try:
            self._key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


class SigningKey:
    """The private half: signs checkpoints, only where the worker or the CLI run."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public = PublicKey(key.public_key())

    @classmethod
    def from_text(cls, text: str) -> SigningKey:
        """A PEM private key, or the 32-byte seed in base64."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_private_key(text.encode(), password=None)
            except (ValueError, TypeError):
                raise SigningKeyError("the PEM text is not an unencrypted private key") from None
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyError("the PEM private key is not an Ed25519 key")
            return cls(key)
        try:
            seed = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            seed = b""
        if len(seed) != 32:
            raise SigningKeyError("it is neither a PEM private key nor 32 bytes in base64")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._key.sign(message)).decode()
