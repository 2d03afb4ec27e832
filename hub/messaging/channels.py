"""The channels a message reaches a member by, behind one interface: e-mail over SMTP and SMS
through an HTTP gateway (the kiosk greeting needs no channel: it travels with the member copy).

A channel sends one :class:`Outgoing` and returns the provider's id, or raises :class:`SendError`
(``temporary``: try again later; otherwise the message fails). Each carries the message's own id
to the provider (the e-mail's ``Message-ID``, the gateway's ``ref``), so a send repeated after a
crash is recognised as the same message, not delivered twice.
"""

import html
import json
import re
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

STOP_WORDS = frozenset({"T", "TD", "N", "STOP", "UNSUBSCRIBE", "退订", "退"})
# a text that already says how to stop (a template's {stop}: 回T退订, Reply T to stop)
_TELLS_HOW_TO_STOP = re.compile(r"退订|\bReply (?:T|TD|STOP)\b", re.IGNORECASE)


class SendError(Exception):
    """A send that did not happen; ``temporary`` ones are retried later."""

    def __init__(self, reason: str, temporary: bool) -> None:
        super().__init__(reason)
        self.temporary = temporary


@dataclass(frozen=True)
class Outgoing:
    """One message on its way: its id, to whom (an address or E.164 phone), subject and text."""

    message_id: str
    to: str
    subject: str
    text: str


class Channel(Protocol):
    """Delivers one message; returns the provider's id for it."""

    name: str

    def send(self, out: Outgoing) -> str:
        """Send ``out``; raise :class:`SendError` when it could not be sent."""
        ...


@dataclass
class EmailChannel:
    """E-mail over SMTP (STARTTLS and login when given)."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 15.0
    name: str = "email"

    def send(self, out: Outgoing) -> str:
        """Send ``out`` as a plain-text UTF-8 mail whose Message-ID is the message's id."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = out.to
        mail["Subject"] = out.subject
        mail["Message-ID"] = f"<{out.message_id}@member-kiosk>"
        mail.set_content(out.text)
        mail.add_alternative(html_mail(out.text), subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"address refused / 邮箱地址被拒收: {exc}", temporary=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"mail server unavailable / 邮件服务器不可用: {exc}", temporary=True) from exc
        return mail["Message-ID"]


@dataclass
class SmsGateway:
    """SMS through an HTTP gateway: ``POST {url}`` with ``{"to", "text", "ref"}`` and a bearer token;
    the answer is ``{"id": ...}``. The text carries the shop's signature and the opt-out (回T退订)."""

    url: str
    token: str
    signature: str = "会员店"
    timeout: float = 15.0
    name: str = "sms"

    def text(self, body: str) -> str:
        """The SMS as the member receives it: 【signature】body, then how to stop unless the body
        says it already (the templates' ``{stop}``)."""
        if _TELLS_HOW_TO_STOP.search(body):
            return f"【{self.signature}】{body}"
        return f"【{self.signature}】{body} 回T退订"

    def send(self, out: Outgoing) -> str:
        """Post ``out`` to the gateway; 429 and 5xx are temporary, other refusals final."""
        payload = json.dumps({"to": out.to, "text": self.text(out.text), "ref": out.message_id}).encode()
        request = urllib.request.Request(
            self.url,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return str(json.loads(answer.read())["id"])
        except urllib.error.HTTPError as exc:
            temporary = exc.code == 429 or exc.code >= 500
            raise SendError(f"SMS gateway answered {exc.code} / 短信网关返回 {exc.code}", temporary) from exc
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            raise SendError(f"SMS gateway unreachable / 短信网关无法连接: {exc}", temporary=True) from exc


def html_mail(text: str) -> str:
    """The HTML part of a mail of ``text``: every character escaped (a name like ``<b>`` shows as
    typed, never as markup), line breaks kept."""
    lines = "<br>\n".join(html.escape(line) for line in text.split("\n"))
    style = "font-size:16px;line-height:1.6"
    return f'<!DOCTYPE html>\n<html><body><div style="{style}">{lines}</div></body></html>\n'


def is_stop(text: str) -> bool:
    """True when a member's SMS reply asks to stop messages (T, TD, STOP, 退订)."""
    return text.strip().upper() in STOP_WORDS
