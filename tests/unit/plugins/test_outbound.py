"""core.plugins.outbound: the providers' HTTP client checks the peer on every connection."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from praxis.core.plugins.outbound import provider_client
from praxis.core.providers import network
from praxis.core.providers.network import AddressRefused, OutboundPolicy
from praxis.core.runtime import Runtime
from tests.provider_fixtures import FakeServers


def answering(address: str) -> object:
    async def lookup(host: str, port: int) -> list[str]:
        return [address]

    return lookup


async def test_an_inward_address_is_refused_before_any_byte_leaves(
    fake_servers: FakeServers,
) -> None:
    async with provider_client(OutboundPolicy(), timeout=5) as client:
        with pytest.raises(AddressRefused):
            await client.get(fake_servers.url(0) + "/v1/balance")


async def test_a_name_that_now_resolves_inward_is_refused(
    fake_servers: FakeServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: whatever the name resolved to when it was saved, now is what counts."""
    port = urlsplit(fake_servers.url(0)).port
    monkeypatch.setattr(network, "lookup", answering("127.0.0.1"))
    async with provider_client(OutboundPolicy(), timeout=5) as client:
        with pytest.raises(AddressRefused):
            await client.get(f"http://api.provider.example:{port}/v1/balance")


async def test_an_allowed_host_is_reached_at_the_address_checked(
    fake_servers: FakeServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = urlsplit(fake_servers.url(0)).port
    monkeypatch.setattr(network, "lookup", answering("127.0.0.1"))
    policy = OutboundPolicy.parse("fake.test", require_tls=True)
    async with provider_client(policy, timeout=5) as client:
        answer = await client.get(f"http://fake.test:{port}/v1/balance")
    assert answer.status_code == 401  # the fake Stripe answered: no key given


async def test_the_runtime_gives_providers_the_checked_client(rt: Runtime) -> None:
    """The tests allow 127.0.0.1 (the fakes) and nothing else inward."""
    assert rt.registry.network.allowed_networks  # OUTBOUND_ALLOWED_HOSTS=127.0.0.1
    with pytest.raises(AddressRefused):
        await rt.http.get("http://10.255.255.1/")
    with pytest.raises(AddressRefused):
        await rt.http.get("http://169.254.169.254/latest/meta-data/")
