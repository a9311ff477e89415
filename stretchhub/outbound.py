"""One POST to a URL someone else gave us (a partner's webhook endpoint, a member's push service), made
safely: only to public addresses, no redirects, a short timeout, a bounded read.

The address is checked when the URL is registered and again on every
connection: the name is resolved, every address it resolves to must be
allowed, and the socket is opened to the address that was checked (the name
still goes in the Host header and the TLS SNI), so a DNS answer that changes
between the check and the connection (rebinding) cannot reach an internal host.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

# Enough to show what the other end said; the rest is not read.
RESPONSE_BODY_LIMIT = 1024


class UnsafeURL(Exception):
    """We do not send to this URL; the message says why, for whoever gave it."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str = ""
    # The Retry-After header of a 429 or 503, as sent.
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _address_allowed(address: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if allow_private and ip.is_loopback:
        return True
    # is_global is False for loopback, private, link-local (169.254.169.254, the
    # cloud metadata address, among them), shared, reserved and unique-local ranges.
    return ip.is_global and not ip.is_multicast


def _target(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("This is not a valid URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL("The URL must use https.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL may not hold a user name or password.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve_checked(url: str, *, allow_private: bool) -> list[str]:
    """Every address the URL's host resolves to, all of them allowed; UnsafeURL otherwise."""
    _scheme, host, port, _path = _target(url, allow_private=allow_private)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The host {host} could not be resolved.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [address for address in addresses if not _address_allowed(address, allow_private=allow_private)]
    if refused or not addresses:
        raise UnsafeURL(f"The host {host} resolves to an address we do not send to ({refused[0]}).")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str], allow_private: bool, timeout: float) -> Answer:
    """POST once. Any answer is returned as it is (a redirect is just a non-2xx); no answer is an error."""
    try:
        scheme, host, port, path = _target(url, allow_private=allow_private)
        address = resolve_checked(url, allow_private=allow_private)[0]
    except UnsafeURL as refusal:
        return Answer(None, f"refused: {refusal}")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        response.read(RESPONSE_BODY_LIMIT)
        return Answer(response.status, retry_after=response.getheader("Retry-After"))
    except TimeoutError:
        return Answer(None, f"timeout after {timeout:g} s")
    except ConnectionRefusedError:
        return Answer(None, "connection refused")
    except ssl.SSLError as error:
        return Answer(None, f"TLS error: {error.reason or error}"[:300])
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()
