"""core.providers.network: no address a clinic types may aim the platform inward."""

from __future__ import annotations

import ipaddress

import pytest

from praxis.core.providers import network
from praxis.core.providers.network import AddressRefused, OutboundPolicy, is_inward

INWARD = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "168.63.129.16",  # Azure's, a public address
    "100.64.0.1",  # CGNAT
    "100.100.100.200",
    "224.0.0.1",  # multicast
    "0.0.0.0",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
]
OUTWARD = ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", INWARD)
def test_inward_addresses_are_refused(address: str) -> None:
    assert is_inward(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", OUTWARD)
def test_public_addresses_are_not_inward(address: str) -> None:
    assert not is_inward(ipaddress.ip_address(address))


def dns(answers: dict[str, list[str]]) -> object:
    async def lookup(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("unknown host")
        return answers[host]

    return lookup


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        network,
        "lookup",
        dns(
            {
                "metadata.attacker.example": ["169.254.169.254"],
                "private.attacker.example": ["10.0.0.7"],
                "both.attacker.example": ["93.184.215.14", "10.0.0.7"],
                "relay.clinic.example": ["93.184.215.14"],
                "relay.internal": ["10.20.0.5"],
            }
        ),
    )


@pytest.mark.usefixtures("fake_dns")
@pytest.mark.parametrize(
    "host",
    [
        "metadata.attacker.example",
        "private.attacker.example",
        "both.attacker.example",  # rebinding may pick either: refused
        "127.0.0.1",
        "[::1]",
        "::ffff:10.0.0.1",
    ],
)
async def test_a_host_that_resolves_inward_is_refused(host: str) -> None:
    with pytest.raises(AddressRefused, match="internal address"):
        await OutboundPolicy().resolve(host, 443)
    assert await OutboundPolicy().check(host, 443) is not None


@pytest.mark.usefixtures("fake_dns")
async def test_a_public_host_passes_and_its_checked_addresses_are_given() -> None:
    assert await OutboundPolicy().resolve("relay.clinic.example", 587) == ["93.184.215.14"]
    assert await OutboundPolicy().check("relay.clinic.example", 587) is None
    assert await OutboundPolicy().check("unknown.example", 587) is None  # checked on connect


@pytest.mark.usefixtures("fake_dns")
async def test_the_operator_allows_inward_hosts_by_name_or_network_only() -> None:
    policy = OutboundPolicy.parse(" relay.internal , 192.168.5.0/24,::1", require_tls=True)
    assert await policy.resolve("relay.internal", 25) == ["10.20.0.5"]
    assert await policy.resolve("192.168.5.9", 25) == ["192.168.5.9"]
    assert await policy.resolve("[::1]", 25) == ["::1"]
    for refused in ("private.attacker.example", "192.168.6.1", "127.0.0.1"):
        with pytest.raises(AddressRefused):
            await policy.resolve(refused, 25)
