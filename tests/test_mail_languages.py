"""Mail in the six UN languages: each message's subject, text and HTML parts are written in
the recipient's language, dates as that language writes them in the recipient's time zone
with UTC beside, and a recipient who chose French gets French through a real SMTP server."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest

import i18n
from db.actors import update_preferences
from notifications.links import SIGN_IN_AND_OPEN, message_links
from notifications.render import Rendered, render
from tests.reviews import eventually, review_body
from tests.test_notifications import Env, inbox, notify_env, post  # noqa: F401

PUBLIC_URL = "https://reviewflow.example/gcm"
REVIEW_ID = "0f6c2a52-8b7e-4b1c-9a53-2c5d1e0b7a41"
TITLE = "Regional Review of the GCM in the UNECE Region 2020"
NAME = "Maria Schmidt"
TIME_ZONE = "Europe/Paris"
LINK = "https://reviewflow.example/gcm/sign-in/abc123"
INPUTS_DUE = "2020-10-26T23:59:00+00:00"

EVENT_DATA: dict[str, dict[str, Any]] = {
    "call.opened": {
        "inputs_due_at": INPUTS_DUE,
        "consultation_due_at": "2020-11-16T23:59:00+00:00",
    },
    "review.invited": {
        "call_opens_at": "2020-09-01T00:00:00+00:00",
        "inputs_due_at": INPUTS_DUE,
        "consultation_due_at": "2020-11-16T23:59:00+00:00",
    },
    "reminder.due": {"deadline": "inputs_due_at", "due_at": INPUTS_DUE, "days_before": 7},
    "deadline.extended": {
        "deadline": "inputs_due_at",
        "previous": INPUTS_DUE,
        "until": "2020-11-02T23:59:00+00:00",
        "reason": "Requested by several focal points.",
    },
    "task.delegated": {
        "task_id": "9b2e4c1d-7a6f-4e3b-8c5d-1a2b3c4d5e6f",
        "from_name": "Anna Berger",
        "note": "Could you answer this while I am on mission?",
    },
}
ACCOUNT_DATA: dict[str, dict[str, Any]] = {
    "account.invited": {"link": LINK, "days": 7, "sign_in": f"{PUBLIC_URL}/sign-in"},
    "sign_in.link": {"link": LINK, "minutes": 15},
}
# The instant each message gives as its deadline (or none: the account messages).
DEADLINE = {
    "call.opened": INPUTS_DUE,
    "review.invited": INPUTS_DUE,
    "reminder.due": INPUTS_DUE,
    "deadline.extended": "2020-11-02T23:59:00+00:00",
}

# A phrase each language's subject says, and one its text and HTML parts say.
PHRASES: dict[str, dict[str, tuple[str, str]]] = {
    "call.opened": {
        "en": ("Call for inputs open", "has opened the call for inputs"),
        "fr": ("Appel à contributions ouvert", "a lancé l'appel à contributions"),
        "es": ("Convocatoria de aportaciones abierta", "ha abierto la convocatoria"),
        "ru": ("призыв к представлению материалов", "Секретариат объявил призыв"),
        "zh": ("征集材料已开始", "秘书处已启动区域审查"),
        "ar": ("الدعوة إلى تقديم المساهمات", "فتحت الأمانة باب الدعوة"),
    },
    "review.invited": {
        "en": ("You are invited to take part", "invites you to take part"),
        "fr": ("Invitation à participer", "vous invite à y participer"),
        "es": ("Invitación a participar", "le invita a participar"),
        "ru": ("Приглашение к участию", "приглашает вас принять в нём участие"),
        "zh": ("邀请您参加", "秘书处邀请您参加"),
        "ar": ("دعوة إلى المشاركة", "إلى المشاركة فيه"),
    },
    "reminder.due": {
        "en": ("Reminder: inputs due", "This is a reminder that submissions"),
        "fr": ("Rappel", "Nous vous rappelons que les contributions"),
        "es": ("Recordatorio", "Le recordamos que el plazo"),
        "ru": ("Напоминание", "Напоминаем, что срок"),
        "zh": ("提醒", "谨此提醒"),
        "ar": ("تذكير", "نذكّركم بأن الموعد النهائي"),
    },
    "deadline.extended": {
        "en": ("Deadline extended to", "has extended the deadline for inputs"),
        "fr": ("Date limite prolongée", "Le secrétariat a prolongé la date limite"),
        "es": ("Plazo prorrogado", "La secretaría ha prorrogado el plazo"),
        "ru": ("Срок продлён", "Секретариат продлил срок"),
        "zh": ("截止日期延至", "秘书处已延长区域审查"),
        "ar": ("تمديد الموعد النهائي", "مدّدت الأمانة الموعد النهائي"),
    },
    "task.delegated": {
        "en": ("Consultation task handed over to you", "has handed over to you"),
        "fr": ("Tâche de consultation qui vous a été transmise", "vous a transmis une tâche"),
        "es": ("Tarea de consulta que le ha traspasado", "le ha traspasado una tarea"),
        "ru": ("вам задачу в рамках консультации", "Теперь ответственность за ответ"),
        "zh": ("已将磋商任务移交给您", "的一项磋商任务移交给您"),
        "ar": ("أحال إليكم", "مهمة مشاورة في إطار الاستعراض الإقليمي"),
    },
    "account.invited": {
        "en": ("An account was made for you", "Open this link to sign in"),
        "fr": ("Un compte a été créé pour vous", "pour vous connecter"),
        "es": ("Se ha creado una cuenta para usted", "para iniciar sesión"),
        "ru": ("Для вас создана учётная запись", "чтобы войти"),
        "zh": ("已在reviewflow为您创建账户", "请打开此链接登录"),
        "ar": ("أُنشئ لكم حساب", "لتسجيل الدخول"),
    },
    "sign_in.link": {
        "en": ("Your link to sign in", "Open this link to sign in"),
        "fr": ("Votre lien de connexion", "pour vous connecter à reviewflow"),
        "es": ("Su enlace para iniciar sesión", "para iniciar sesión en reviewflow"),
        "ru": ("Ваша ссылка для входа", "чтобы войти в reviewflow"),
        "zh": ("您登录reviewflow的链接", "请打开此链接登录reviewflow"),
        "ar": ("رابط تسجيل دخولكم", "لتسجيل الدخول إلى reviewflow"),
    },
}
# October as each language writes it in a date.
OCTOBER = {
    "en": "October",
    "fr": "octobre",
    "es": "octubre",
    "ru": "октября",
    "zh": "2020年10月",
    "ar": "أكتوبر",
}
EVENTS = tuple(PHRASES)


def context(event_type: str, time_zone: str | None = TIME_ZONE) -> dict[str, Any]:
    recipient = {"name": NAME, "time_zone": time_zone}
    if event_type in ACCOUNT_DATA:
        return {
            "recipient": recipient,
            "service": {"name": "reviewflow"},
            **ACCOUNT_DATA[event_type],
        }
    data = copy.deepcopy(EVENT_DATA[event_type])
    return {
        "recipient": recipient,
        "role": "focal_point",
        "review": {"id": REVIEW_ID, "title": TITLE, "region": "ECE"},
        "event": {"type": event_type, "at": "2020-09-01T09:30:00+00:00", "data": data},
        "links": message_links(PUBLIC_URL, event_type, REVIEW_ID, data),
        "service": {"name": "reviewflow"},
    }


def flat(text: str) -> str:
    """Text with every run of whitespace one space: the text part wraps its lines."""
    return " ".join(text.split())


def shown_text(html: str) -> str:
    """What an HTML part says, its tags left out and its entities read."""
    text = re.sub(r"<[^>]+>", " ", html)
    return flat(text.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&"))


def english_sentences(rendered: Rendered, values: list[str]) -> list[str]:
    """The stretches of the English text part that are the template's own words (what is
    between the values put into it), three words or more."""
    found = []
    for line in rendered.text.splitlines():
        for value in values:
            line = line.replace(value, "\0")
        found += [part.strip(" .,:;()\"'-") for part in line.split("\0") if len(part.split()) >= 3]
    return found


@pytest.mark.parametrize("event_type", EVENTS)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_each_message_is_written_in_its_recipients_language(event_type: str, language: str) -> None:
    rendered = render(event_type, language, context(event_type))
    subject_phrase, body_phrase = PHRASES[event_type][language]
    assert subject_phrase in rendered.subject
    assert body_phrase in flat(rendered.text)
    assert body_phrase in shown_text(rendered.html)

    # The values are put in: the recipient's name, and the review's title or the link.
    assert NAME in rendered.text and NAME in rendered.html
    named = TITLE if event_type in EVENT_DATA else "reviewflow"
    assert named in rendered.subject
    shown = LINK if event_type in ACCOUNT_DATA else TITLE
    assert shown in rendered.text and shown in rendered.html
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "%(" not in part and "{{" not in part and "None" not in part

    if event_type in EVENT_DATA:  # the HTML part sets the review's title in bold
        message = rendered.html.split('<td style="padding:24px;')[1]  # below the heading
        assert f"<strong>{TITLE}</strong>" in message

    # The HTML document says its language and direction.
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html
    assert f"<title>{rendered.subject}</title>" in rendered.html.replace("&#39;", "'")

    if language == "en":
        return
    english = render(event_type, "en", context(event_type))
    assert english.subject not in rendered.subject
    values = [NAME, TITLE, LINK, "reviewflow", *EVENT_DATA.get(event_type, {}).values()]
    values += [
        english_value for english_value in re.findall(r"\d+ \w+ \d{4}, [^\n]*?UTC\)?", english.text)
    ]
    leaked = [s for s in english_sentences(english, [str(v) for v in values]) if s in rendered.text]
    assert leaked == []


@pytest.mark.parametrize("event_type", sorted(DEADLINE))
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_deadlines_are_written_in_the_language_and_time_zone_with_utc_beside(
    event_type: str, language: str
) -> None:
    rendered = render(event_type, language, context(event_type))
    with i18n.using(language):
        due = i18n.format_deadline(datetime.fromisoformat(DEADLINE[event_type]), TIME_ZONE)
    assert "UTC" in due and "CET" in due  # Paris time first, UTC beside
    assert due in rendered.text
    assert f"<strong>{due}</strong>" in rendered.html
    if event_type != "deadline.extended":  # its dates are in November
        assert OCTOBER[language] in rendered.text


def test_a_recipient_without_a_time_zone_reads_utc_alone() -> None:
    """A delivery whose context predates time zones: its instants are in UTC."""
    rendered = render("reminder.due", "fr", context("reminder.due", time_zone=None))
    assert "26 octobre 2020, 23:59 UTC" in rendered.text
    assert "CET" not in rendered.text
    no_zone = context("reminder.due")
    del no_zone["recipient"]["time_zone"]
    assert render("reminder.due", "fr", no_zone) == rendered


def test_labels_given_by_the_code_are_translated() -> None:
    invited = context("review.invited")
    invited["links"].update(page=LINK, label=SIGN_IN_AND_OPEN)
    rendered = render("review.invited", "es", invited)
    assert f"Iniciar sesión y abrir el examen: {LINK}" in rendered.text
    assert "Iniciar sesión y abrir el examen:" in rendered.html
    delegated = context("task.delegated")
    delegated["event"]["data"]["from_name"] = None
    rendered = render("task.delegated", "ru", delegated)
    assert rendered.text.count("Коллега") >= 1 and "Коллега" in rendered.subject
    assert "Página del examen" in render("call.opened", "es", context("call.opened")).text


def test_the_text_part_makes_no_columns_in_arabic_and_chinese() -> None:
    arabic = render("call.opened", "ar", context("call.opened")).text
    assert "المنطقة: ECE\n" in arabic
    chinese = render("call.opened", "zh", context("call.opened")).text
    assert "区域\uff1aECE\n" in chinese  # a full-width colon, no space
    french = render("call.opened", "fr", context("call.opened")).text
    # French labels are padded into one column, as wide as the longest.
    rows = [
        line for line in french.splitlines() if line.startswith(("Examen\u00a0:", "Région\u00a0:"))
    ]
    assert len(rows) == 2 and rows[0].index("Regional") == rows[1].index("ECE")


def test_plurals_follow_the_language() -> None:
    russian = context("reminder.due")
    russian["event"]["data"]["days_before"] = 3
    assert "через 3 дня" in render("reminder.due", "ru", russian).text
    russian["event"]["data"]["days_before"] = 5
    assert "через 5 дней" in render("reminder.due", "ru", russian).text
    russian["event"]["data"]["days_before"] = 0
    assert "сегодня" in render("reminder.due", "ru", russian).text
    arabic = context("reminder.due")
    arabic["event"]["data"]["days_before"] = 2
    assert "بعد يومين" in render("reminder.due", "ar", arabic).text


def _sent(env: Env, event_type: str) -> dict[str, EmailMessage]:
    return {
        message["To"].addresses[0].addr_spec: message
        for message in env.inbox.messages
        if message["X-Reviewflow-Event"] == event_type
    }


def _part(message: EmailMessage, kind: str) -> str:
    return str(message.get_body((kind,)).get_content())  # type: ignore[union-attr]


async def test_a_recipient_who_chose_french_receives_french_by_smtp(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",), email="sec@example.org")
    await env.account("focal_point", country="DEU", email="deu@example.org")
    france = await env.account("focal_point", country="FRA", email="fra@example.org")
    await update_preferences(
        env.pool, france.actor.id, {"language": "fr", "time_zone": "Europe/Paris"}
    )
    body = review_body(title=TITLE, member_states=["DEU", "FRA"])
    review = await post(env, "/v1/reviews", secretariat, body, 201)

    async def both_invited() -> bool:
        return len(_sent(env, "review.invited")) == 2

    await eventually(both_invited, deadline_s=30)
    invited = _sent(env, "review.invited")
    assert set(invited) == {"deu@example.org", "fra@example.org"}
    french, german = invited["fra@example.org"], invited["deu@example.org"]
    # The subject is one line, its no-break space one space like any other.
    assert str(french["Subject"]) == f"Invitation à participer : {TITLE}"
    assert str(german["Subject"]) == f"You are invited to take part: {TITLE}"
    text = _part(french, "plain")
    assert text.startswith("Bonjour ")
    assert "Se connecter et ouvrir l'examen" in text
    with i18n.using("fr"):
        due = i18n.format_deadline(
            datetime.fromisoformat(review["deadlines"]["inputs_due_at"]), "Europe/Paris"
        )
    assert due in text and due.endswith("UTC)")
    assert '<html lang="fr" dir="ltr">' in _part(french, "html")
    assert "invites you to take part" in flat(_part(german, "plain"))
