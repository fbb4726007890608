"""``SmtpEmail``: one message per call, through the clinic's SMTP relay or into a Maildir."""

from __future__ import annotations

import asyncio
import mailbox
import os
import socket
import ssl
from email.message import EmailMessage as MimeMessage

import aiosmtplib

from praxis.core.providers.common import (
    AnswerLost,
    PermanentFailure,
    ProviderContext,
    ProviderError,
    TemporaryFailure,
    WebhookRequest,
)
from praxis.core.providers.email import EmailInbound, EmailMessage, EmailReceipt
from praxis.plugins.email_smtp.inbound import read_inbound
from praxis.plugins.email_smtp.message import build_message
from praxis.plugins.email_smtp.settings import PLAIN_REFUSED, SmtpSettings


class SmtpEmail:
    """An ``EmailProvider``. Failures carry short reasons: never an address, body or secret."""

    def __init__(self, context: ProviderContext[SmtpSettings]) -> None:
        self.context = context
        self.settings = context.settings

    async def send_email(self, message: EmailMessage) -> EmailReceipt:
        mime = build_message(message, from_address=str(self.settings.from_address))
        if self.settings.mailbox_dir is not None:
            await asyncio.to_thread(_store, self.settings.mailbox_dir, mime)
        else:
            await self._send(mime)
        return EmailReceipt(message_id=str(mime["Message-ID"]))

    def parse_webhook(self, request: WebhookRequest) -> EmailInbound | None:
        """Inbound mail (plugin API 1.1), forwarded and signed by the clinic's mail server."""
        return read_inbound(self.settings.inbound_secret.get_secret_value(), request)

    async def _send(self, mime: MimeMessage) -> None:
        settings = self.settings
        if settings.security == "none" and self.context.network.require_tls:
            raise PermanentFailure(f"Security 'none' is refused here. {PLAIN_REFUSED}")
        try:
            # Only an address the platform allows, and that one: DNS asked once, here
            sock = await _connect(
                await self.context.network.resolve(settings.host, settings.port),
                settings.port,
                settings.timeout_seconds,
            )
            await aiosmtplib.send(
                mime,
                hostname=settings.host,
                sock=sock,
                username=settings.username or None,
                password=settings.password.get_secret_value() if settings.username else None,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                timeout=settings.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
            raise failure(exc) from None  # the cause may quote the address: leave it out


async def _connect(addresses: list[str], port: int, seconds: float) -> socket.socket:
    """A connected socket to the first of ``addresses`` that answers."""
    loop = asyncio.get_running_loop()
    last: OSError = ConnectionRefusedError()
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (address, port)), seconds)
            return sock
        except OSError as exc:  # TimeoutError included
            sock.close()
            last = exc
    raise last


def failure(exc: aiosmtplib.SMTPException | OSError) -> ProviderError:
    """What an aiosmtplib error means to the outbox: retry it, or give up."""
    match exc:
        case aiosmtplib.SMTPRecipientsRefused(recipients=refused):
            return _refused("the SMTP server refused the recipient", max(r.code for r in refused))
        case aiosmtplib.SMTPAuthenticationError(code=code):
            return _refused("the SMTP server refused the username or password", code)
        case aiosmtplib.SMTPSenderRefused(code=code):
            return _refused("the SMTP server refused the sender address", code)
        case aiosmtplib.SMTPResponseException(code=code):
            return _refused("the SMTP server refused the message", code)
        case TimeoutError():  # perhaps after the message was handed over
            return AnswerLost("the SMTP server did not answer in time")
        case ssl.SSLError() | aiosmtplib.SMTPConnectError(__cause__=ssl.SSLError()):
            return TemporaryFailure(
                "the TLS handshake with the SMTP server failed: check the security setting "
                "and the port"
            )
        case aiosmtplib.SMTPNotSupported():
            return PermanentFailure("the SMTP server does not accept non-ASCII addresses")
        case aiosmtplib.SMTPServerDisconnected() | aiosmtplib.SMTPConnectError():
            return TemporaryFailure("could not connect to the SMTP server")
        case aiosmtplib.SMTPException():
            # STARTTLS or AUTH not offered: retrying cannot help until the settings change
            return PermanentFailure(
                "the SMTP server does not offer STARTTLS or login as the settings ask: "
                "check the security setting"
            )
        case _:  # refused, reset, unreachable
            return TemporaryFailure(f"could not connect to the SMTP server ({type(exc).__name__})")


def _refused(reason: str, code: int) -> ProviderError:
    """SMTP 5xx is final; 4xx (or a garbled reply) may pass later."""
    if 500 <= code <= 599:
        return PermanentFailure(f"{reason} ({code})", code=f"smtp_{code}")
    return TemporaryFailure(f"{reason} ({code})")


def _store(directory: str, mime: MimeMessage) -> None:
    try:
        # Made here, tolerantly: jobs run side by side, and Maildir(create=True) fails for the
        # one that loses the race to make the folder (or on a folder that is not yet a maildir).
        for folder in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(directory, folder), exist_ok=True)
        mailbox.Maildir(directory, create=False).add(mime)
    except OSError as exc:
        raise TemporaryFailure(
            f"could not write to the development mailbox ({type(exc).__name__})"
        ) from None
