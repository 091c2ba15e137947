"""The one place that touches `cryptography`, imported lazily.

`cryptography` is the `webhooks` extra (`pip install 'dyte-async[webhooks]'`), so nothing
here imports it at module level: `import dyte_async` and `import dyte_async.webhooks` work
without it, and the first call that needs it raises a `ConfigurationError` naming the extra.

The scheme is the one both services document: RSASSA-PKCS1-v1_5 with SHA-256.
"""

from __future__ import annotations

import base64
import functools
import importlib
from typing import TYPE_CHECKING

from dyte_async.errors import ConfigurationError
from dyte_async.webhooks._errors import WebhookKeyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "INSTALL_HINT",
    "MIN_KEY_BITS",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "require_cryptography",
    "sign",
    "signature_matches",
]

INSTALL_HINT = "pip install 'dyte-async[webhooks]'"

#: Shortest RSA modulus accepted, in bits, for any key loaded or generated here: a
#: 1024-bit key is within reach of a well-funded attacker (NIST SP 800-131A disallows it
#: for signatures), and whoever can forge a webhook signature can drive the receiver.
MIN_KEY_BITS = 2048

_MODULES = (
    "cryptography.exceptions",
    "cryptography.hazmat.primitives.hashes",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.asymmetric.padding",
    "cryptography.hazmat.primitives.asymmetric.rsa",
)


def require_cryptography() -> None:
    """Import what the webhook helpers need, or say which extra to install.

    Raises:
        ConfigurationError: `cryptography` is not installed (or too old to import).
    """
    try:
        for name in _MODULES:
            importlib.import_module(name)
    except ImportError as exc:
        raise ConfigurationError(
            "webhook signatures need the 'cryptography' package: " + INSTALL_HINT
        ) from exc


def _pem_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, str):
        return pem.strip().encode("utf-8")
    if isinstance(pem, (bytes, bytearray, memoryview)):
        return bytes(pem).strip()
    raise WebhookKeyError(f"a PEM key must be str or bytes, got {type(pem).__name__}")


def load_public_key(pem: str | bytes) -> RSAPublicKey:
    """The RSA public key in `pem` (cached: loading the same PEM twice is free).

    Args:
        pem: a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) or
            `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) block.

    Returns:
        The loaded key.

    Raises:
        ConfigurationError: `cryptography` is not installed.
        WebhookKeyError: not a PEM public key, not an RSA one, or shorter than
            `MIN_KEY_BITS` (2048) bits.
    """
    require_cryptography()
    return _load_public_key(_pem_bytes(pem))


@functools.lru_cache(maxsize=16)
def _load_public_key(data: bytes) -> RSAPublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_public_key(data)
    except Exception as exc:  # ValueError, UnsupportedAlgorithm, ...: all mean "unusable"
        raise WebhookKeyError(
            f"the webhook public key is not a PEM public key ({type(exc).__name__})"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookKeyError(
            f"the webhook public key must be an RSA key, got {type(key).__name__}"
        )
    _check_size(key.key_size, "webhook public key")
    return key


def _check_size(bits: int, what: str) -> None:
    if bits < MIN_KEY_BITS:
        raise WebhookKeyError(
            f"the {what} is a {bits}-bit RSA key: at least {MIN_KEY_BITS} bits are required"
        )


@functools.lru_cache(maxsize=16)
def load_private_key(pem: str | bytes) -> RSAPrivateKey:
    """The RSA private key in `pem` (unencrypted PKCS#8 or PKCS#1), loaded once per PEM.

    Loading runs `cryptography`'s RSA consistency checks (tens of milliseconds), so the
    key object is cached: signing many deliveries with one key pays for it once.

    Raises:
        ConfigurationError: `cryptography` is not installed.
        WebhookKeyError: not an unencrypted PEM RSA private key, or shorter than
            `MIN_KEY_BITS` (2048) bits (its signatures would be refused).
    """
    require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(_pem_bytes(pem), password=None)
    except Exception as exc:  # never echo key material
        raise WebhookKeyError(
            f"not an unencrypted PEM private key ({type(exc).__name__})"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise WebhookKeyError(f"the signing key must be an RSA key, got {type(key).__name__}")
    _check_size(key.key_size, "signing key")
    return key


def signature_matches(key: RSAPublicKey, signature: bytes, data: bytes) -> bool:
    """True when `signature` is RSA-SHA256 (PKCS#1 v1.5) of `data` under `key`.

    Any other padding (PSS) or hash (SHA-1, SHA-512) is a mismatch, as is anything
    the backend refuses: this never raises.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    except Exception:  # a backend error on hostile input is still "does not match"
        return False
    return True


def sign(body: bytes, private_key_pem: str | bytes) -> str:
    """The base64 RSA-SHA256 (PKCS#1 v1.5) signature of `body`, as the services send it.

    For tests and fakes: a receiver never signs.

    Args:
        body: the exact bytes that will be sent.
        private_key_pem: an unencrypted PEM RSA private key (see `generate_keypair`).

    Returns:
        The value for the `dyte-signature` / `rtk-signature` header.

    Raises:
        ConfigurationError: `cryptography` is not installed.
        WebhookKeyError: the private key cannot be loaded.
    """
    require_cryptography()  # also when the key object is already cached
    key = load_private_key(private_key_pem)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    raw = key.sign(bytes(body), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def generate_keypair(key_size: int = 2048) -> tuple[str, str]:
    """A fresh RSA key pair as PEM text, for tests and fakes.

    Args:
        key_size: modulus size in bits, `MIN_KEY_BITS` (2048) or more: shorter keys are
            refused by `verify` and by the client's key fetch, so none is made.

    Returns:
        `(private_pem, public_pem)`: unencrypted PKCS#8 and SubjectPublicKeyInfo PEM.

    Raises:
        ConfigurationError: `cryptography` is not installed.
        ValueError: `key_size` is below `MIN_KEY_BITS` (2048).
    """
    if key_size < MIN_KEY_BITS:
        raise ValueError(f"key_size must be at least {MIN_KEY_BITS} bits, got {key_size}")
    require_cryptography()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem
