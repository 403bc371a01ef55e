"""E-mail notifications behind a port: ``Mailer`` (what the services call) and ``SmtpMailer`` (the
SMTP adapter, configured by the ``DUALREC_SMTP_*`` settings, off by default). Sending is
best-effort: a failure is logged (never the password) and returned, never raised into the caller's
use case."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

__all__ = ["Mailer", "SmtpConfig", "SmtpMailer"]

logger = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, to: Sequence[str], subject: str, body: str) -> bool:
        """True when the server accepted the message for every recipient."""
        ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "dualrec@localhost"
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""  # from a SecretStr setting; never logged
    timeout_seconds: float = 10.0


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        if config.security not in ("none", "starttls", "tls"):
            raise ValueError("SMTP security must be none, starttls or tls")
        self._c = config

    def send(self, to: Sequence[str], subject: str, body: str) -> bool:
        recipients = [a for a in dict.fromkeys(to) if a]
        if not recipients:
            return True
        msg = EmailMessage()
        msg["From"] = self._c.sender
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = subject.replace("\r", " ").replace("\n", " ")
        msg.set_content(body)
        c = self._c
        try:
            smtp: smtplib.SMTP
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout_seconds, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if c.username:
                    smtp.login(c.username, c.password)
                refused = smtp.send_message(msg, from_addr=c.sender, to_addrs=recipients)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning(
                "e-mail to %d recipient(s) via %s:%s failed: %s",
                len(recipients),
                c.host,
                c.port,
                type(exc).__name__,
            )
            return False
        if refused:
            logger.warning("e-mail refused for %d recipient(s)", len(refused))
            return False
        return True
