"""The message a notification is sent as, in the bytes an SMTP server receives: its headers,
its two parts and their encodings, whatever language its names and subject are in, and the
same for every recipient of an event but for what is their own (the headers a message shares
with others are parsed and folded once, for all of them)."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiosmtplib.email import flatten_message

from notifications.mail import Outgoing, build_message
from notifications.render import Rendered

MAIL_FROM = "reviewflow <noreply@reviewflow.example.org>"
AT = datetime(2020, 9, 1, 9, 30, tzinfo=UTC)
LINK = "https://reviewflow.example/gcm/sign-in/"


def _html(language: str, body: str) -> str:
    return f'<!DOCTYPE html>\n<html lang="{language}"><body><p>{body}</p></body></html>\n'


ENGLISH = Rendered(
    "Consultation task assigned, due 16 November 2020",
    "Dear Maria Schmidt,\n\nThe consultation has begun.\n",
    _html("en", "The consultation has begun."),
)
ARABIC = Rendered(
    "أُسندت إليكم مهمة مشاورة، موعدها النهائي 16 نوفمبر 2020",
    "السيد/السيدة محمد عبد الله،\n\n"
    + "بدأت المشاورة وأصبحت الخلاصة التجميعية متاحة الآن. " * 3
    + "\n",
    _html("ar", "بدأت المشاورة."),
)
CHINESE = Rendered(
    "已分配磋商任务", "尊敬的王小明：\n\n磋商已经开始。\n", _html("zh", "磋商已经开始。")
)
RUSSIAN = Rendered(
    "Назначена задача консультации, срок 16 ноября 2020 г., 23:59 UTC - Региональный обзор"
    " Глобального договора в регионе ЕЭК ООН 2020",
    "Уважаемая Мария Иванова!\n\nКонсультация началась.\n",
    _html("ru", "Консультация началась."),
)
INVITED = Rendered(
    "You are invited to take part: Regional Review of the GCM in the UNECE Region 2020",
    f"Dear colleague,\n\nSign in and open the review: {LINK}TOKEN\n",
    _html("en", f'<a href="{LINK}TOKEN">Sign in and open the review</a>'),
)

# (name, address, rendered, the encodings of the text and HTML parts)
CASES = {
    "ascii": ("Maria Schmidt", "maria@example.org", ENGLISH, ("7bit", "7bit")),
    "arabic": ("محمد عبد الله", "m@example.org", ARABIC, ("base64", "8bit")),
    "chinese": ("王小明", "wang@例子.中国", CHINESE, ("8bit", "8bit")),
    "russian, folded": ("Мария Иванова", "maria@пример.рф", RUSSIAN, ("8bit", "base64")),
    "invitation": ("Maria Schmidt", "maria@example.org", INVITED, ("7bit", "quoted-printable")),
}


def _outgoing(name: str, address: str, rendered: Rendered, n: int = 1) -> Outgoing:
    return Outgoing(f"delivery-{n}", "consultation.opened", name, address, rendered, AT)


def _sent(outgoing: Outgoing) -> bytes:
    """The message as the SMTP client writes it."""
    return flatten_message(build_message(outgoing, MAIL_FROM))


def _parsed(sent: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(sent, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("case", CASES)
def test_a_message_has_its_headers_parts_and_encodings(case: str) -> None:
    name, address, rendered, encodings = CASES[case]
    sent = _sent(_outgoing(name, address, rendered))
    lines = sent.split(b"\r\n")
    assert b"\n" not in b"".join(lines), "every line ends with CRLF"
    assert max(len(line) for line in lines) <= 998
    subject = re.search(rb"^Subject: .*?\r\n(?! )", sent, re.M | re.S)
    assert subject is not None
    # Folded: the Arabic, Russian and invitation subjects are longer than a line.
    assert max(len(line) for line in subject[0].split(b"\r\n")) <= 78
    head = sent.split(b"\r\n\r\n")[0]
    assert head.isascii(), "non-ASCII names and subjects are sent as encoded words"
    message = _parsed(sent)
    assert [k for k in message] == [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "Date",
        "Auto-Submitted",
        "X-Reviewflow-Event",
        "MIME-Version",
        "Content-Type",
    ]
    assert message["From"] == MAIL_FROM
    (to,) = message["To"].addresses
    local, domain = address.split("@")
    assert (to.display_name, to.username, to.domain) == (
        name,
        local,
        domain.encode("idna").decode(),
    )
    assert message["Subject"] == rendered.subject
    assert message["Message-ID"] == "<delivery-1@reviewflow>"
    assert message["Date"].datetime == AT
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Reviewflow-Event"] == "consultation.opened"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert [p.get_content_type() for p in (text, html)] == ["text/plain", "text/html"]
    assert [list(text), list(html)] == [
        ["Content-Type", "Content-Transfer-Encoding"],
        ["Content-Type", "Content-Transfer-Encoding", "MIME-Version"],
    ]
    assert [p.get_content_charset() for p in (text, html)] == ["utf-8", "utf-8"]
    assert (text["Content-Transfer-Encoding"], html["Content-Transfer-Encoding"]) == encodings
    # Line endings are CRLF as sent, but LF inside base64.
    assert text.get_content().replace("\r\n", "\n") == rendered.text
    assert html.get_content().replace("\r\n", "\n") == rendered.html


def test_recipients_of_one_event_differ_only_in_what_is_their_own() -> None:
    """The second message is built from headers parsed and folded for the first."""
    first, second = (
        _parsed(_sent(_outgoing(name, "x@example.org", replace(INVITED, **own), n)))
        for n, (name, own) in enumerate(
            [
                ("Maria Schmidt", {}),
                ("Мария Иванова", {"text": INVITED.text.replace("TOKEN", "OTHER")}),
            ]
        )
    )
    differ = [k for k in first if first[k] != second[k]]
    assert differ == ["To", "Message-ID", "Content-Type"]  # the boundary between the parts
    assert second["To"].addresses[0].display_name == "Мария Иванова"
    assert f"{LINK}TOKEN" in first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{LINK}OTHER" in second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert first.get_boundary() != second.get_boundary()


def test_a_subject_folded_for_smtp_is_written_as_utf8_where_the_server_takes_it() -> None:
    outgoing = _outgoing("Мария Иванова", "мария@пример.рф", RUSSIAN)
    assert re.search(rb"^Subject: =\?utf-8\?", _sent(outgoing), re.M)
    as_utf8 = flatten_message(build_message(outgoing, MAIL_FROM), utf8=True)
    assert f"Subject: {RUSSIAN.subject[:40]}".encode() in as_utf8
    assert _parsed(as_utf8)["Subject"] == RUSSIAN.subject
