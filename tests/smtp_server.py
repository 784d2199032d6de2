"""A real SMTP server for tests (aiosmtpd in a thread), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # one line per SMTP command otherwise


class Inbox:
    """The messages the server accepted, and what it answers next."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.answer: str | None = None  # e.g. "451 try later"; None: "250 OK"
        self.hold: threading.Event | None = None  # set: answer; unset: wait (a slow server)
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message (unless refusing), then answer."""
        if self.answer is not None:
            return self.answer
        with self.lock:
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        self.received.set()
        if self.hold is not None:
            import asyncio

            while not self.hold.is_set():
                await asyncio.sleep(0.01)
        return "250 OK"

    def ids(self) -> list[str]:
        """Return the Message-IDs received, in order."""
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, str]]:
    """Run an SMTP server on 127.0.0.1; yield its inbox and ``smtp://`` URL."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
