"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives and can refuse.

`SmtpServer(starttls=True)` offers STARTTLS with a certificate from a throw-away CA
(`ca_file` is what a client must trust); `login=(user, password)` demands AUTH;
`refuse_next(2)` answers the next two DATA commands with 451, as a greylisting or busy
server does.
"""

from __future__ import annotations

import socket
import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from monitor.settings import MailSettings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refusals = 0
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.attempts += 1
            if self.refusals:
                self.refusals -= 1
                return "451 4.3.0 Bitte spaeter erneut versuchen"
            self.envelopes.append(envelope)
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(
        self,
        tmp_path: Path,
        *,
        starttls: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.ca_file: Path | None = None
        options: dict[str, Any] = {}
        if starttls:
            ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            self.ca_file = tmp_path / "smtp-ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            options |= {"tls_context": context, "require_starttls": True}
        if login:
            options |= {"authenticator": _Authenticator(*login), "auth_required": True}
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    def refuse_next(self, count: int) -> None:
        with self.handler.lock:
            self.handler.refusals = count

    @property
    def attempts(self) -> int:
        return self.handler.attempts

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            envelopes = list(self.handler.envelopes)
        return [message_from_bytes(e.content, policy=policy.default) for e in envelopes]  # type: ignore[misc]

    def mail_settings(self, **overrides: Any) -> MailSettings:
        """Settings that reach this server, without waiting between tries."""
        values: dict[str, Any] = {
            "sender": "rufwacht@example.org",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "starttls" if self.ca_file else "none",
            "smtp_ca_file": self.ca_file,
            "retry_backoff_seconds": 0,
            "smtp_timeout_seconds": 10,
        }
        return MailSettings(**(values | overrides))


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.expected = (user.encode(), password.encode())

    def __call__(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == self.expected:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
