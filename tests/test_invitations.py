"""Invitations: everyone called to a new review, and every stakeholder invited later, is mailed
a sign-in link of their own that opens the review; and every link in every mail opens a page
under the public URL, never the JSON API."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest

from notifications.links import REVIEW_INVITED
from notifications.render import ACCOUNT_MESSAGES, TEMPLATED_EVENTS, render
from tests.conftest import Account
from tests.reviews import eventually, review_body
from tests.test_notifications import Env, inbox, notify_env, post  # noqa: F401
from tests.test_render import PUBLIC_URL, make_context
from tests.web_site import LINK, browser_like, path_of, post_form

URL = re.compile(r"https?://[^\s\"'<>]+")
ACCOUNT_SAMPLES: dict[str, dict[str, Any]] = {
    "sign_in.link": {"link": f"{PUBLIC_URL}/sign-in/abc", "minutes": 15},
    "account.invited": {
        "link": f"{PUBLIC_URL}/sign-in/abc",
        "days": 7,
        "sign_in": f"{PUBLIC_URL}/sign-in",
    },
}


def _links(text: str) -> list[str]:
    return URL.findall(text)


@pytest.mark.parametrize("kind", TEMPLATED_EVENTS + ACCOUNT_MESSAGES)
def test_every_link_in_every_mail_opens_a_page_under_the_public_url(kind: str) -> None:
    if kind in ACCOUNT_MESSAGES:
        context = {
            "recipient": {"name": "Maria"},
            "service": {"name": "reviewflow"},
            **ACCOUNT_SAMPLES[kind],
        }
    else:
        context = make_context(kind)
    rendered = render(kind, "en", context)
    found = _links(rendered.text) + _links(rendered.html)
    assert found, "every mail leads somewhere"
    for link in found:
        assert link.startswith(f"{PUBLIC_URL}/"), link
        assert "/v1/" not in link, link


def test_the_sample_accounts_messages_cover_every_account_message() -> None:
    assert set(ACCOUNT_SAMPLES) == set(ACCOUNT_MESSAGES)


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def _invitations(env: Env) -> dict[str, EmailMessage]:
    """The invitations sent, by address (one each)."""
    found: dict[str, EmailMessage] = {}
    for message in env.inbox.messages:
        if message["X-Reviewflow-Event"] == REVIEW_INVITED:
            address = message["To"].addresses[0].addr_spec
            assert address not in found, f"{address} was invited twice"
            found[address] = message
    return found


async def _stakeholder(
    env: Env, name: str, regions: tuple[str, ...] = ("ECE",), **fields: Any
) -> Account:
    return await env.account(
        "stakeholder",
        organisation=name,
        stakeholder_category="civil_society",
        regions=regions,
        email=f"{name.lower()}@example.org",
        **fields,
    )


async def test_each_person_called_to_a_new_review_gets_a_link_of_their_own(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",), email="sec@example.org")
    await env.account("focal_point", country="DEU", email="deu@example.org")
    await env.account("focal_point", country="KAZ", email="kaz@example.org")  # not a member
    # Essential mail only: an invitation is essential.
    a = await _stakeholder(env, "A", notifications="essential")
    b = await _stakeholder(env, "B")
    await _stakeholder(env, "C")  # not invited
    body = review_body(member_states=["DEU"], stakeholders=[a.id, b.id])
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    await env.settled()

    invitations = _invitations(env)
    assert set(invitations) == {"deu@example.org", "a@example.org", "b@example.org"}
    links = {address: LINK.search(_text(m)) for address, m in invitations.items()}
    assert all(link is not None for link in links.values())
    tokens = {link.group(0) for link in links.values() if link is not None}
    assert len(tokens) == 3  # each their own
    assert "national report" in _text(invitations["deu@example.org"])
    assert "written input" in _text(invitations["a@example.org"])
    # Only the hash of a link is stored, and nowhere in the delivery log.
    stored = await env.pool.fetchval("SELECT string_agg(d::text, ' ') FROM deliveries d")
    for link in tokens:
        assert link.rsplit("/", 1)[1] not in stored

    deu_link = links["deu@example.org"]
    assert deu_link is not None
    async with browser_like(env.api) as browser:
        used = await post_form(browser, path_of(deu_link.group(0)))
        assert used.status == 303
        assert used.headers["Location"] == f"/reviews/{review['id']}"


async def test_a_review_open_to_all_invites_every_stakeholder_of_its_region(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    await _stakeholder(env, "A")
    await _stakeholder(env, "Elsewhere", regions=("ECA",))
    await post(env, "/v1/reviews", secretariat, review_body(member_states=["DEU"]), 201)

    async def invited() -> bool:  # the review's creation event reaches the outbox first
        return bool(_invitations(env))

    await eventually(invited, deadline_s=60)
    await env.settled()
    assert set(_invitations(env)) == {"a@example.org"}


async def test_stakeholders_invited_later_are_added_and_mailed_once(
    notify_env: Env,  # noqa: F811
) -> None:
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    a = await _stakeholder(env, "A")
    b = await _stakeholder(env, "B")
    c = await _stakeholder(env, "C")
    body = review_body(member_states=["DEU"], stakeholders=[a.id])
    review = await post(env, "/v1/reviews", secretariat, body, 201)
    url = f"/v1/reviews/{review['id']}/invitations"

    answer = await post(env, url, secretariat, {"stakeholders": [a.id, b.id, c.id]})
    assert sorted(answer["invited"]) == sorted([b.id, c.id])
    assert answer["already_invited"] == [a.id]
    again = await post(env, url, secretariat, {"stakeholders": [b.id, c.id]})
    assert again == {"invited": [], "already_invited": [b.id, c.id]}
    await env.settled()

    assert set(_invitations(env)) == {"a@example.org", "b@example.org", "c@example.org"}
    shown = await (await env.api.get(f"/v1/reviews/{review['id']}", headers=b.headers)).json()
    assert shown["id"] == review["id"]  # B may now see the review it is invited to


async def test_invitations_are_the_secretariats_and_checked(notify_env: Env) -> None:  # noqa: F811
    env = notify_env
    secretariat = await env.account("secretariat", regions=("ECE",))
    other = await env.account("secretariat", regions=("ECA",))
    focal_point = await env.account("focal_point", country="DEU")
    a = await _stakeholder(env, "A")
    foreign = await _stakeholder(env, "F", regions=("ECA",))
    review = await post(
        env, "/v1/reviews", secretariat, review_body(member_states=["DEU"], stakeholders=[]), 201
    )
    url = f"/v1/reviews/{review['id']}/invitations"
    await post(env, url, focal_point, {"stakeholders": [a.id]}, 403)
    await post(env, url, other, {"stakeholders": [a.id]}, 404)
    await post(env, url, secretariat, {}, 422)
    await post(env, url, secretariat, {"stakeholders": ["not-an-id"]}, 422)
    refused = await post(env, url, secretariat, {"stakeholders": [a.id, foreign.id]}, 422)
    assert "/stakeholders/1" in str(refused)
    assert (
        await env.pool.fetchval(
            "SELECT cardinality(stakeholders) FROM reviews WHERE id = $1", review["id"]
        )
        == 0
    )

    open_review = await post(
        env, "/v1/reviews", secretariat, review_body(member_states=["DEU"]), 201
    )
    await post(
        env,
        f"/v1/reviews/{open_review['id']}/invitations",
        secretariat,
        {"stakeholders": [a.id]},
        409,
    )
