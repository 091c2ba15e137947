"""The TLS settings both transports use by default."""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["default_ssl_context"]


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """httpx's trust store (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), verified.

    Returns:
        One context per process (building one costs about 20 ms).
    """
    return httpx.create_ssl_context()
