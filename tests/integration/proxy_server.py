"""A recording HTTP proxy on 127.0.0.1, and a TLS front, for the proxy tests.

`recording_proxy(upstream)` serves an HTTP/1.1 proxy (over TLS with `tls=`: an https
proxy): `CONNECT host:port` opens a tunnel (to `upstream`, whatever host was asked: so a
client can use a name such as `dyte.test` that only the proxy "resolves"), and an
absolute-form request (`GET http://host/path`) is forwarded to `upstream` in origin form,
its `Proxy-*` headers removed, one request and answer at a time on a kept-alive
connection. It records every request line and `Proxy-Authorization` value it receives,
and can demand one (else `407`).

`tls_front(upstream, context)` terminates TLS and pipes the bytes to a plain-HTTP server
(a served `FakeDyte`), so that a client reaches the fake over https; `make_tls` makes a
throwaway CA and a certificate for `dyte.test`, `localhost` and 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import anyio.abc
import attrs
from anyio.streams.tls import TLSListener

from tests.integration.loopback import listening, read_request

__all__ = ["Recorder", "make_tls", "recording_proxy", "tls_front"]

#: The most requests one proxied connection carries (every loop is bounded).
_MAX_REQUESTS = 1000
_CHUNK = 65536


@attrs.define
class Recorder:
    """What the proxy saw, and what it demands."""

    url: str = ""
    #: every request line received (`CONNECT dyte.test:443 HTTP/1.1`, `GET http://...`).
    lines: list[bytes] = attrs.field(factory=list)
    #: the `Proxy-Authorization` value of each of them (None: absent).
    authorizations: list[bytes | None] = attrs.field(factory=list)
    #: the headers forwarded upstream with each absolute-form request.
    forwarded: list[bytes] = attrs.field(factory=list)
    #: the `Proxy-Authorization` value required (None: none).
    require: bytes | None = None


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


async def _pipe(source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream) -> None:
    with contextlib.suppress(
        anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError
    ):
        async for chunk in source:
            await sink.send(chunk)


async def _splice(a: anyio.abc.ByteStream, b: anyio.abc.ByteStream) -> None:
    """Pipe both ways until either side ends."""
    async with anyio.create_task_group() as group:

        async def one_way(source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream) -> None:
            await _pipe(source, sink)
            group.cancel_scope.cancel()

        group.start_soon(one_way, a, b)
        group.start_soon(one_way, b, a)


async def _read_answer(stream: anyio.abc.ByteReceiveStream) -> bytes:
    """One answer with a `Content-Length` body (the fake's are), whole."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += await stream.receive(_CHUNK)
    head, _, body = buffer.partition(b"\r\n\r\n")
    length = int(_header(b"status\r\n" + head.partition(b"\r\n")[2], b"content-length") or 0)
    while len(body) < length:
        body += await stream.receive(_CHUNK)
    return head + b"\r\n\r\n" + body


@contextlib.asynccontextmanager
async def recording_proxy(
    upstream: tuple[str, int],
    *,
    require: bytes | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[Recorder]:
    """Serve the proxy (module docstring) on 127.0.0.1.

    Args:
        upstream: where every tunnel and forwarded request goes.
        require: the `Proxy-Authorization` value required, else `407`.
        tls: serve over TLS with this context (an https:// proxy).

    Yields:
        The `Recorder`, its `url` set (`http://127.0.0.1:<port>`, or
        `https://localhost:<port>` with `tls`).
    """
    recorder = Recorder(require=require)

    async def handle(client: anyio.abc.ByteStream) -> None:
        async with client:
            with contextlib.suppress(
                anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError
            ):
                await _serve(client)

    async def _serve(client: anyio.abc.ByteStream) -> None:
        rest = b""
        upstream_stream: anyio.abc.SocketStream | None = None
        try:
            for _ in range(_MAX_REQUESTS):
                head, body, rest = await read_request(client, rest)
                line = head.partition(b"\r\n")[0]
                auth = _header(head, b"proxy-authorization")
                recorder.lines.append(line)
                recorder.authorizations.append(auth)
                if recorder.require is not None and auth != recorder.require:
                    await client.send(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\n'
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                method, target, version = line.split(b" ")
                if upstream_stream is None:
                    upstream_stream = await anyio.connect_tcp(*upstream)
                if method == b"CONNECT":
                    await client.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    if rest:
                        await upstream_stream.send(rest)
                    await _splice(client, upstream_stream)
                    return
                # Absolute form: forward in origin form, without the Proxy-* headers.
                path = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
                kept = [h for h in head.split(b"\r\n")[1:] if not h.lower().startswith(b"proxy-")]
                forwarded = b"\r\n".join([b" ".join((method, path, version)), *kept])
                recorder.forwarded.append(forwarded)
                await upstream_stream.send(forwarded + b"\r\n\r\n" + body)
                await client.send(await _read_answer(upstream_stream))
        finally:
            if upstream_stream is not None:
                await upstream_stream.aclose()

    if tls is None:
        async with listening(handle) as url:
            recorder.url = url
            yield recorder
        return
    async with _tls_listening(handle, tls) as port:
        recorder.url = f"https://localhost:{port}"
        yield recorder


@contextlib.asynccontextmanager
async def _tls_listening(
    handle: Callable[[anyio.abc.ByteStream], Awaitable[None]], context: ssl.SSLContext
) -> AsyncIterator[int]:
    """Serve each TLS connection to a fresh port on 127.0.0.1 with `handle`."""
    tcp = await anyio.create_tcp_listener(local_host="127.0.0.1")
    listener = TLSListener(tcp, context, standard_compatible=False)

    async def guarded(client: anyio.abc.ByteStream) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, OSError, ssl.SSLError):
            await handle(client)

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, guarded)
        try:
            yield tcp.extra(anyio.abc.SocketAttribute.local_port)
        finally:
            group.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def tls_front(upstream: tuple[str, int], context: ssl.SSLContext) -> AsyncIterator[int]:
    """Terminate TLS on 127.0.0.1 and pipe each connection to `upstream`.

    Yields:
        The port.
    """

    async def handle(client: anyio.abc.ByteStream) -> None:
        async with client, await anyio.connect_tcp(*upstream) as plain:
            await _splice(client, plain)

    async with _tls_listening(handle, context) as port:
        yield port


def make_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A throwaway CA and a server certificate for `dyte.test`, `localhost`, 127.0.0.1.

    Args:
        directory: where the CA's certificate is written.

    Returns:
        The server's TLS context and the CA file (for `SSL_CERT_FILE`).
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dyte_async test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dyte.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("dyte.test"),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file = directory / "server.pem"
    cert_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file)
    return context, ca_file
