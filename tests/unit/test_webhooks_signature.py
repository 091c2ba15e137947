"""dyte_async.webhooks.verify: RSA-SHA256 (PKCS#1 v1.5) over the raw body, every failure typed."""

from __future__ import annotations

import base64
import functools
import json
import shutil
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from dyte_async.errors import ConfigurationError, DyteError, WebhookSignatureError
from dyte_async.webhooks import (
    SIGNATURE_HEADERS,
    WebhookKeyError,
    _crypto,
    generate_keypair,
    js_stringify,
    sign,
    signed_headers,
    verify,
)

BODY = b'{"event":"livestreaming.statusUpdate","streamId":"d231d346","status":"LIVE"}'
PRETTY = (
    b'{\n  "event": "livestreaming.statusUpdate",\n  "streamId": "d231d346",\n  "status": "LIVE"\n}'
)


def keypair(name: str = "main") -> tuple[str, str]:
    return _keypair(name)


@functools.cache
def _keypair(name: str) -> tuple[str, str]:
    return generate_keypair()


def private_key(name: str = "main") -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(keypair(name)[0].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# -- the good case -----------------------------------------------------------------------


@pytest.mark.parametrize("header", SIGNATURE_HEADERS)
def test_a_valid_signature_passes_under_either_header_name(header: str) -> None:
    private_pem, public_pem = keypair()
    verify(BODY, {header: sign(BODY, private_pem)}, public_pem)


@pytest.mark.parametrize("flavor", ["dyte", "realtimekit"])
def test_signed_headers_verify(flavor: Any) -> None:
    private_pem, public_pem = keypair()
    headers = signed_headers(BODY, private_pem, flavor=flavor, webhook_id="wh-1")
    prefix = "dyte" if flavor == "dyte" else "rtk"
    assert set(headers) == {
        "content-type",
        f"{prefix}-signature",
        f"{prefix}-uuid",
        f"{prefix}-webhook-id",
    }
    verify(BODY, headers, public_pem)


def test_header_names_match_in_any_case_and_in_header_objects() -> None:
    import httpx
    from starlette.datastructures import Headers

    private_pem, public_pem = keypair()
    signature = sign(BODY, private_pem)
    verify(BODY, {"Dyte-Signature": signature}, public_pem)
    verify(BODY, {"RTK-SIGNATURE": f"  {signature}\t"}, public_pem)
    verify(BODY, httpx.Headers({"Rtk-Signature": signature}), public_pem)
    verify(BODY, Headers(raw=[(b"dyte-signature", signature.encode())]), public_pem)


def test_body_may_be_bytearray_memoryview_or_text() -> None:
    private_pem, public_pem = keypair()
    headers = {"dyte-signature": sign(BODY, private_pem)}
    verify(bytearray(BODY), headers, public_pem)
    verify(memoryview(BODY), headers, public_pem)
    verify(BODY.decode(), headers, public_pem)
    verify(BODY, headers, public_pem.encode())


def test_one_valid_signature_of_two_headers_is_enough() -> None:
    private_pem, public_pem = keypair()
    other_private, _ = keypair("other")
    headers = {
        "dyte-signature": sign(BODY, other_private),
        "rtk-signature": sign(BODY, private_pem),
    }
    verify(BODY, headers, public_pem)


def test_pkcs1_rsa_public_key_pem_is_accepted() -> None:
    private_pem, _ = keypair()
    pkcs1 = (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )
    assert pkcs1.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    verify(BODY, {"dyte-signature": sign(BODY, private_pem)}, pkcs1)


# -- every failure is a WebhookSignatureError --------------------------------------------


def assert_rejected(body: Any, headers: Any, public_pem: Any = None, **kwargs: Any) -> str:
    with pytest.raises(WebhookSignatureError) as info:
        verify(body, headers, public_pem or keypair()[1], **kwargs)
    assert isinstance(info.value, DyteError)
    return str(info.value)


@pytest.mark.parametrize(
    "tampered",
    [
        BODY.replace(b"LIVE", b"IDLE"),
        BODY + b" ",
        BODY + b"\n",
        BODY[:-1],
        b"",
        PRETTY,  # same JSON, other bytes: the raw body is what is signed
    ],
)
def test_a_tampered_body_fails(tampered: bytes) -> None:
    message = assert_rejected(tampered, {"dyte-signature": sign(BODY, keypair()[0])})
    assert "does not match" in message


def test_a_signature_from_another_key_fails() -> None:
    assert_rejected(BODY, {"rtk-signature": sign(BODY, keypair("other")[0])})


@pytest.mark.parametrize(
    "headers",
    [{}, None, {"content-type": "application/json"}, {"x-signature": "abc"}],
    ids=["empty", "none", "unrelated", "other-name"],
)
def test_a_missing_signature_header_fails(headers: Any) -> None:
    message = assert_rejected(BODY, headers)
    assert "dyte-signature" in message
    assert "rtk-signature" in message


@pytest.mark.parametrize(
    "value",
    ["", "   ", "not base64!", "abc", "====", "ab=c", "é" * 8, "A" * 20_000, "AAAA"],
    ids=[
        "empty",
        "blank",
        "symbols",
        "bad-padding",
        "only-padding",
        "inner-pad",
        "non-ascii",
        "huge",
        "wrong-length",
    ],
)
def test_a_garbage_signature_header_fails(value: str) -> None:
    assert_rejected(BODY, {"dyte-signature": value})


def test_a_signature_of_the_right_length_but_random_bytes_fails() -> None:
    assert_rejected(BODY, {"dyte-signature": b64(bytes(range(256)))})


@pytest.mark.parametrize(
    ("pad", "algorithm"),
    [
        (padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()),
        (padding.PKCS1v15(), hashes.SHA1()),
        (padding.PKCS1v15(), hashes.SHA512()),
        (padding.PKCS1v15(), hashes.SHA384()),
    ],
    ids=["pss-sha256", "pkcs1-sha1", "pkcs1-sha512", "pkcs1-sha384"],
)
def test_another_algorithm_fails(pad: padding.AsymmetricPadding, algorithm: Any) -> None:
    signature = private_key().sign(BODY, pad, algorithm)
    assert_rejected(BODY, {"dyte-signature": b64(signature)})


def test_an_ec_signature_fails_against_the_rsa_key() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    signature = ec_key.sign(BODY, ec.ECDSA(hashes.SHA256()))
    assert_rejected(BODY, {"dyte-signature": b64(signature)})


def test_a_body_that_is_not_bytes_fails_as_a_signature_error() -> None:
    assert_rejected(12345, {"dyte-signature": sign(BODY, keypair()[0])})


def test_errors_never_carry_the_signature_or_body() -> None:
    signature = sign(BODY, keypair("other")[0])
    message = assert_rejected(BODY, {"dyte-signature": signature})
    assert signature not in message
    assert "d231d346" not in message


# -- the key -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_key",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        12345,
    ],
    ids=["empty", "text", "bad-der", "not-text"],
)
def test_an_unusable_public_key_is_a_key_error(bad_key: Any) -> None:
    with pytest.raises(WebhookKeyError) as info:
        verify(BODY, {"dyte-signature": sign(BODY, keypair()[0])}, bad_key)
    assert isinstance(info.value, WebhookSignatureError)
    assert isinstance(info.value, ConfigurationError)


def test_an_ec_public_key_is_a_key_error() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(WebhookKeyError, match="RSA"):
        verify(BODY, {"dyte-signature": sign(BODY, keypair()[0])}, ec_pem)


def test_a_private_key_given_as_the_public_key_is_a_key_error() -> None:
    private_pem, _ = keypair()
    with pytest.raises(WebhookKeyError) as info:
        verify(BODY, {"dyte-signature": sign(BODY, private_pem)}, private_pem)
    assert "PRIVATE" not in str(info.value)


def test_sign_rejects_a_bad_private_key_without_echoing_it() -> None:
    with pytest.raises(WebhookKeyError) as info:
        sign(BODY, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n")
    assert "c2VjcmV0" not in str(info.value)


def test_generate_keypair_gives_pem_text() -> None:
    private_pem, public_pem = keypair()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert private_key().key_size == 2048


# -- Dyte's re-serialised body, only behind the flag --------------------------------------


def reserialized_signature(body: bytes) -> str:
    return sign(js_stringify(json.loads(body)).encode(), keypair()[0])


def test_a_signature_over_the_reserialised_body_fails_by_default() -> None:
    assert_rejected(PRETTY, {"dyte-signature": reserialized_signature(PRETTY)})


def test_a_signature_over_the_reserialised_body_passes_with_the_flag() -> None:
    headers = {"dyte-signature": reserialized_signature(PRETTY)}
    verify(PRETTY, headers, keypair()[1], allow_reserialized=True)


def test_the_flag_still_accepts_raw_body_signatures() -> None:
    verify(
        BODY, {"dyte-signature": sign(BODY, keypair()[0])}, keypair()[1], allow_reserialized=True
    )


def test_the_flag_does_not_accept_different_json() -> None:
    headers = {"dyte-signature": reserialized_signature(PRETTY)}
    other = PRETTY.replace(b"LIVE", b"IDLE")
    assert_rejected(other, headers, allow_reserialized=True)


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[" * 100_000, b""])
def test_the_flag_on_a_body_that_is_not_json_is_a_plain_mismatch(body: bytes) -> None:
    assert_rejected(body, {"dyte-signature": sign(BODY, keypair()[0])}, allow_reserialized=True)


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_node_signatures_verify_raw_and_as_dytes_sample_computes_them() -> None:
    """Cross-check with Node's crypto: raw-body signing, and Dyte's JSON.stringify sample."""
    private_pem, public_pem = keypair()
    body = (
        '{ "event" : "livestreaming.statusUpdate", "streamId":"s-1", "n": 1.0, "2":"x", "é":"ü" }'
    )
    script = """
const crypto = require('crypto');
const [body, key] = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const raw = crypto.sign('RSA-SHA256', Buffer.from(body), key).toString('base64');
const re = crypto.sign('RSA-SHA256', Buffer.from(JSON.stringify(JSON.parse(body))), key)
  .toString('base64');
process.stdout.write(JSON.stringify([raw, re]));
"""
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", script],
        input=json.dumps([body, private_pem]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    raw_sig, reserialized_sig = json.loads(done.stdout)
    data = body.encode()
    verify(data, {"dyte-signature": raw_sig}, public_pem)
    assert_rejected(data, {"dyte-signature": reserialized_sig}, public_pem)
    verify(data, {"dyte-signature": reserialized_sig}, public_pem, allow_reserialized=True)


# -- without cryptography ----------------------------------------------------------------


def block_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("cryptography", *_crypto._MODULES):
        monkeypatch.setitem(sys.modules, name, None)


def test_without_cryptography_verify_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    private_pem, public_pem = keypair()
    headers = {"dyte-signature": sign(BODY, private_pem)}
    block_cryptography(monkeypatch)
    for call in (
        lambda: verify(BODY, headers, public_pem),
        lambda: verify(BODY, {}, public_pem),  # even before looking at the request
        lambda: sign(BODY, private_pem),
        generate_keypair,
    ):
        with pytest.raises(ConfigurationError, match=r"dyte-async\[webhooks\]") as info:
            call()
        assert not isinstance(info.value, WebhookSignatureError)


def test_the_package_imports_and_parses_without_cryptography() -> None:
    code = """
import sys
sys.modules["cryptography"] = None
import dyte_async, dyte_async.webhooks
from dyte_async.webhooks import RecentIds, parse_event, verify
event = parse_event(b'{"event":"livestreaming.statusUpdate","streamId":"s","status":"LIVE"}')
assert event.stream_id == "s"
assert not RecentIds().is_duplicate("a")
try:
    verify(b"{}", {"dyte-signature": "AAAA"}, "pem")
except dyte_async.ConfigurationError as exc:
    assert "dyte-async[webhooks]" in str(exc), exc
else:
    raise SystemExit("no ConfigurationError")
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_sign_refuses_a_non_rsa_private_key() -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(WebhookKeyError, match="RSA"):
        sign(BODY, ec_pem)


def test_signed_headers_refuses_an_unknown_flavor() -> None:
    with pytest.raises(ValueError, match="flavor"):
        signed_headers(BODY, keypair()[0], flavor="zoom")  # type: ignore[arg-type]
