"""The outbound HTTP client (passcode_portal.http) against real servers on this machine: one
deadline for the whole request, redirects returned and not followed, a bounded read, signing,
TLS verified against the name, and the guard that refuses private and loopback addresses unless
the setting allows them."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from passcode_portal import http as outbound

SECRET = "whsec_http-test-秘密"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """An HTTP server on 127.0.0.1 that records each request and answers with ``answer``
    (status, headers, body)."""

    answer: Callable[[Seen], tuple[int, dict[str, str], bytes]] = lambda _seen: (204, {}, b"")
    requests: list[Seen] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    port: int = 0

    def start(self) -> Server:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
                server.requests.append(seen)
                status, headers, body = server.answer(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        if self.tls is not None:
            self.http.socket = self.tls.wrap_socket(self.http.socket, server_side=True)
        self.port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def url(self, host: str = "127.0.0.1", path: str = "/in") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def refused_by_default(settings: Any) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # the default, whatever the environment


@pytest.fixture
def allowed(refused_by_default: None, settings: Any) -> None:
    """The servers here listen on 127.0.0.1, which the client refuses by default."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True


class RawServer:
    """A TCP server on 127.0.0.1 that runs ``serve(connection)`` for each connection: for
    answers no well-behaved HTTP server gives (none, a trickle, an endless body)."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.done = threading.Event()

        def run() -> None:
            while not self.done.is_set():
                try:
                    conn, _address = self.listener.accept()
                except OSError:
                    return
                self.connections += 1
                threading.Thread(target=self._serve, args=(serve, conn), daemon=True).start()

        threading.Thread(target=run, daemon=True).start()

    def _serve(self, serve: Callable[[socket.socket], None], conn: socket.socket) -> None:
        try:
            serve(conn)
        except OSError:
            pass  # the client hung up, as it should
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/in"

    def close(self) -> None:
        self.done.set()
        self.listener.close()


def read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


# ---------------------------------------------------------------------------------------------
# Requests and answers


def test_a_post_reaches_the_server_signed(server: Server, allowed: None) -> None:
    server.answer = lambda _seen: (201, {"X-Answer": "yes"}, b"created")
    before = int(time.time())

    response = outbound.post(
        server.url(path="/in?batch=1"),
        b'{"plate":"\xe8\x8b\x8fD12345"}',
        headers={"Content-Type": "application/json", "X-Event": "trip.entered"},
        sign=outbound.hmac_signer(
            SECRET, timestamp_header="X-Stamp", signature_header="X-Sig", prefix="v1="
        ),
        timeout=5,
    )

    assert (response.status, response.ok, response.body) == (201, True, b"created")
    assert response.headers["X-Answer"] == "yes"
    [seen] = server.requests
    assert (seen.method, seen.path) == ("POST", "/in?batch=1")
    assert seen.body == b'{"plate":"\xe8\x8b\x8fD12345"}'
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["X-Event"] == "trip.entered"
    stamp = seen.headers["X-Stamp"]
    assert before <= int(stamp) <= int(time.time())
    # Checked independently of the code under test.
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + seen.body, hashlib.sha256)
    assert seen.headers["X-Sig"] == "v1=" + mac.hexdigest()


def test_an_error_status_is_an_answer_not_an_exception(server: Server, allowed: None) -> None:
    server.answer = lambda _seen: (503, {}, b"busy, try later")

    response = outbound.post(server.url(), b"{}", timeout=5)

    assert (response.status, response.ok, response.text()) == (503, False, "busy, try later")


def test_a_redirect_is_returned_not_followed(server: Server, allowed: None) -> None:
    elsewhere = Server().start()
    try:
        server.answer = lambda _seen: (307, {"Location": elsewhere.url()}, b"")

        response = outbound.post(server.url(), b'{"signed":true}', timeout=5)

        assert response.status == 307
        assert response.headers["Location"] == elsewhere.url()
        assert len(server.requests) == 1
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


def test_the_body_is_read_only_up_to_the_limit(allowed: None) -> None:
    def endless(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
        while True:
            conn.sendall(b"x" * 65536)

    raw = RawServer(endless)
    try:
        started = time.monotonic()
        response = outbound.post(raw.url, b"{}", timeout=5, max_body=1000)
        assert response.body == b"x" * 1000
        assert time.monotonic() - started < 4
    finally:
        raw.close()


def test_a_server_that_never_answers_times_out(allowed: None) -> None:
    def silent(conn: socket.socket) -> None:
        read_request(conn)
        time.sleep(5)

    raw = RawServer(silent)
    try:
        started = time.monotonic()
        with pytest.raises(outbound.HttpError, match="timed out"):
            outbound.post(raw.url, b"{}", timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        raw.close()


def test_the_deadline_bounds_an_answer_that_trickles_in(allowed: None) -> None:
    # Each byte comes well within the timeout, so a time-out per read would wait for ever.
    def trickle(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):
            conn.sendall(b"X")
            time.sleep(0.05)

    raw = RawServer(trickle)
    try:
        started = time.monotonic()
        with pytest.raises(outbound.HttpError, match="timed out"):
            outbound.post(raw.url, b"{}", timeout=0.5)
        assert time.monotonic() - started < 2
    finally:
        raw.close()


def test_a_refused_connection_is_an_http_error(allowed: None) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(outbound.HttpError, match="ConnectionRefusedError"):
        outbound.post(f"http://127.0.0.1:{port}/in", b"{}", timeout=5)


def test_an_answer_that_is_not_http_is_an_http_error(allowed: None) -> None:
    def babble(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    raw = RawServer(babble)
    try:
        with pytest.raises(outbound.HttpError, match="BadStatusLine"):
            outbound.post(raw.url, b"{}", timeout=5)
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "not an http(s) URL"),
        ("ftp://hub.example.cn/in", "not an http(s) URL"),
        ("http:///in", "no host"),
        ("http://hub.example.cn:port/in", "not a valid URL"),
    ],
)
def test_only_http_urls_are_opened(url: str, reason: str) -> None:
    with pytest.raises(outbound.HttpError, match=re.escape(reason)):
        outbound.post(url, b"{}", timeout=5)


# ---------------------------------------------------------------------------------------------
# TLS


def certificate(tmp_path: Path, name: str) -> Path:
    """A self-signed certificate for ``name`` and its key, in one PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / f"{name}.pem"
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def tls_server(pem: Path) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    return Server(tls=context).start()


def test_tls_is_verified_against_the_name_while_connecting_to_the_checked_address(
    tmp_path: Path, allowed: None
) -> None:
    pem = certificate(tmp_path, "localhost")
    server = tls_server(pem)
    try:
        response = outbound.post(
            server.url(host="localhost"),
            b"{}",
            timeout=5,
            tls=ssl.create_default_context(cafile=str(pem)),
        )
        assert response.status == 204
        assert server.requests[0].headers["Host"] == f"localhost:{server.port}"
    finally:
        server.stop()


def test_a_certificate_for_another_name_is_refused(tmp_path: Path, allowed: None) -> None:
    pem = certificate(tmp_path, "elsewhere.example")
    server = tls_server(pem)
    try:
        with pytest.raises(outbound.HttpError, match="CERTIFICATE_VERIFY_FAILED"):
            outbound.post(
                server.url(host="localhost"),
                b"{}",
                timeout=5,
                tls=ssl.create_default_context(cafile=str(pem)),
            )
        assert server.requests == []
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# The address guard


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        # Other spellings of 127.0.0.1: the address the name resolves to is what is checked.
        "127.1",
        "2130706433",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",  # noqa: S104 -- an address to refuse, not one to bind
    ],
)
def test_this_machine_is_refused_by_default_and_nothing_is_sent(host: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        with pytest.raises(
            outbound.AddressRefused, match=r"^refused: .* OUTBOUND_ALLOW_PRIVATE_ADDRESSES$"
        ):
            outbound.post(f"http://{host}:{port}/in", b"{}", timeout=5)
        # No connection was even opened.
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("10.1.2.3", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.0.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("[fd12:3456::1]", "a private address"),
        ("[fe80::1]", "a link-local address"),
        ("[ff02::1]", "a multicast address"),
        ("[::]", "an unspecified address"),
        ("[::ffff:10.0.0.1]", "a private address"),
        ("[64:ff9b::a00:1]", "a private address"),
        ("[2002:c0a8:101::1]", "a private address"),
    ],
)
def test_other_non_public_addresses_are_refused_before_connecting(host: str, kind: str) -> None:
    with pytest.raises(outbound.AddressRefused, match=kind):
        outbound.post(f"https://{host}/in", b"{}", timeout=5)


def test_the_setting_allows_them(server: Server, settings: Any) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True

    assert outbound.post(server.url(), b"{}", timeout=5).status == 204
    assert outbound.post(server.url(host="localhost"), b"{}", timeout=5).status == 204
    assert len(server.requests) == 2


def test_a_caller_may_allow_them_whatever_the_setting(server: Server, settings: Any) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False

    assert outbound.post(server.url(), b"{}", timeout=5, allow_private=True).status == 204
    with pytest.raises(outbound.AddressRefused):
        outbound.post(server.url(), b"{}", timeout=5)
    assert len(server.requests) == 1


def test_the_connection_goes_to_the_address_that_was_checked(
    server: Server, allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name that resolves elsewhere the second time it is asked (DNS rebinding): the client
    # asks once and connects to what it checked.
    real = socket.getaddrinfo
    calls: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        if len(calls) == 1:
            return real(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.255.255.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)

    assert outbound.post(server.url(host="localhost"), b"{}", timeout=5).status == 204
    assert calls == ["localhost"]


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_pass(address: str) -> None:
    assert outbound.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("hooks.localhost", True),
        ("[::1]", True),
        ("10.0.0.8", True),
        ("::ffff:192.168.1.1", True),
        ("8.8.8.8", False),
        ("hub.example.cn", False),  # names are checked when resolved
    ],
)
def test_literal_hosts_are_judged_without_resolving(host: str, refused: bool) -> None:
    assert (outbound.literal_host_refusal(host) is not None) == refused
