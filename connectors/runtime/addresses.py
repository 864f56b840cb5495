"""Public addresses only: the check, and an httpx transport that enforces it.

Used by `custom-http-request` nodes and by connections whose base URL the customer supplied
(a subdomain, an instance URL), unless `OSMO_ALLOW_PRIVATE_HTTP` is set.

The check happens where a connection is made, on the addresses then connected to, so a DNS
answer that changes between a check and the connection cannot slip a private address through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from connectors.runtime.errors import ConnectorError
from core.errors import OsmoError


class AddressNotAllowed(OsmoError):
    """The host resolves to an address flows may not reach (loopback, private, link-local...)."""

    def __init__(self, host: str, addresses: list[str]) -> None:
        super().__init__(
            "bad_request",
            "address_not_allowed",
            f"{host} resolves to non-public address {', '.join(addresses)}; "
            "set OSMO_ALLOW_PRIVATE_HTTP=true to allow it",
            {"host": host, "addresses": addresses},
        )


def is_public(address: str) -> bool:
    """Whether an IP address is globally reachable (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int, timeout: float | None) -> list[str]:
    """Every address `host` resolves to, in resolver order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_public(host: str, port: int, timeout: float | None) -> None:
    """Refuses a host that resolves to any non-public address (a check ahead of connecting,
    for when nothing else will be sent; `PublicOnlyTransport` checks every connection).

    Raises:
        AddressNotAllowed: When any resolved address is not public.
    """
    refused = [address for address in await resolve(host, port, timeout) if not is_public(address)]
    if refused:
        raise AddressNotAllowed(host, refused)


async def ensure_public(url: httpx.URL, timeout: float | None) -> None:
    """Refuses a base URL whose host is not public; a host that does not resolve now passes
    (nothing is sent, and every later request is checked where it connects).

    Raises:
        ConnectorError: `address_not_allowed`.
    """
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        await check_public(url.host, port, timeout)
    except AddressNotAllowed as exc:
        raise ConnectorError("address_not_allowed", exc.message, data=exc.data) from exc
    except (httpcore.ConnectError, httpcore.ConnectTimeout):
        pass


class PublicAddressBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections to public addresses only.

    The check happens where the connection is made, on the addresses then connected to, so a
    DNS answer that changes between a check and the connection cannot slip a private address
    through; TLS still verifies the certificate against the host name.
    """

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port, timeout)
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise AddressNotAllowed(host, refused)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:  # the next address may answer
                error = exc
        raise error or httpcore.ConnectError(f"{host} resolves to no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool that refuses non-public addresses."""

    def __init__(self) -> None:
        super().__init__()
        # httpx takes no network backend, but its connection pool does: use one with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            network_backend=PublicAddressBackend(),
        )
