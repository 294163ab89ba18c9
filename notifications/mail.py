"""Sending email: over SMTP on a few connections kept open from one batch to the next, or as
.eml files when no SMTP server is configured (the embedded default), so a newcomer can read
what was sent."""

from __future__ import annotations

import asyncio
import email.policy
import functools
import os
import random
import sys
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTPUTF8, Policy
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib

from config.settings import SmtpSettings
from notifications.addresses import needs_smtputf8, recipient
from notifications.render import Rendered

MESSAGE_ID_DOMAIN = "reviewflow"
SMTP_TIMEOUT_S = 30.0
# The longest one message may take to send, its SMTP commands together: well within the
# lease a sender renews right before it (activities/notify.py), so no other sender can claim
# a message while it is being sent.
MESSAGE_DEADLINE_S = 60.0
# An SMTP connection left idle this long is closed (QUIT): well before a server gives up on it
# (RFC 5321 lets it wait 5 minutes), so a connection taken again is seldom one the server has
# dropped; one it has dropped is replaced.
IDLE_LIFE_S = 30.0
QUIT_TIMEOUT_S = 5.0


def message_id(delivery_id: str) -> str:
    """The same delivery always has the same Message-ID, so a resend can be recognised."""
    return f"<{delivery_id}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    # The message's template (call.opened, reminder.due, ...), for recipients' mail filters.
    kind: str
    to_name: str
    to_address: str
    rendered: Rendered
    at: datetime


class _FoldedOnce(BaseHeader):
    """A header that folds itself once for each way of folding (line length, line ending,
    UTF-8 or not): folding walks the header's parse tree and encodes its non-ASCII words,
    the greater part of the cost of flattening a message, and the headers an event's messages
    share (sender, subject, date, kind, content types) are each one object (`_ParsedOnce`)."""

    def fold(self, *, policy: Policy) -> str:
        key = (policy.max_line_length, policy.linesep, getattr(policy, "utf8", False))
        folded: dict[tuple[int | None, str, bool], str] = self.__dict__.setdefault("_folded", {})
        if key not in folded:
            folded[key] = super().fold(policy=policy)
        return folded[key]


class _ParsedOnce(HeaderRegistry):
    """Parses each header (name and value) once: the same for thousands of recipients, and
    parsing is most of the cost of building a message. (A parsed header is immutable and is
    stored as it is.)"""

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)
        self._parsed = functools.lru_cache(maxsize=1024)(super().__call__)
        # The registry makes a new class for a header name each time it is asked (for each
        # header set): one for each name is enough.
        self._classes = functools.lru_cache(maxsize=128)(super().__getitem__)

    def __getitem__(self, name: str) -> Any:
        return self._classes(name)

    def __call__(self, name: str, value: Any) -> Any:
        # Not a string (an Address, say): a recipient's own, parsed for one message.
        if not isinstance(value, str):
            return super().__call__(name, value)
        return self._parsed(name, value)


# email.policy.default, with every header parsed and folded once, whoever sets it: the
# message's own headers and those set_content and the generator add to its parts.
_POLICY = email.policy.default.clone(header_factory=_ParsedOnce())


def build_message(outgoing: Outgoing, mail_from: str) -> EmailMessage:
    """The message for `outgoing`; raises ValueError, saying why, when it cannot be addressed
    (a name or address stored before accounts were checked)."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = _sender(mail_from)
    message["To"] = recipient(outgoing.to_name, outgoing.to_address)
    message["Subject"] = outgoing.rendered.subject
    message["Message-ID"] = message_id(outgoing.delivery_id)
    message["Date"] = format_datetime(outgoing.at)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Reviewflow-Event"] = outgoing.kind
    message.set_content(outgoing.rendered.text)
    message.add_alternative(outgoing.rendered.html, subtype="html")
    message.set_boundary(_boundary(outgoing.rendered))
    return message


def _boundary(rendered: Rendered) -> str:
    """A boundary between the parts as the generator would choose one when flattening, but
    chosen here, where it is checked against the texts themselves: the generator would compile
    a pattern to check it for each message. A string found in neither text cannot be in their
    encoded forms either (quoted-printable and base64 never write a run of "=")."""
    while True:
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        if boundary not in rendered.text and boundary not in rendered.html:
            return boundary


@functools.lru_cache(maxsize=16)
def _sender(mail_from: str) -> str:
    """`mail_from` ("name <address>") as a From header writes it."""
    name, address = parseaddr(mail_from)
    return str(Address(display_name=name, addr_spec=address))


def _to(message: EmailMessage) -> Address:
    return message["To"].addresses[0]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SendFailure:
    """Why a message was not accepted; `permanent` when trying again cannot help (a 5xx
    answer such as 550 "no such user", or a server without SMTPUTF8 for an address that
    needs it), else it is retried (a 4xx answer, a lost or refused connection)."""

    reason: str
    permanent: bool = False


# Told of each message's fate as soon as it is known: None when accepted, else why not.
OnResult = Callable[[int, SendFailure | None], Awaitable[None]]
# Asked right before each message is sent: whether it still may be (False: skip it).
MaySend = Callable[[int], Awaitable[bool]]


class Mailer(Protocol):
    async def send(
        self, messages: Sequence[EmailMessage], on_result: OnResult, may_send: MaySend
    ) -> None:
        """Send each message that `may_send(index)` still allows, right before sending it,
        calling `on_result(index, failure)` right after each one sent, so the caller can
        record an accepted message at once."""
        ...

    async def close(self) -> None:
        """Let go of what is kept open between calls of `send`."""
        ...


class EmlMailer:
    """Writes each message to `<folder>/<delivery id>.eml`; writing one twice is harmless."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(
        self, messages: Sequence[EmailMessage], on_result: OnResult, may_send: MaySend
    ) -> None:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        for index, message in enumerate(messages):
            if not await may_send(index):
                continue
            try:
                await asyncio.to_thread(self._write, message)
            except OSError as error:
                await on_result(index, SendFailure(f"could not write the message: {error}"))
            else:
                await on_result(index, None)

    async def close(self) -> None:
        """Nothing is kept open."""

    def _write(self, message: EmailMessage) -> None:
        name = str(message["Message-ID"]).strip("<>").split("@")[0]
        # Written whole or not at all: a reader never sees half a message.
        with tempfile.NamedTemporaryFile("wb", dir=self.folder, delete=False) as out:
            out.write(
                message.as_bytes(policy=SMTPUTF8)
                if needs_smtputf8(_to(message))
                else bytes(message)
            )
        os.replace(out.name, self.folder / f"{name}.eml")


class SmtpMailer:
    """Sends over at most `connections` SMTP connections at once, each used for many messages
    and kept open for the next call of `send` until it has been idle for `idle_life_s`.

    A connection found closed (the server dropped it) is replaced; a message whose connection
    was lost while it was being sent is reported as a transient failure (it may or may not
    have been accepted: it is tried again later, with its Message-ID) and the messages after
    it go over a new connection."""

    def __init__(
        self, settings: SmtpSettings, connections: int = 4, idle_life_s: float = IDLE_LIFE_S
    ) -> None:
        self.settings = settings
        self.connections = connections
        self.idle_life_s = idle_life_s
        # Open connections not in use, the last one given back last, each with the timer
        # that closes it when it has been idle for `idle_life_s`.
        self._idle: list[tuple[aiosmtplib.SMTP, asyncio.TimerHandle]] = []
        self._quitting: set[asyncio.Task[None]] = set()

    async def send(
        self, messages: Sequence[EmailMessage], on_result: OnResult, may_send: MaySend
    ) -> None:
        """Each connection takes the next message not yet taken, so none waits while
        another has a queue."""
        waiting = deque(range(len(messages)))
        lanes = min(self.connections, len(messages))
        stopped = await asyncio.gather(
            *(self._send_lane(messages, waiting, on_result, may_send) for _ in range(lanes))
        )
        # Left only if no connection could be opened: each fails with why.
        reason = next((r for r in stopped if r is not None), "")
        for index in waiting:
            await on_result(index, SendFailure(reason))

    async def close(self) -> None:
        """QUIT every idle connection."""
        while self._idle:
            smtp, timer = self._idle.pop()
            timer.cancel()
            self._quit_later(smtp)
        await asyncio.gather(*self._quitting)

    async def _send_lane(
        self,
        messages: Sequence[EmailMessage],
        waiting: deque[int],
        on_result: OnResult,
        may_send: MaySend,
    ) -> str | None:
        """Send messages taken from `waiting` over one connection at a time until none is
        left; why it stopped early, when a connection could not be opened."""
        smtp: aiosmtplib.SMTP | None = None
        try:
            while waiting:
                if smtp is None or not smtp.is_connected:
                    try:
                        smtp = await self._connection()
                    except (aiosmtplib.SMTPException, OSError) as error:
                        return f"could not connect to the SMTP server: {error}"
                    continue  # the others may have taken every message meanwhile
                index = waiting.popleft()
                if await may_send(index):
                    await on_result(index, await _send_one(smtp, messages[index]))
        finally:
            if smtp is not None:
                self._give_back(smtp)
        return None

    async def _connection(self) -> aiosmtplib.SMTP:
        """An idle connection still open, else a new one."""
        while self._idle:
            smtp, timer = self._idle.pop()
            timer.cancel()
            if smtp.is_connected:
                return smtp
        smtp = aiosmtplib.SMTP(
            hostname=self.settings.host,
            port=self.settings.port,
            start_tls=self.settings.starttls,
            use_tls=self.settings.tls,
            username=self.settings.user,
            password=self.settings.password,
            timeout=SMTP_TIMEOUT_S,
        )
        await smtp.connect()
        return smtp

    def _give_back(self, smtp: aiosmtplib.SMTP) -> None:
        if not smtp.is_connected:
            return
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.idle_life_s, self._expire, smtp)
        self._idle.append((smtp, timer))

    def _expire(self, smtp: aiosmtplib.SMTP) -> None:
        self._idle = [(s, t) for s, t in self._idle if s is not smtp]
        self._quit_later(smtp)

    def _quit_later(self, smtp: aiosmtplib.SMTP) -> None:
        task = asyncio.get_running_loop().create_task(_quit(smtp))
        self._quitting.add(task)
        task.add_done_callback(self._quitting.discard)


async def _send_one(smtp: aiosmtplib.SMTP, message: EmailMessage) -> SendFailure | None:
    try:
        async with asyncio.timeout(MESSAGE_DEADLINE_S):
            await smtp.send_message(message)
    except (aiosmtplib.SMTPException, OSError) as error:
        if isinstance(error, TimeoutError):
            smtp.close()  # cut mid-command: the session cannot go on
        return smtp_failure(error)
    return None


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    """Say QUIT, or just close a connection that does not answer in time."""
    if not smtp.is_connected:
        return
    try:
        async with asyncio.timeout(QUIT_TIMEOUT_S):
            await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def smtp_failure(error: aiosmtplib.SMTPException | OSError) -> SendFailure:
    """What an SMTP error means for the message: permanent for 5xx answers (every recipient
    refused with 5xx, for a refusal of recipients) and for a missing SMTPUTF8."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        reasons = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        return SendFailure(reasons, permanent=bool(codes) and min(codes) >= 500)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return SendFailure(f"{error.code} {error.message}", permanent=500 <= error.code <= 599)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return SendFailure(
            "the SMTP server does not support SMTPUTF8, which this internationalised address needs",
            permanent=True,
        )
    return SendFailure(str(error) or type(error).__name__)


def mailer_for(smtp: SmtpSettings | None, mail_dir: Path) -> Mailer:
    return SmtpMailer(smtp) if smtp is not None else EmlMailer(mail_dir)
