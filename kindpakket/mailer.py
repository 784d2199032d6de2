"""E-mail over SMTP with the standard library: one connection kept open per worker.

``KINDPAKKET_SMTP_URL`` names the server: ``smtp://host:25`` (plain), ``smtp+starttls://
user:password@host:587`` (STARTTLS, refused if the server does not offer it) or
``smtps://host:465`` (TLS from the start). Messages are multipart text + HTML with a
Message-ID derived from the outbox row, so a resend after a crash can be recognised by the
receiving side, and ``List-Unsubscribe`` (RFC 2369) with one-click POST (RFC 8058).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr
from urllib.parse import unquote, urlsplit


class MailError(Exception):
    """Sending failed; ``permanent`` when retrying cannot help (a 5xx answer)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect."""

    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None = None
    password: str | None = None


# Long headers (the List-Unsubscribe URL) stay as they are instead of RFC 2047 encoded words,
# which mail programs do not decode in that header; RFC 5322 allows 998 characters.
POLICY = default_policy.clone(max_line_length=998)
SCHEMES = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


def parse_url(url: str) -> SmtpSettings:
    """Parse ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs; refuse anything else."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            f"KINDPAKKET_SMTP_URL must look like smtp://host:25, smtp+starttls://host:587 or "
            f"smtps://host:465, not {parts.scheme or '?'}://..."
        )
    security, default_port = SCHEMES[parts.scheme]
    return SmtpSettings(
        host=parts.hostname,
        port=parts.port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build(
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    language: str,
    unsubscribe_url: str,
) -> EmailMessage:
    """Return a multipart/alternative message (text first, HTML preferred by readers)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((sender_name, sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg["Content-Language"] = language  # after the parts: set_content drops Content-* headers
    return msg


class Mailer:
    """An SMTP connection opened on first use and reopened when the server drops it."""

    def __init__(self, settings: SmtpSettings, timeout: float = 30.0) -> None:
        self.settings, self.timeout = settings, timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        smtp.ehlo()
        if s.security == "starttls":
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise MailError("the SMTP server does not offer STARTTLS")
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raise :class:`MailError` (permanent for 5xx answers)."""
        for attempt in (1, 2):  # once more on a dropped connection
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.send_message(msg)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise MailError(f"disconnected: {exc}") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                raise MailError(f"recipient refused: {codes}", permanent=min(codes) >= 500) from exc
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise MailError(
                    f"{exc.smtp_code} {exc.smtp_error!r}"[:280], permanent=exc.smtp_code >= 500
                ) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise MailError(f"{type(exc).__name__}: {exc}"[:280]) from exc

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say goodbye to the server (quietly if it is gone)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
