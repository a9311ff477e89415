"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that records every POST."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    # Verified on arrival (the timestamp check needs it), with each of the receiver's secrets.
    payloads: dict[str, dict | None] = field(default_factory=dict)

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """Answers each POST with the next scripted reply (a status, or "hang"), then 200; records them all."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    script: list = field(default_factory=list)
    location: str = ""
    hang_seconds: float = 3.0
    secrets: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def verified(self, secret: str) -> list[dict]:
        """Every body received, each verified on arrival with the secret; fails if one did not verify."""
        payloads = [r.payloads[secret] for r in self.received]
        assert None not in payloads, "a delivery did not verify"
        return payloads

    def types(self, secret: str) -> list[str]:
        return [payload["type"] for payload in self.verified(secret)]


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received = Received({k.lower(): v for k, v in self.headers.items()}, body)
            for secret in receiver.secrets:
                try:
                    received.payloads[secret] = Webhook(secret).verify(body, received.headers)
                except WebhookVerificationError:
                    received.payloads[secret] = None
            receiver.received.append(received)
            reply = receiver.script.pop(0) if receiver.script else 200
            if reply == "hang":
                time.sleep(receiver.hang_seconds)
                reply = 200
            self.send_response(reply)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
