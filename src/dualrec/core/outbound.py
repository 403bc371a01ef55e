"""Which addresses the server may send to (webhooks, archive push): the rules against SSRF.

A URL a business system or an operator configures is checked twice: when it is configured
(``url_problem``: http(s) only, a host, no user name or password in it) and when something is sent
(``address_problem``: every address the host resolves to must be public). Loopback, private,
link-local (cloud metadata), multicast, reserved and unspecified addresses are refused unless the
operator's allow-list (``DUALREC_OUTBOUND_ALLOW``) names the host or a network containing the address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["METADATA_ADDRESSES", "AllowList", "IpAddress", "address_problem", "url_problem"]

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# cloud instance metadata (AWS/GCP/Azure/Alibaba/Tencent use 169.254.169.254; AWS IPv6 fd00:ec2::254)
METADATA_ADDRESSES: frozenset[IpAddress] = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


@dataclass(frozen=True)
class AllowList:
    """Hosts (exact names, case-insensitive) and networks the operator allows although not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """``["127.0.0.1", "10.0.0.0/8", "archive.bank.internal"]``; ValueError names a bad entry."""
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry.lower().rstrip(".")
            if not name or any(c in name for c in "/:@ ?#[]"):
                raise ValueError(f"not a host name, address or CIDR network: {entry!r}")
            hosts.add(name)
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IpAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return any(address.version == n.version and address in n for n in self.networks)


def url_problem(url: str) -> str:
    """Why ``url`` cannot be a destination (empty: it can), checked when it is configured."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "地址格式无效 / the URL is malformed"
    if parts.scheme not in ("http", "https"):
        return "须为 http(s) 地址 / the URL must be http or https"
    if not parts.hostname:
        return "地址缺少主机名 / the URL has no host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "地址中不能含用户名或密码 / the URL must not carry a user name or password"
    if any(c.isspace() for c in url):
        return "地址中不能含空白字符 / the URL must not contain whitespace"
    return ""


def _kind(address: IpAddress) -> str:
    """What makes ``address`` non-public (empty: it is public)."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not public"
    return ""


def address_problem(host: str, address: IpAddress, allow: AllowList) -> str:
    """Why the server may not connect to ``address`` (resolved from ``host``); empty: it may."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    checked: IpAddress = mapped or address
    kind = _kind(checked)
    if not kind or allow.allows(host, checked) or (mapped is not None and allow.allows(host, address)):
        return ""
    return (
        f"目标地址 {checked} 为内部地址（{kind}），未在 DUALREC_OUTBOUND_ALLOW 中允许，未发送 / "
        f"refused: {host} resolves to {checked} ({kind}), not in DUALREC_OUTBOUND_ALLOW; nothing was sent"
    )
