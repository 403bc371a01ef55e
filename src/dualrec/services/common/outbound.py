"""HTTP requests to configured destinations (webhooks, archive push), guarded against SSRF.

``stream`` resolves the URL's host once, refuses it when any of its addresses is not public and
not allowed (``core.outbound``), then connects to the address it checked: the request goes to the IP
with the original ``Host`` header (and the host name as TLS SNI and certificate name), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot redirect it.
Redirects are never followed and connections are not reused (``Connection: close``): a pooled TLS
connection opened for one host name must not carry a request for another that shares its address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from dualrec.core.outbound import AllowList, IpAddress, address_problem, url_problem
from dualrec.errors import InvalidInputError

__all__ = ["OutboundRefusedError", "Resolver", "pin", "stream"]

Resolver = Callable[[str, int], list[IpAddress]]


class OutboundRefusedError(InvalidInputError):
    """The destination is not allowed (a configuration problem: retrying cannot help, and the job
    queue does not retry an invalid input)."""

    code = "outbound_refused"


def system_resolver(host: str, port: int) -> list[IpAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Pinned:
    """The request target after the check: the IP URL, the Host header, the TLS server name."""

    url: httpx.URL
    host_header: str
    sni_hostname: str | None
    address: IpAddress


def pin(url: str, allow: AllowList, *, resolver: Resolver = system_resolver) -> Pinned:
    """Check ``url`` and resolve it to one allowed address; OutboundRefusedError says why not."""
    problem = url_problem(url)
    if problem:
        raise OutboundRefusedError(f"{problem}: {url[:200]}")
    target = httpx.URL(url)
    host = target.host
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host}: no address")
    for address in addresses:  # every answer must be allowed, or a mixed answer could slip through
        problem = address_problem(host, address, allow)
        if problem:
            raise OutboundRefusedError(problem, details={"host": host, "address": str(address)})
    chosen = addresses[0]
    default_port = {"http": 80, "https": 443}[target.scheme]
    host_header = target.netloc.decode("ascii")
    if target.port in (None, default_port):
        host_header = host if ":" not in host else f"[{host}]"
    return Pinned(
        url=target.copy_with(host=str(chosen)),
        host_header=host_header,
        sni_hostname=host if target.scheme == "https" and literal is None else None,
        address=chosen,
    )


@contextmanager
def stream(
    client: httpx.Client,
    method: str,
    url: str,
    allow: AllowList,
    *,
    headers: dict[str, str] | None = None,
    resolver: Resolver = system_resolver,
    **kwargs: Any,
) -> Iterator[httpx.Response]:
    """Send to the checked address and yield the (streamed, unread) response; never redirects.

    Raises OutboundRefusedError before anything is sent, or httpx errors as ``client.stream`` does.
    """
    target = pin(url, allow, resolver=resolver)
    sent_headers = {**(headers or {}), "Host": target.host_header, "Connection": "close"}
    extensions: dict[str, Any] = {}
    if target.sni_hostname:
        extensions["sni_hostname"] = target.sni_hostname
    request = client.build_request(method, target.url, headers=sent_headers, extensions=extensions, **kwargs)
    response = client.send(request, stream=True, follow_redirects=False)
    try:
        yield response
    finally:
        response.close()
