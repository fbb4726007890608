"""Where the platform may connect on a clinic's behalf: never inward.

A clinic admin types a provider's host or URL; nothing they type may aim the platform at
loopback, private, link-local, CGNAT, multicast, unspecified, reserved or cloud metadata
addresses (IPv4 and IPv6, IPv4 inside IPv6 too), unless the operator allows that host by
name or network (``OUTBOUND_ALLOWED_HOSTS``; development allows loopback). The check runs when
settings are saved and again on every connection, on the addresses DNS gives at that moment,
and the connection goes to the address checked (DNS rebinding gains nothing).

Part of the public plugin API: a plugin that opens its own sockets (SMTP) asks
``OutboundPolicy.resolve`` for the addresses it may use; HTTP through ``ProviderContext.http``
is checked by the platform.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

from praxis.core.providers.common import PermanentFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Public addresses that still answer only to the machine asking: cloud metadata services.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "168.63.129.16", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # NAT64 reaches the IPv4 address inside it

# A settings model's validation context says whether TLS is required (pydantic ``context``).
REQUIRE_TLS = "praxis_require_tls"
# Put this in a plain ``str`` settings field's ``json_schema_extra`` when it names a host the
# platform connects to (URL fields, ``HttpUrl``/``AnyUrl``, are found by their type).
CONNECTS_TO: dict[str, Any] = {"praxis_connects_to": True}


class AddressRefused(PermanentFailure):
    """The host resolves to an address the platform does not connect to; trying again cannot
    help until the settings change. The reason names the host the clinic typed, never data."""


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_inward(address: IPAddress) -> bool:
    """Loopback, private, link-local, CGNAT, multicast, unspecified, reserved or metadata."""
    inner = embedded_ipv4(address)
    if inner is not None and is_inward(inner):
        return True
    return address in METADATA or address.is_multicast or not address.is_global


async def lookup(host: str, port: int) -> list[str]:
    """Every address DNS gives for ``host`` now (tests replace this to play DNS)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class OutboundPolicy:
    """Which inward hosts the operator allows (none by default) and whether TLS is a must.

    The default refuses everything inward and requires TLS: what production does.
    """

    allowed_hosts: frozenset[str] = frozenset()  # host names, lower case, exactly as typed
    allowed_networks: tuple[IPNetwork, ...] = ()
    require_tls: bool = True

    @classmethod
    def parse(cls, allowed: str, *, require_tls: bool) -> OutboundPolicy:
        """``allowed``: comma-separated host names, addresses and networks (10.0.0.0/8)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip().lower() for e in allowed.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), require_tls)

    def allows_address(self, address: IPAddress) -> bool:
        return not is_inward(address) or any(address in n for n in self.allowed_networks)

    def refusal(self, host: str) -> str:
        return (
            f"{host} is an internal address (loopback, private network, link-local or cloud "
            "metadata): the platform does not connect there. Use the provider's public address."
        )

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` the platform may connect to; AddressRefused if any is
        inward (a name that resolves both ways is refused: rebinding may pick either)."""
        name = host.strip("[]").lower().rstrip(".")
        literal = _literal(name)
        if literal is not None:
            if not self.allows_address(literal):
                raise AddressRefused(self.refusal(host))
            return [str(literal)]
        found = await lookup(name, port)
        if name in self.allowed_hosts:
            return found
        if not found or not all(self.allows_address(ipaddress.ip_address(a)) for a in found):
            raise AddressRefused(self.refusal(host))
        return found

    async def check(self, host: str, port: int) -> str | None:
        """For a settings form: why ``host`` is refused, or None. A name DNS does not know
        now passes here (the check on connecting still applies)."""
        try:
            await self.resolve(host, port)
        except AddressRefused as exc:
            return exc.reason
        except OSError:
            return None
        return None
