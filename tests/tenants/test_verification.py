"""The DNS proof of a custom domain: the TXT record's strings joined, any DNS failure read as
no record, and only the exact proof accepted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import dns.exception
import dns.resolver
import pytest

from praxis.tenants import verification


def _answer(*records: tuple[bytes, ...]) -> list[Any]:
    return [SimpleNamespace(strings=strings) for strings in records]


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    state: dict[str, Any] = {"names": [], "answer": [], "error": None}

    async def resolve(name: str, kind: str, lifetime: float) -> list[Any]:
        assert kind == "TXT" and lifetime <= 10
        state["names"].append(name)
        if state["error"] is not None:
            raise state["error"]
        return list(state["answer"])

    monkeypatch.setattr(verification.dns.asyncresolver, "resolve", resolve)
    monkeypatch.setattr(verification, "resolver", verification.DnsTxtResolver())
    return state


async def test_a_record_split_into_strings_is_read_whole(asked: dict[str, Any]) -> None:
    asked["answer"] = _answer((b"praxis-verification=", b"abc123"), (b"v=spf1 -all",))
    assert await verification.proven("book.north.example", "abc123")
    assert asked["names"] == ["_praxis-verification.book.north.example"]


@pytest.mark.parametrize(
    "error", [dns.resolver.NXDOMAIN(), dns.resolver.NoAnswer(), dns.exception.Timeout(), OSError()]
)
async def test_a_dns_failure_is_no_proof(asked: dict[str, Any], error: Exception) -> None:
    asked["error"] = error
    assert not await verification.proven("book.north.example", "abc123")


async def test_only_the_exact_proof_counts(asked: dict[str, Any]) -> None:
    asked["answer"] = _answer((b"praxis-verification=abc1234",), (b"abc123",))
    assert not await verification.proven("book.north.example", "abc123")
    assert not await verification.proven("book.north.example", "")  # never an empty proof
