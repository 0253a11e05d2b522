"""The one outbound HTTP client: hand-over webhooks to receiving systems (``handover.delivery``)
and text messages to the SMS gateway (``notifications.sms``).

What it does, whoever calls it:

- **One deadline.** ``timeout`` bounds the whole request: connecting, the TLS handshake, sending,
  and every read of the answer share it, so a receiver that trickles its answer a byte at a time
  cannot hold a worker longer than that (the outbox's sweep counts on it). Resolving the name is
  the system resolver's, with its own time-out.
- **No redirects.** A 3xx is returned as the answer, not followed: following would turn a POST
  into a GET without the body, or send a signed body somewhere nobody checked.
- **A bounded read.** At most ``max_body`` bytes of the answer are read; the rest is dropped
  with the connection (one request per connection).
- **Signing.** ``sign`` (see ``hmac_signer``) adds headers computed from the exact body bytes,
  right before they are sent.
- **The address guard.** The host is resolved once and every address checked: private,
  loopback, link-local, multicast, reserved, unspecified and other non-public addresses (IPv4
  and IPv6, including IPv4 addresses carried in IPv6 ones) are refused before any connection is
  made, unless ``allow_private`` (by default the setting ``OUTBOUND_ALLOW_PRIVATE_ADDRESSES``)
  allows them. The connection then goes to an address that was checked, never to the name
  again, so a name that resolves differently a moment later (DNS rebinding) cannot redirect it.
  TLS is still verified against the name.

Proxies from the environment (``HTTPS_PROXY``) are not used: the guard checks the address it
connects to, and through a proxy that would be the proxy's.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import io
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

__all__ = [
    "AddressRefused",
    "HttpError",
    "Response",
    "hmac_sha256_hex",
    "hmac_signer",
    "literal_host_refusal",
    "post",
    "refusal",
    "request",
]

ALLOW_PRIVATE_SETTING = "OUTBOUND_ALLOW_PRIVATE_ADDRESSES"
DEFAULT_MAX_BODY = 8192
USER_AGENT = "passcode-portal/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Headers to add, computed from the body about to be sent.
Signer = Callable[[bytes], Mapping[str, str]]


class HttpError(Exception):
    """No answer: the URL cannot be used, the address is refused, the network failed or the
    answer was not HTTP. ``str(error)`` is a short reason, fit for a log or an outbox row."""


class AddressRefused(HttpError):
    """The target's address is one the guard refuses; nothing was sent, and retrying will not
    help until the URL or the setting changes."""


@dataclass(frozen=True)
class Response:
    """An answer, whatever its status (a 3xx included: it is not followed)."""

    status: int
    reason: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # At most the ``max_body`` bytes asked for.
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self, limit: int = 200) -> str:
        """The start of the body as text, for an error message."""
        return self.body[:limit].decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------------------------------
# Signing


def hmac_sha256_hex(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256, keyed with ``secret`` (UTF-8), of ``f"{timestamp}.{body}"``. The
    timestamp is signed too, so a captured request cannot be replayed later under a new one."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def hmac_signer(
    secret: str, *, timestamp_header: str, signature_header: str, prefix: str = ""
) -> Signer:
    """A ``sign`` hook: the current Unix time in ``timestamp_header`` and ``prefix`` followed by
    ``hmac_sha256_hex`` of it and the body in ``signature_header``."""

    def sign(body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            timestamp_header: timestamp,
            signature_header: prefix + hmac_sha256_hex(secret, timestamp, body),
        }

    return sign


# ---------------------------------------------------------------------------------------------
# The address guard

# NAT64's well-known prefix carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refusal(address: Address) -> str | None:
    """Why the guard refuses ``address`` ("a loopback address", ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            # ::ffff:10.0.0.1 reaches 10.0.0.1: the IPv4 address decides.
            return refusal(embedded)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def literal_host_refusal(host: str) -> str | None:
    """For a URL's host, without resolving it: why the guard would refuse it if it is an
    address written out (``10.0.0.5``, ``[::1]``) or a name for this machine (``localhost``),
    or None. Names are checked when a request resolves them."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "a loopback address"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    return refusal(address)


def _allowed_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return bool(getattr(settings, ALLOW_PRIVATE_SETTING, False))


def _resolve(host: str, port: int, *, allow_private: bool) -> list[tuple[Any, ...]]:
    """The host's addresses (getaddrinfo entries), every one checked by the guard: a name that
    resolves to a refused address is refused as a whole, even beside public ones."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise HttpError(f"cannot resolve {host}: {error}") from error
    if not found:
        raise HttpError(f"cannot resolve {host}")
    if not allow_private:
        for entry in found:
            address = ipaddress.ip_address(str(entry[4][0]).split("%", 1)[0])
            why = refusal(address)
            if why is not None:
                shown = host if host == str(address) else f"{host} ({address})"
                raise AddressRefused(
                    f"refused: {shown} is {why}; such targets are allowed only with "
                    f"{ALLOW_PRIVATE_SETTING}"
                )
    return found


# ---------------------------------------------------------------------------------------------
# The request


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.at = time.monotonic() + timeout

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


class _DeadlineReader(io.RawIOBase):
    """The socket as the answer is read from it: each read waits at most what is left of the
    deadline, so the deadline bounds the whole answer, not each read."""

    def __init__(self, sock: socket.socket, deadline: _Deadline, hold: io.BufferedReader) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        # The file http.client made: while it is open the socket stays open when the
        # connection lets go of it (as it does at once for "Connection: close").
        self._hold = hold

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._hold.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


def _response_class(deadline: _Deadline) -> type[http.client.HTTPResponse]:
    class DeadlineResponse(http.client.HTTPResponse):
        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
            super().__init__(sock, *args, **kwargs)
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline, self.fp))

    return DeadlineResponse


class _Connection(http.client.HTTPConnection):
    """http.client's request writing and answer parsing over a socket this module connected
    (to a checked address, TLS already set up)."""

    def __init__(
        self, host: str, port: int, sock: socket.socket, deadline: _Deadline, default_port: int
    ) -> None:
        super().__init__(host, port)
        # The Host header leaves the port out when it is the scheme's own.
        self.default_port = default_port
        self._connected = sock
        self.response_class = _response_class(deadline)

    def connect(self) -> None:
        self.sock = self._connected


def _connect(
    entries: list[tuple[Any, ...]], host: str, tls: ssl.SSLContext | None, deadline: _Deadline
) -> socket.socket:
    """A connection to the first checked address that takes one (then TLS, verified against
    the name)."""
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in entries:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock.settimeout(deadline.remaining())
                return tls.wrap_socket(sock, server_hostname=host)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as failed:
            sock.close()
            if isinstance(failed, ssl.SSLError):
                raise
            error = failed
    assert error is not None
    raise error


@functools.cache
def _system_tls() -> ssl.SSLContext:
    """Certificates checked against the system's authorities and the URL's host name."""
    return ssl.create_default_context()


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    sign: Signer | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    allow_private: bool | None = None,
    tls: ssl.SSLContext | None = None,
) -> Response:
    """Send one request and return the answer, whatever its status; raise ``HttpError`` (or
    ``AddressRefused``) when there is none. See the module's description for what is checked.
    ``tls`` replaces the system's certificate authorities (a test's own)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise HttpError("not a valid URL") from error
    if parts.scheme not in ("http", "https"):
        # Only http(s): nothing here opens file: or ftp: URLs, whatever a row says.
        raise HttpError("not an http(s) URL")
    host = parts.hostname
    if not host:
        raise HttpError("not a valid URL: no host")
    if parts.scheme == "https":
        tls = tls or _system_tls()
        default_port = 443
    else:
        tls, default_port = None, 80
    port = port or default_port
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    deadline = _Deadline(timeout)
    entries = _resolve(host, port, allow_private=_allowed_private(allow_private))
    all_headers = {"User-Agent": USER_AGENT, **(headers or {}), "Connection": "close"}
    if sign is not None:
        all_headers.update(sign(body or b""))
    try:
        sock = _connect(entries, host, tls, deadline)
        connection = _Connection(host, port, sock, deadline, default_port)
        try:
            sock.settimeout(deadline.remaining())
            connection.request(method, target, body=body, headers=all_headers)
            answer = connection.getresponse()
            data = answer.read(max_body) if max_body > 0 else b""
            return Response(
                status=answer.status,
                reason=answer.reason,
                headers=dict(answer.getheaders()),
                body=data,
            )
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as error:
        # Refused, reset, timed out and TLS failures are OSErrors; an answer that is not HTTP
        # is an HTTPException; a header value that cannot be sent is a ValueError.
        raise HttpError(_reason(error)) from error


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    sign: Signer | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    allow_private: bool | None = None,
    tls: ssl.SSLContext | None = None,
) -> Response:
    """``request("POST", ...)``."""
    return request(
        "POST",
        url,
        body,
        headers=headers,
        timeout=timeout,
        sign=sign,
        max_body=max_body,
        allow_private=allow_private,
        tls=tls,
    )
