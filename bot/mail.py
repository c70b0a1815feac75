"""Sending e-mail through SMTP (the standard library's :mod:`smtplib` and :mod:`email.message`).

The server is ``MANDAT_SMTP_URL`` (:attr:`bot.config.Settings.smtp_url`):

* ``smtp://[user:password@]host[:port]`` plain SMTP (port 25 by default),
* ``smtp+starttls://[user:password@]host[:port]`` SMTP upgraded with STARTTLS (port 587),
* ``smtps://[user:password@]host[:port]`` SMTP over TLS (port 465).

User name and password are URL-encoded in the URL (``%40`` for ``@``). Without the setting nothing is
sent and nothing fails (:func:`mailer` returns None). The sender is ``MANDAT_MAIL_FROM``.
Callers never send on the answering path: :mod:`bot.mailing` sends in the background.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from bot.config import Settings

TIMEOUT_S = 20.0
"""Seconds an SMTP connection or command may take."""

_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
_ADDRESS = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class MailError(Exception):
    """The mail could not be sent (connection, login or refused recipients); the message says why."""


def valid_address(address: str) -> bool:
    """True when ``address`` looks like one plain e-mail address (``name@domain.tld``; 300 chars at most)."""
    return len(address) <= 300 and bool(_ADDRESS.match(address))


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: ``security`` is ``plain``, ``starttls`` or ``tls``."""

    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        """Parse ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs (see module docstring).

        Raises:
            ValueError: another scheme, no host, or a bad port (the message names ``MANDAT_SMTP_URL``).
        """
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            raise ValueError(f"MANDAT_SMTP_URL: ukendt skema '{parts.scheme}'; brug smtp://, smtp+starttls:// "
                             "eller smtps://")
        if not parts.hostname:
            raise ValueError("MANDAT_SMTP_URL: værtsnavnet mangler")
        security, default_port = _SCHEMES[parts.scheme]
        try:
            port = parts.port or default_port
        except ValueError as exc:
            raise ValueError(f"MANDAT_SMTP_URL: ugyldig port ({exc})") from None
        return cls(parts.hostname, port, security, unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


class Mailer:
    """Sends plain-text mails through one :class:`SmtpServer` (a connection per :meth:`send_all`)."""

    def __init__(self, server: SmtpServer, sender: str):
        self.server = server
        self.sender = sender

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        """A UTF-8 plain-text message from the configured sender."""
        message = EmailMessage()
        message["From"] = formataddr(("Mandatbot", self.sender))
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1] or None)
        message.set_content(body)
        return message

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_S,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
        if server.username:
            client.login(server.username, server.password or "")
        return client

    def send_all(self, messages: list[EmailMessage]) -> int:
        """Send ``messages`` over one connection; returns how many were sent.

        Raises:
            MailError: the server cannot be reached, the login fails, or it refuses a message.
        """
        if not messages:
            return 0
        try:
            with self._connect() as client:
                for message in messages:
                    client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}") from None
        return len(messages)


def mailer(settings: Settings) -> Mailer | None:
    """The mailer of ``settings``, or None when ``MANDAT_SMTP_URL`` is not set (then nothing is sent).

    Raises:
        ValueError: ``MANDAT_SMTP_URL`` is malformed.
    """
    if not settings.smtp_url:
        return None
    return Mailer(SmtpServer.from_url(settings.smtp_url), settings.mail_from)
