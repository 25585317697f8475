"""Sending reports by e-mail through SMTP, configured from the environment.

TRACKER_SMTP_HOST, TRACKER_SMTP_PORT, TRACKER_SMTP_SECURITY (none | starttls | ssl; default
starttls), TRACKER_SMTP_USER, TRACKER_SMTP_PASSWORD, TRACKER_MAIL_FROM. Failures become one-line
errors that say what to check; the password never appears in a message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tracker.errors import ConfigError, TrackerError

SECURITY = ("none", "starttls", "ssl")


class MailError(TrackerError):
    """The report could not be sent."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str

    @classmethod
    def from_env(cls, env=os.environ, file: dict[str, str] | None = None) -> SmtpConfig:
        """TRACKER_SMTP_* and TRACKER_MAIL_FROM, else the same keys in the configuration file's [mail]."""
        file = file or {}

        def get(name: str, key: str, default: str | None = None) -> str | None:
            return env.get(name) or file.get(key) or default

        host, sender = get("TRACKER_SMTP_HOST", "host"), get("TRACKER_MAIL_FROM", "from")
        if not host or not sender:
            raise ConfigError("to e-mail a report set TRACKER_SMTP_HOST and TRACKER_MAIL_FROM, or host and from "
                              "in the configuration file's [mail] (see README: Reports)")
        security = get("TRACKER_SMTP_SECURITY", "security", "starttls").lower()
        if security not in SECURITY:
            raise ConfigError(f"TRACKER_SMTP_SECURITY must be one of {', '.join(SECURITY)}, not {security!r}")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}[security]
        try:
            port = int(get("TRACKER_SMTP_PORT", "port", str(default_port)))
        except ValueError:
            raise ConfigError("TRACKER_SMTP_PORT must be a number, e.g. 587") from None
        return cls(host, port, security, get("TRACKER_SMTP_USER", "user"), get("TRACKER_SMTP_PASSWORD", "password"),
                   sender)


def build_message(sender: str, to: list[str], subject: str, text: str, html: str,
                  attachments: list[tuple[str, bytes]], images: list[tuple[str, bytes]] = ()) -> EmailMessage:
    """Multipart text and HTML, with PNG images the HTML shows by Content-ID (`images`: (cid, png))
    and CSV attachments (bytes kept exactly: UTF-8, base64)."""
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, sender, ", ".join(to)
    msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    for cid, png in images:
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline",
                              filename=f"{cid.partition('@')[0]}.png")
    for name, data in attachments:
        msg.add_attachment(data, maintype="text", subtype="csv", filename=name, params={"charset": "utf-8"})
    return msg


def send(config: SmtpConfig, msg: EmailMessage, *, timeout: float = 30) -> None:
    where = f"{config.host}:{config.port} ({config.security})"
    try:
        if config.security == "ssl":
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPAuthenticationError:
        raise MailError(f"the mail server at {where} refused the login of {config.user!r}; check "
                        "TRACKER_SMTP_USER and TRACKER_SMTP_PASSWORD") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"cannot send through {where}: {exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else 'no reason given'}") from None
    if refused:
        raise MailError(f"the mail server refused {', '.join(sorted(refused))}")
