"""Proof that a clinic controls a custom domain before the platform serves its portal there.

The operator's page shows a TXT record to add: ``_praxis-verification.<domain>`` holding
``praxis-verification=<proof>``, the random text stored with the domain. Checking it asks DNS
through ``resolver``, which the tests replace with their own (they play DNS).
"""

from __future__ import annotations

import secrets
from typing import Protocol

import dns.asyncresolver
import dns.exception

PREFIX = "_praxis-verification"
VALUE = "praxis-verification="


class TxtResolver(Protocol):
    async def txt(self, name: str) -> list[str]:
        """Every TXT string published at ``name``; empty when there is none."""
        ...


class DnsTxtResolver:
    """The system's DNS resolver, through dnspython; any DNS failure reads as no record."""

    async def txt(self, name: str) -> list[str]:
        try:
            answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=5.0)
        except (dns.exception.DNSException, OSError):
            return []
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


resolver: TxtResolver = DnsTxtResolver()


def new_proof() -> str:
    return secrets.token_hex(16)


def record_name(domain: str) -> str:
    return f"{PREFIX}.{domain}"


def record_value(proof: str) -> str:
    return f"{VALUE}{proof}"


async def proven(domain: str, proof: str) -> bool:
    """True when the domain's TXT record carries this proof (never for an empty proof)."""
    if not proof:
        return False
    wanted = record_value(proof)
    return any(text.strip() == wanted for text in await resolver.txt(record_name(domain)))
