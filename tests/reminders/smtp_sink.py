"""A real SMTP server (aiosmtpd) in a thread of this process, on a free port.

Records each message it accepted, with the instant it accepted it. A message
counts as delivered only once the server answers 250 after DATA, as in SMTP
itself: when the client vanishes mid-transaction, aiosmtpd cancels the handler
and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass
class Received:
    rcpt_tos: list[str]
    content: bytes
    # When the server answered 250: the instant the message was delivered.
    arrived_at: dt.datetime

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Sink:
    def __init__(self, *, keep: bool = True):
        self.keep = keep
        self.received: list[Received] = []
        self.count = 0
        self.data_commands = 0
        self.attempts: Counter = Counter()
        self.peers: set = set()  # one per SMTP connection that sent a message
        self.refused_recipients: set[str] = set()
        self._lock = threading.Lock()
        # reply(recipient, attempt number for that recipient) -> an error reply, or None to accept
        self.reply: Callable[[str, int], str | None] | None = None
        # Hold the n-th DATA until the client goes away (or `release` is set).
        self.hold_at: int | None = None
        # With it, hold the first DATA from the n-th on that is not the first
        # on its connection: the client is then in the middle of a batch.
        self.hold_mid_connection = False
        # The held message's recipient, and how many DATA its connection had carried before it.
        self.held_recipient: str | None = None
        self.held_after: int | None = None
        self.holding = threading.Event()
        self._data_per_peer: Counter = Counter()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.peers.add(session.peer)
            self.data_commands += 1
            number = self.data_commands
            earlier_on_connection = self._data_per_peer[session.peer]
            self._data_per_peer[session.peer] += 1
            recipient = envelope.rcpt_tos[0]
            self.attempts[recipient] += 1
            attempt = self.attempts[recipient]
            hold = self._hold(number, earlier_on_connection, recipient)
        if hold:
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        if self.reply is not None:
            error = self.reply(recipient, attempt)
            if error:
                return error
        with self._lock:
            self.count += 1
            if self.keep:
                self.received.append(
                    Received(
                        list(envelope.rcpt_tos),
                        envelope.original_content or envelope.content,
                        arrived_at=dt.datetime.now(dt.UTC),
                    )
                )
        return "250 Message accepted for delivery"

    def _hold(self, number: int, earlier_on_connection: int, recipient: str) -> bool:
        if self.hold_at is None or self.holding.is_set():
            return False
        if self.hold_mid_connection:
            wanted = number >= self.hold_at and earlier_on_connection > 0
        else:
            wanted = number == self.hold_at
        if wanted:
            self.held_recipient, self.held_after = recipient, earlier_on_connection
            self.holding.set()
        return wanted

    def recipients(self) -> Counter:
        with self._lock:
            return Counter(r for item in self.received for r in item.rcpt_tos)


class _FreePortController(Controller):
    def _trigger_server(self):
        # Bound to port 0: learn the real port before the readiness probe.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def start_sink(*, keep: bool = True) -> tuple[Sink, Controller]:
    # aiosmtpd logs every command at INFO: noise in test output, and slow.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Sink(keep=keep)
    controller = _FreePortController(sink, hostname="127.0.0.1", port=0, data_size_limit=None)
    controller.start()
    return sink, controller
