"""A Web Push service for the tests: a real HTTP server on 127.0.0.1, and the devices it serves.

It does what a push service and a browser do between them, independently of
the code under test: checks each request's VAPID signature (RFC 8292) against
the server's public key, with the claims a push service requires, then
decrypts the body (RFC 8291, aes128gcm) with the device's own private key and
auth secret, as the browser would. Replies are scripted per device: 201 unless
told otherwise (410, 429 with Retry-After, 503, …).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's side of one subscription: its key pair and auth secret (what pushManager.subscribe makes)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def subscription(self) -> dict:
        """As PushSubscription.toJSON() gives it to the page."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}

    @property
    def id(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]


@dataclass
class Push:
    device: str
    headers: dict[str, str]
    # What the device read, once decrypted; None when the request was refused before.
    payload: dict | None
    claims: dict
    status: int
    arrived_at: float


class VapidError(Exception):
    pass


def verify_vapid(authorization: str, *, public_key: str, origin: str) -> dict:
    """The JWT's claims, after the checks a push service makes (RFC 8292 §2, §3); VapidError otherwise."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise VapidError(f"scheme {scheme!r}")
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    if parts.get("k") != public_key:
        raise VapidError("signed with another key than the subscription's applicationServerKey")
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = json.loads(unb64url(header_b64))
    if header.get("alg") != "ES256":
        raise VapidError(f"alg {header.get('alg')!r}")
    signature = unb64url(signature_b64)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("bad signature") from None
    claims = json.loads(unb64url(claims_b64))
    if claims.get("aud") != origin:
        raise VapidError(f"aud {claims.get('aud')!r}, not {origin!r}")
    if not time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600:
        raise VapidError(f"exp {claims.get('exp')!r} not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise VapidError(f"sub {claims.get('sub')!r}")
    return claims


@dataclass
class PushService:
    server: ThreadingHTTPServer
    public_key: str = ""
    devices: dict[str, Device] = field(default_factory=dict)
    received: list[Push] = field(default_factory=list)
    # Device id → replies to give before answering 201: a status, or (status, Retry-After).
    script: dict[str, list] = field(default_factory=dict)
    # Or decided as they come: reply(device id, attempt number) -> a reply, or None for 201.
    reply: object = None
    # Every request to a device, answered or not.
    attempts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def device(self) -> Device:
        device = Device(endpoint=f"{self.origin}/push/{uuid.uuid4().hex}")
        self.devices[device.id] = device
        return device

    def delivered(self) -> list[Push]:
        """The pushes accepted (201) and read by their device."""
        with self.lock:
            return [push for push in self.received if push.status == 201]

    def per_device(self) -> Counter:
        return Counter(push.device for push in self.delivered())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_push_service(*, public_key: str) -> PushService:
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            device_id = self.path.rsplit("/", 1)[-1]
            device = service.devices.get(device_id)
            with service.lock:
                service.attempts[device_id] += 1
                scripted = service.script.get(device_id) or []
                reply = scripted.pop(0) if scripted else None
            if reply is None and service.reply is not None:
                reply = service.reply(device_id, service.attempts[device_id])
            reply = reply or 201
            status, retry_after = reply if isinstance(reply, tuple) else (reply, None)
            payload, claims = None, {}
            if device is None:
                status = 404
            else:
                try:
                    claims = verify_vapid(
                        headers.get("authorization", ""), public_key=service.public_key, origin=service.origin
                    )
                    assert headers.get("content-encoding") == "aes128gcm", headers.get("content-encoding")
                    assert int(headers["ttl"]) > 0
                    plain = http_ece.decrypt(
                        body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm"
                    )
                    payload = json.loads(plain)
                except (VapidError, AssertionError, KeyError, ValueError) as error:
                    status, payload = 400, {"refused": str(error)}
            with service.lock:
                service.received.append(Push(device_id, headers, payload, claims, status, time.time()))
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service = PushService(server, public_key=public_key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service
