"""core.ledger.signing: the checkpoints' Ed25519 key, read as PEM or base64, never shown."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from praxis.core.config import ConfigError, load_settings
from praxis.core.ledger.signing import PublicKey, SigningKey, SigningKeyError
from praxis.core.runtime import ledger_key
from tests.conftest import TEST_SECRET

SEED = base64.b64encode(bytes(range(32))).decode()


def test_a_signature_verifies_with_the_public_key_only_for_the_message_signed() -> None:
    key = SigningKey.from_text(SEED)
    signature = key.sign(b"entry 5")
    public = PublicKey.from_text(key.public.text)  # as a download carries it
    assert public.verifies(b"entry 5", signature)
    assert not public.verifies(b"entry 4", signature)
    other = SigningKey.from_text(base64.b64encode(bytes(32)).decode())
    assert not other.public.verifies(b"entry 5", signature)
    assert not public.verifies(b"entry 5", "not base64!")


def test_a_pem_key_as_openssl_writes_it_is_read() -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = SigningKey.from_text(pem)
    assert private.public_key().verify(base64.b64decode(key.sign(b"x")), b"x") is None
    assert len(key.public.key_id) == 16


@pytest.mark.parametrize("text", ["", "c2hvcnQ=", "-----BEGIN PRIVATE KEY-----\nnope\n"])
def test_an_unusable_key_is_refused_without_showing_it(text: str) -> None:
    with pytest.raises(SigningKeyError) as caught:
        SigningKey.from_text(text)
    assert text.strip() == "" or text.strip() not in str(caught.value)


def test_a_bad_key_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    settings = load_settings(
        PRAXIS_ENV="test",
        PRAXIS_VAR_DIR=str(tmp_path),
        SECRET_KEY=TEST_SECRET,
        LEDGER_SIGNING_KEY="c2hvcnQ=",
    )
    with pytest.raises(ConfigError, match="LEDGER_SIGNING_KEY"):
        ledger_key(settings)
