"""A real SMTP server in the test process (aiosmtpd), for tests that send e-mail through
Django's SMTP backend — in this process or in a worker subprocess.

    def test_something(smtp_server):
        smtp_server.refuse(times=3, code=451)        # 451 to the first 3 DATA, then accept
        ... EMAIL_URL=smtp_server.url ...
        smtp_server.wait_for(1)
        [message] = smtp_server.messages              # email.message.EmailMessage

The server listens on a port the kernel picks on 127.0.0.1, runs in its own thread and
is started and stopped per test. Every accepted message is kept, parsed with the email
package; refusals are counted. All of it is safe to read from any thread.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

TRANSIENT = "451 4.3.0 Temporarily unable to accept the message, try again later"
PERMANENT = "550 5.1.1 Mailbox unavailable"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class RecordingHandler:
    """aiosmtpd handler: records accepted messages; refuses as it has been told to.

    `refuse(times=n, code=451)` answers the next n commands of `stage` ("data" or
    "rcpt") with a transient error and then accepts; `times=None` refuses for ever
    (`code=550` is the permanent refusal a mail server gives an unknown mailbox)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._received: list[Received] = []
        self._refusals: list[str] = []
        self._stage = "data"
        self._remaining: int | None = 0
        self._reply = TRANSIENT

    # --- Programming the behaviour (test thread) ----------------------------------------

    def refuse(self, *, times: int | None, code: int = 451, stage: str = "data") -> None:
        if stage not in ("data", "rcpt"):
            raise ValueError("stage is 'data' or 'rcpt'")
        if code not in (451, 550):
            raise ValueError("code is 451 (transient) or 550 (permanent)")
        with self._lock:
            self._stage = stage
            self._remaining = times
            self._reply = TRANSIENT if code == 451 else PERMANENT

    def accept(self) -> None:
        with self._lock:
            self._remaining = 0

    # --- What happened (any thread) -----------------------------------------------------

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    @property
    def refusals(self) -> list[str]:
        """The error replies given, oldest first, as 'stage: reply'."""
        with self._lock:
            return list(self._refusals)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Block until at least `count` messages were accepted; the messages so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self._received)

    # --- aiosmtpd hooks (server thread) ---------------------------------------------------

    def _refusal(self, stage: str) -> str | None:
        with self._lock:
            if self._stage != stage or self._remaining == 0:
                return None
            if self._remaining is not None:
                self._remaining -= 1
            self._refusals.append(f"{stage}: {self._reply}")
            return self._reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self._refusal("rcpt")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        refusal = self._refusal("data")
        if refusal:
            return refusal
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        message = email.message_from_bytes(content, policy=email.policy.default)
        with self._lock:
            self._received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
            self._lock.notify_all()
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1, bound to port 0 (a free port the kernel
    chooses, so parallel runs never collide); `port` is known once `start()` returns."""

    def __init__(self, handler: RecordingHandler) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=0)

    def _create_server(self):
        return self._bind()

    async def _bind(self):
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class SMTPServer(RecordingHandler):
    """A running server: a RecordingHandler that knows its address."""

    def __init__(self) -> None:
        super().__init__()
        self.controller = LoopbackController(self)

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def url(self) -> str:
        """For EMAIL_URL (django-environ): plain SMTP, no TLS, no authentication."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A fresh SMTP server for one test, stopped afterwards."""
    server = SMTPServer().start()
    try:
        yield server
    finally:
        server.stop()
