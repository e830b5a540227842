"""Outgoing mail through a configurable backend: the log in development, an SMTP server in production.

``MAIL_BACKEND = "log"`` writes the whole message, links included, to the ``archive.mail`` logger at INFO,
so a developer follows a password-reset or invitation link from the console.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

logger = logging.getLogger("archive.mail")


class MailNotSent(Exception):
    """The mail server could not be reached or refused the message."""


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from the archive's sender address."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body, charset="utf-8")
    return message


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail with the configured backend; raises MailNotSent when SMTP fails."""
    message = build_message(to, subject, str(body))
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        headers = "\n".join(f"{name}: {message[name]}" for name in ("From", "To", "Subject", "Date"))
        logger.info("mail (log backend, not sent)\n%s\n\n%s", headers, body)
        return
    if backend != "smtp":
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")
    _send_smtp(message)


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.error(
            "mail to %s not sent through %s:%s: %s",
            message["To"],
            config["MAIL_SERVER"],
            config["MAIL_PORT"],
            exc,
        )
        raise MailNotSent(str(exc)) from exc
    logger.info("mail to %s sent through %s:%s", message["To"], config["MAIL_SERVER"], config["MAIL_PORT"])
