"""Email over SMTP for reminders (LONGPAN_SMTP_*). Off when no host is configured."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage

from longpan.core.settings import Settings

# A mailer sends one message and returns None, or the error text when it failed.
Mailer = Callable[[str, str, str], str | None]
TIMEOUT_SECONDS = 15


def smtp_mailer(settings: Settings) -> Mailer | None:
    """A mailer for the configured SMTP server, or None when email is not configured."""
    if not settings.smtp_host:
        return None

    def send(to: str, subject: str, body: str) -> str | None:
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            _deliver(settings, message)
        except (smtplib.SMTPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    return send


def _deliver(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
