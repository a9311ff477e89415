"""The VAPID key pair that signs every Web Push (RFC 8292): read, checked and made here.

The private key is a P-256 scalar, 32 bytes in base64url, as web-push tools
print it. The public key (65 bytes, an uncompressed point) is derived from it:
browsers subscribe with it as the `applicationServerKey`, and push services
check each push's signature against it.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The key in `text`; ImproperlyConfigured, naming the variable, for anything else."""
    try:
        raw = b64url_decode(text.strip())
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "VAPID_PRIVATE_KEY must be a P-256 private key: 32 bytes in base64url. "
            "Make one with: python manage.py push_keys --print"
        ) from None


def public_key(text: str) -> str:
    """The public half of the private key in `text`, base64url: the applicationServerKey."""
    point = (
        private_key(text)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point)


def new_private_key() -> str:
    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return b64url(number.to_bytes(32, "big"))
