"""The authorization matrix: every endpoint x every role x own / other object.

One world is built once for the module (`world`), through the API as users would:

- `ece`: an ECE review of DEU and FRA inviting the organisations Alpha and Beta, in
  consultation; national reports from the DEU and FRA focal points, inputs from Alpha and
  from Beta (Beta does not consent to publication); Beta has answered its consultation task.
- `throw`: the same parties, in consultation, no submissions: the target of forbidden
  commands (advance, cancel, extensions, webhooks) so that a wrongly permitted one cannot
  disturb `ece`, and of Alpha's delegation.
- `pub`: the same parties, driven to approval, changes requested, then approved: published.
- `appr`: the same parties, in approval: a draft report only.
- `eca`: an ECA review of KEN inviting the organisation Kappa, in consultation.
- a webhook of each secretariat, on its own review; DEU's inputs deadline extended in `ece`;
  an observer made by the ECE secretariat through the API (so with regions ["ECE"]).

Roles: see ACTORS (plus no token and a bad token). Cases that assert the right behaviour but
fail today would be listed here as strict xfails with their root cause (none are).

Every case sends one request as one role and checks:

1. the status; errors are problem documents, 401 comes with a Bearer challenge;
2. no leak: every party's content, ids, names and emails hold a unique marker string, and
   the raw body may contain only markers the role may see at that endpoint (its own; its
   region's for a secretariat; what a synthesis or published report quotes by design) —
   error bodies only the role's own, or what the request itself carried;
3. endpoint-specific facts: listings hold exactly the role's own items, `progress` only for
   the review's secretariat, a task's 404 echoes nothing of it, and so on.

Commands that succeed change state, so the permitted roles run them on fresh objects (a new
review, a new webhook), or on ones where success changes nothing the other cases rely on.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests import documents
from tests.reviews import review_body
from web.paths import is_page

pytestmark = pytest.mark.usefixtures("worker")

PROBLEM = "application/problem+json"

# ---- who ---------------------------------------------------------------------------------

ACTORS = (
    "admin",
    "sec_ece",  # secretariat of the review's region
    "sec_eca",  # secretariat of another region
    "fp_deu",  # focal point of a member State of the review
    "fp_fra",  # focal point of the other member State of the review
    "fp_ita",  # focal point of a country in no review (ECE, not in scope)
    "stk_a",  # stakeholder of Alpha, invited
    "stk_b",  # stakeholder of Beta, invited (another organisation)
    "stk_c",  # stakeholder of Gamma, ECE, not invited
    "observer",  # an observer the platform operator made: no region
    "obs_ece",  # an observer the ECE secretariat made: regions ["ECE"]
    "fp_fra_eclac",  # focal point of FRA made for ECLAC (where FRA is a non-regional member)
    "stk_a_twin",  # stakeholder of another organisation named as Alpha, ECE, not invited
    "appr_ece",  # an approver of reports (UN Network on Migration), ECE, named by no review
)
# A deactivated account: its token is refused like a bad one.
ROLES = (*ACTORS, "anonymous", "bad_token", "deactivated")
UNAUTHENTICATED = {"anonymous": 401, "bad_token": 401, "deactivated": 401}
OBSERVERS = ("observer", "obs_ece")
# Also in the world, outside the matrix: fp_ken and stk_k (Kappa) own the ECA review's
# content; stk_a2 is an Alpha colleague, the one Alpha's tasks are handed to.

REGION_OF = {"ece": "ECE", "throw": "ECE", "pub": "ECE", "appr": "ECE", "eca": "ECA"}
SECRETARIAT_OF = {"ECE": "sec_ece", "ECA": "sec_eca"}
RUNS = {key: frozenset({"admin", SECRETARIAT_OF[region]}) for key, region in REGION_OF.items()}
_ECE_PARTIES = frozenset({"fp_deu", "fp_fra", "stk_a", "stk_b"})
PARTICIPANTS = {key: _ECE_PARTIES for key in ("ece", "throw", "pub", "appr")} | {
    "eca": frozenset({"fp_ken", "stk_k"})
}
# Observers read published reviews (and their reports): of every region, or of their own.
VISIBLE = {
    key: RUNS[key] | PARTICIPANTS[key] | ({"observer", "obs_ece"} if key == "pub" else set())
    for key, region in REGION_OF.items()
}

# Party (a member State or an organisation) -> the role whose content it is.
PARTIES = {
    "DEU": "fp_deu",
    "FRA": "fp_fra",
    "ITA": "fp_ita",
    "KEN": "fp_ken",
    "ALPHA": "stk_a",
    "BETA": "stk_b",
    "GAMMA": "stk_c",
    "KAPPA": "stk_k",
}
# Those acting in the matrix for a party not theirs, by the same country or the same name.
PARTY_OF = {role: party for party, role in PARTIES.items()} | {
    "fp_fra_eclac": "FRA",
    "stk_a_twin": "ALPHA",
}
CONSENTS = {"ALPHA": True, "BETA": False, "GAMMA": True, "KAPPA": True}
CATEGORY = {
    "ALPHA": "civil_society",
    "BETA": "academia",
    "GAMMA": "trade_unions",
    "KAPPA": "faith_based",
}


# ---- markers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A unique string in one party's content, and who may see it."""

    text: str
    label: str
    owner: str | None  # the role whose own content it is
    seen_by: frozenset[str]  # roles that may read it wherever it is
    public_in: frozenset[str] = frozenset()  # contexts (e.g. "synthesis:ece") that quote it


class Markers:
    def __init__(self) -> None:
        self.all: list[Marker] = []

    def new(self, label: str) -> str:
        return f"mk-{label.lower()}-{secrets.token_hex(5)}"

    def add(
        self,
        text: str,
        label: str,
        owner: str | None,
        seen_by: set[str] | frozenset[str],
        public_in: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        self.all.append(Marker(text, label, owner, frozenset(seen_by), frozenset(public_in)))
        return text

    def leaks(
        self, text: str, role: str, status: int, context: str | None, request: str
    ) -> list[str]:
        """Labels of markers in `text` that `role` may not see in this answer."""
        found = []
        for marker in self.all:
            if marker.text not in text or marker.text in request or marker.owner == role:
                continue
            if status < 400 and (role in marker.seen_by or context in marker.public_in):
                continue
            found.append(marker.label)
        return found


# ---- the world ---------------------------------------------------------------------------


@dataclass
class World:
    accounts: dict[str, Any]
    markers: Markers
    reviews: dict[str, str] = field(default_factory=dict)
    submissions: dict[str, str] = field(default_factory=dict)  # "ece:DEU" -> id
    tasks: dict[str, str] = field(default_factory=dict)  # "ece:ALPHA" -> id
    hooks: dict[str, str] = field(default_factory=dict)  # "sec_ece" -> id
    annexes: dict[str, str] = field(default_factory=dict)  # "ece:DEU" -> id
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)  # "ece:DEU" -> document
    victim: str = ""

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        if role == "bad_token":
            return {"Authorization": "Bearer rf_" + "A" * 43}
        if role == "deactivated":
            return dict(self.accounts["deactivated"].headers)
        return dict(self.accounts[role].headers)

    def id_of(self, role: str) -> str:
        return str(self.accounts[role].id)

    def names(self) -> dict[str, Any]:
        """What request paths may name: {ece}, {sub[ece:DEU]}, {task[ece:ALPHA]}, ..."""
        return {
            **self.reviews,
            "sub": self.submissions,
            "task": self.tasks,
            "hook": self.hooks,
            "annex": self.annexes,
            "victim": self.victim,
        }


@dataclass(frozen=True)
class ApiAccount:
    """An account created through the API, with the token shown once."""

    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def call(
    api: Any,
    method: str,
    path: str,
    account: Any,
    body: Any = None,
    expect: int = 200,
    key: str | None = None,
) -> Any:
    headers = dict(account.headers)
    if key:
        headers["Idempotency-Key"] = key
    response = await api.request(method, path, json=body, headers=headers)
    text = await response.text()
    assert response.status == expect, f"{method} {path}: {response.status} {text}"
    return json.loads(text) if text else None


def _national(country: str, quoted: str, private: str) -> dict[str, Any]:
    report = documents.national_report(country)
    report["objectives"][0]["measures"] = [f"Measure {quoted}"]
    # The report's section of the State quotes these too; only the contact stays private.
    report["covid19_measures"] = f"Covid-19 measures {quoted}"
    report["preparation"]["methodology"] += f" {quoted}"
    report["contact"] = {
        **report["contact"],
        "name": f"Contact {private}",
        "email": f"{private}@example.org",
    }
    return report


def _stakeholder(
    organisation: str, category: str, text: str, private: str, consent: bool, country: str
) -> dict[str, Any]:
    document = documents.stakeholder_input(organisation, category)
    document["organisation"]["country"] = country
    document["input"] = f"{document['input']} {text}"
    document["recommendations"] = [f"Recommendation {text}"]
    document["contact"] = {"name": f"Contact {private}", "email": f"{private}@example.org"}
    document["publication"] = "with_name" if consent else "do_not_publish"
    return document


def _kind(role: str) -> str:
    return "national_report" if role.startswith("fp_") else "stakeholder_input"


class Builder:
    """Builds the world through the API; each review's story runs concurrently."""

    def __init__(self, api: Any, make_account: Any) -> None:
        self.api, self.make_account = api, make_account
        self.m = Markers()
        self.w = World(accounts={}, markers=self.m)
        self.organisations: dict[str, str] = {}

    def acc(self, role: str) -> Any:
        return self.w.accounts[role]

    async def accounts(self) -> None:
        m = self.m
        for party in ("ALPHA", "BETA", "GAMMA", "KAPPA"):
            owner = PARTIES[party]
            region = "ECA" if party == "KAPPA" else "ECE"
            # Quoted with the words of an organisation that consented to publication.
            public = {"ALPHA": {"synthesis:ece", "report:pub"}, "KAPPA": {"synthesis:eca"}}
            # Alpha's namesake knows the name, which is its own organisation's too.
            namesake = {"stk_a_twin"} if party == "ALPHA" else set()
            self.organisations[party] = m.add(
                f"{party.title()} {m.new(f'org-{party}')}",
                f"organisation of {party}",
                owner,
                {owner, "admin", SECRETARIAT_OF[region], *namesake},
                public.get(party, set()),
            )
        fields: dict[str, dict[str, Any]] = {
            "admin": {},
            "sec_ece": {"regions": ("ECE",)},
            "sec_eca": {"regions": ("ECA",)},
            "observer": {},
            "appr_ece": {"regions": ("ECE",)},
            "fp_fra_eclac": {"country": "FRA", "regions": ("ECLAC",)},
            "deactivated": {"country": "DEU"},
        }
        for party in ("DEU", "FRA", "ITA", "KEN"):
            fields[PARTIES[party]] = {"country": party}
        for party in ("ALPHA", "BETA", "GAMMA", "KAPPA"):
            fields[PARTIES[party]] = {
                "organisation": self.organisations[party],
                "stakeholder_category": CATEGORY[party],
                "regions": ("ECA",) if party == "KAPPA" else ("ECE",),
            }
        fields["stk_a2"] = {**fields["stk_a"]}
        for role, extra in fields.items():
            # A review's exports name those who take part in it (stk_a2 answers for Alpha).
            party = "stk_a" if role == "stk_a2" else role
            exports = {f"export:{key}" for key, who in PARTICIPANTS.items() if party in who}
            identity = m.add(
                m.new(f"name-{role}"), f"name and email of {role}", role, {role, "admin"}, exports
            )
            self.w.accounts[role] = await self.make_account(
                _role_of(role),
                name=f"Account {identity}",
                email=f"{identity}@example.org",
                **extra,
            )
        # Made by the ECE secretariat through the API: it gets the secretariat's regions.
        # Its creator and the admin list it among the people they manage.
        identity = m.add(
            m.new("name-obs_ece"),
            "name and email of obs_ece",
            "obs_ece",
            {"obs_ece", "sec_ece", "admin"},
        )
        created = await call(
            self.api,
            "POST",
            "/v1/actors",
            self.acc("sec_ece"),
            {"name": f"Account {identity}", "email": f"{identity}@example.org", "role": "observer"},
            201,
        )
        assert created["regions"] == ["ECE"], created
        self.w.accounts["obs_ece"] = ApiAccount(created["id"], created["token"])
        # Alpha's namesake: made apart (by the admin), so another organisation of the same name.
        identity = m.add(
            m.new("name-stk_a_twin"),
            "name and email of stk_a_twin",
            "stk_a_twin",
            {"stk_a_twin", "admin"},
        )
        twin = await call(
            self.api,
            "POST",
            "/v1/actors",
            self.acc("admin"),
            {
                "name": f"Account {identity}",
                "email": f"{identity}@example.org",
                "role": "stakeholder",
                "organisation": self.organisations["ALPHA"],
                "stakeholder_category": CATEGORY["ALPHA"],
                "regions": ["ECE"],
            },
            201,
        )
        assert twin["organisation_id"] != str(self.acc("stk_a").actor.organisation_id)
        self.w.accounts["stk_a_twin"] = ApiAccount(twin["id"], twin["token"])

    def plan_content(self, key: str, party: str) -> dict[str, Any]:
        """A submission of `party` to review `key`, with its markers registered."""
        m, owner = self.m, PARTIES[party]
        region = REGION_OF[key]
        seen = {owner, "admin", SECRETARIAT_OF[region]}
        quoted_where = {f"synthesis:{key}", f"report:{key}"}
        private = m.add(
            m.new(f"{party}-{key}-private"), f"private text of {party} in {key}", owner, seen
        )
        if owner.startswith("fp_"):
            quoted = m.add(
                m.new(f"{party}-{key}-quoted"),
                f"measure of {party} in {key}",
                owner,
                seen,
                quoted_where,
            )
            content = _national(party, quoted, private)
        else:
            consent = CONSENTS[party]
            text = (
                m.add(
                    m.new(f"{party}-{key}-quoted"),
                    f"input of {party} in {key}",
                    owner,
                    seen,
                    quoted_where,
                )
                if consent
                else private
            )
            content = _stakeholder(
                self.organisations[party],
                CATEGORY[party],
                text,
                private,
                consent,
                "KEN" if party == "KAPPA" else "DEU",
            )
        self.w.contents[f"{key}:{party}"] = content
        return content

    def response(self, key: str, party: str, *, quoted: bool) -> dict[str, Any]:
        owner = PARTIES[party]
        seen = {owner, "admin", SECRETARIAT_OF[REGION_OF[key]]}
        text = self.m.add(
            self.m.new(f"answer-{party}-{key}"),
            f"consultation answer of {party} in {key}",
            owner,
            seen,
            {f"report:{key}"} if quoted else set(),
        )
        response = documents.consultation_response()
        response["comments"][0]["comment"] = f"Comment {text}"
        response["general_comment"] = f"General {text}"
        self.w.contents[f"{key}:{party}:answer"] = response
        return response

    async def review(
        self,
        key: str,
        *,
        states: list[str],
        invited: list[str],
        submitters: list[str],
        answers: dict[str, bool],
        phase: str,
        hook: bool = False,
        extend_for: str | None = None,
    ) -> None:
        api, m, w = self.api, self.m, self.w
        region = REGION_OF[key]
        secretariat = self.acc(SECRETARIAT_OF[region])
        review_id = m.add(
            f"{region.lower()}-az-{key}-{secrets.token_hex(4)}",
            f"id of review {key}",
            None,
            VISIBLE[key],
        )
        title = m.add(m.new(f"title-{key}"), f"title of review {key}", None, VISIBLE[key])
        w.reviews[key] = review_id
        body = review_body(
            id=review_id,
            region=region,
            title=f"Review {title}",
            member_states=states,
            stakeholders=[self.acc(r).id for r in invited],
        )
        await call(api, "POST", "/v1/reviews", secretariat, body, 201)
        if hook:
            owner = SECRETARIAT_OF[region]
            path = m.add(m.new(f"hook-{owner}"), f"webhook URL of {owner}", owner, {owner, "admin"})
            secret = m.add(m.new(f"secret-{owner}"), f"webhook secret of {owner}", None, set())
            created = await call(
                api,
                "POST",
                "/v1/webhooks",
                secretariat,
                {
                    "url": f"http://127.0.0.1:9/{path}",
                    "events": ["phase.changed"],
                    "secret": secret,
                    "review_id": review_id,
                },
                201,
                key=f"world-hook-{owner}",
            )
            w.hooks[owner] = m.add(created["id"], f"webhook id of {owner}", owner, {owner, "admin"})
        url = f"/v1/reviews/{review_id}"
        if extend_for:
            until = datetime.fromisoformat(body["timeline"]["inputs_due_at"]) + timedelta(days=3)
            extension = {
                "deadline": "inputs_due_at",
                "until": until.isoformat(),
                "reason": "Asked for by the focal point",
                "country": extend_for,
            }
            await call(api, "POST", f"{url}/extensions", secretariat, extension)
        await call(api, "POST", f"{url}/advance", secretariat, {})  # call for inputs
        if key == "ece":
            await self.annex(key, url, "DEU")
        for party in submitters:
            role = PARTIES[party]
            content = self.plan_content(key, party)
            receipt = await call(
                api,
                "POST",
                f"{url}/submissions",
                self.acc(role),
                {"kind": _kind(role), "content": content},
                201,
                key=f"world-{role}",
            )
            public = {f"synthesis:{key}", f"report:{key}"} if CONSENTS.get(party, True) else set()
            w.submissions[f"{key}:{party}"] = m.add(
                receipt["id"],
                f"submission id of {party} in {key}",
                role,
                {role, "admin", SECRETARIAT_OF[region]},
                public,
            )
        await call(api, "POST", f"{url}/advance", secretariat, {})  # consultation
        for role in invited:
            party = PARTY_OF[role]
            mine = await call(api, "GET", f"/v1/tasks?review={review_id}", self.acc(role))
            (task,) = mine["items"]
            quoted = answers.get(party, False) and phase != "consultation"
            w.tasks[f"{key}:{party}"] = m.add(
                task["id"],
                f"task id of {party} in {key}",
                role,
                {role, "admin", SECRETARIAT_OF[region]},
                {f"report:{key}"} if quoted else set(),
            )
        for party, quoted in answers.items():
            role = PARTIES[party]
            await call(
                api,
                "POST",
                f"/v1/tasks/{w.tasks[f'{key}:{party}']}/complete",
                self.acc(role),
                {"response": self.response(key, party, quoted=quoted)},
            )
        if phase == "consultation":
            return
        status = await call(api, "POST", f"{url}/advance", secretariat, {})  # compile, approval
        assert status["phase"] == "approval", status
        if phase == "published":
            await call(api, "POST", f"{url}/report/request-changes", secretariat, {"note": "More"})
            approved = await call(api, "POST", f"{url}/report/approve", secretariat, {})
            assert approved["status"] == "published", approved

    async def annex(self, key: str, url: str, party: str) -> None:
        """A PDF attached to `party`'s draft, sent with its submission: its name, content and
        id are read by the party and the review's secretariat."""
        role, m = PARTIES[party], self.m
        readers = {role, "admin", SECRETARIAT_OF[REGION_OF[key]]}
        name = m.add(m.new(f"annex-{party}"), f"annex name of {party} in {key}", role, readers)
        text = m.add(m.new(f"pdf-{party}"), f"annex content of {party} in {key}", role, readers)
        response = await self.api.post(
            f"{url}/annexes",
            params={"name": f"{name}.pdf"},
            data=f"%PDF-1.4\n% {text}\n%%EOF\n".encode(),
            headers=self.acc(role).headers,
        )
        annex = await response.json()
        assert response.status == 201, annex
        self.w.annexes[f"{key}:{party}"] = m.add(
            annex["id"], f"annex id of {party} in {key}", role, readers
        )

    async def build(self) -> World:
        await self.accounts()
        ece_parties = dict(
            states=["DEU", "FRA"],
            invited=["stk_a", "stk_b"],
        )
        await asyncio.gather(
            self.review(
                "ece",
                **ece_parties,
                submitters=["DEU", "FRA", "ALPHA", "BETA"],
                answers={"BETA": False},
                phase="consultation",
                hook=True,
                extend_for="DEU",
            ),
            self.review("throw", **ece_parties, submitters=[], answers={}, phase="consultation"),
            self.review(
                "pub",
                **ece_parties,
                submitters=["DEU", "FRA", "ALPHA", "BETA"],
                answers={"ALPHA": True},
                phase="published",
            ),
            self.review(
                "appr",
                **ece_parties,
                submitters=["DEU", "ALPHA", "BETA"],
                answers={"ALPHA": True},
                phase="approval",
            ),
            self.review(
                "eca",
                states=["KEN"],
                invited=["stk_k"],
                submitters=["KEN", "KAPPA"],
                answers={},
                phase="consultation",
                hook=True,
            ),
        )
        # Contents only submitted in the matrix (by roles out of scope), with their markers.
        self.plan_content("ece", "ITA")
        self.plan_content("ece", "GAMMA")
        self.response("ece", "ALPHA", quoted=False)
        # An account the ECE secretariat created: its token is the one the matrix replaces.
        victim = await call(
            self.api,
            "POST",
            "/v1/actors",
            self.acc("sec_ece"),
            {"name": "Token victim", "role": "observer"},
            201,
        )
        self.w.victim = victim["id"]
        await call(
            self.api,
            "POST",
            f"/v1/actors/{self.acc('deactivated').id}/deactivate",
            self.acc("admin"),
            None,
            204,
        )
        return self.w


def _role_of(role: str) -> str:
    return {
        "sec": "secretariat",
        "fp": "focal_point",
        "stk": "stakeholder",
        "admin": "admin",
        "observer": "observer",
        "obs": "observer",
        "appr": "approver",
        "deactivated": "focal_point",
    }[role.split("_")[0]]


@pytest.fixture(scope="module")
async def world(api: Any, make_account: Any, worker: Any) -> World:
    return await Builder(api, make_account).build()


# ---- the rows ----------------------------------------------------------------------------

Target = Callable[[Any, World, str], Awaitable[tuple[str, Any]]]
Check = Callable[[Any, World, str, Any], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    target: Target
    expected: dict[str, int]
    context: str | None = None  # e.g. "synthesis:ece": what the answer may quote by design
    check: Check | None = None
    key: bool = False  # send an Idempotency-Key (per case, stable across reruns)


def to(path: str, body: Any = None) -> Target:
    """A request whose path names world objects, e.g. "/v1/submissions/{sub[ece:DEU]}"."""

    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        return path.format_map(w.names()), copy.deepcopy(body)

    return target


def public(status: int = 200) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def actors(status: int, **overrides: int) -> dict[str, int]:
    return {**dict.fromkeys(ACTORS, status), **UNAUTHENTICATED, **overrides}


def on_review(
    key: str,
    runs: int | None,
    sees: int,
    *,
    hidden: int = 404,
    observer: int | None = None,
    **overrides: int,
) -> dict[str, int]:
    """By the role's relation to review `key`: runs it, sees it, or does not see it."""
    expected: dict[str, int] = dict(UNAUTHENTICATED)
    for role in ACTORS:
        if role in RUNS[key]:
            if runs is not None:
                expected[role] = runs
        elif role in VISIBLE[key]:
            expected[role] = observer if role in OBSERVERS and observer is not None else sees
        else:
            expected[role] = hidden
    return {**expected, **overrides}


def owned(key: str, owner: str, status: int = 200, others: int = 404) -> dict[str, int]:
    """An object of `owner` in review `key`: its owner and the review's secretariat read it."""
    return actors(others, **{role: status for role in (owner, *RUNS[key]) if role in ACTORS})


# -- role-dependent requests -----------------------------------------------------------------


def _own_content(w: World, role: str) -> dict[str, Any]:
    """What `role` would submit for itself (a valid body for a role that may not submit)."""
    party = PARTY_OF.get(role, "DEU")
    return {
        "kind": _kind(role if role in PARTY_OF else "fp_deu"),
        "content": w.contents[f"ece:{party}"],
    }


# Whose content each role tries to pass off as its own.
IMPERSONATES = {"fp_deu": "FRA", "fp_fra": "DEU", "stk_a": "BETA", "stk_b": "ALPHA"} | {
    "stk_c": "ALPHA"
}


def submit(key: str, *, impersonate: bool = False) -> Target:
    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        path = f"/v1/reviews/{w.reviews[key]}/submissions"
        if not impersonate:
            return path, _own_content(w, role)
        party = IMPERSONATES.get(role, "DEU")
        return path, {"kind": _kind(PARTIES[party]), "content": w.contents[f"ece:{party}"]}

    return target


async def fresh_review(api: Any, w: World, role: str) -> str:
    """A new ECE review created by `role`, for a command whose success would change state."""
    body = review_body(
        id=f"ece-az-fresh-{secrets.token_hex(4)}", member_states=["DEU", "FRA"], stakeholders=[]
    )
    created = await call(api, "POST", "/v1/reviews", w.accounts[role], body, 201)
    return str(created["id"])


def command(key: str, action: str, body: Callable[[], dict[str, Any]]) -> Target:
    """`action` on review `key`; the roles that run it act on a fresh review of their own."""

    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        review_id = await fresh_review(api, w, role) if role in RUNS[key] else w.reviews[key]
        return f"/v1/reviews/{review_id}/{action}", body()

    return target


def _described(key: str) -> Target:
    """A new description for review `key`; the roles that run it change a fresh review's."""

    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        review_id = await fresh_review(api, w, role) if role in RUNS[key] else w.reviews[key]
        return f"/v1/reviews/{review_id}", {"description": "Matrix"}

    return target


# A file any submitter may attach to its draft.
PDF = b"%PDF-1.4\n%%EOF\n"


def drafting(status: int, **overrides: int) -> dict[str, int]:
    """A request about a draft's annexes in `ece`: its participants get `status`; other focal
    points and stakeholders do not see the review; the others do not draft."""
    drafters = dict.fromkeys(_ECE_PARTIES, status)
    others = dict.fromkeys(("admin", "sec_ece", "sec_eca", "appr_ece", *OBSERVERS), 403)
    return actors(404, **{**others, **drafters, **overrides})


async def _remove_annex(api: Any, w: World, role: str) -> tuple[str, Any]:
    """DEU's annex; DEU itself removes a new one, so that the world's stays as it was."""
    review = w.reviews["ece"]
    annex = w.annexes["ece:DEU"]
    if role == "fp_deu":
        attached = await api.post(
            f"/v1/reviews/{review}/annexes", data=PDF, headers=w.headers(role)
        )
        assert attached.status == 201
        annex = (await attached.json())["id"]
    return f"/v1/reviews/{review}/annexes/{annex}", None


def _extension() -> dict[str, Any]:
    until = datetime.now(UTC) + timedelta(days=200)
    return {"deadline": "report_due_at", "until": until.isoformat(), "reason": "More time"}


def _announcement() -> dict[str, Any]:
    return {"audience": "participants", "subject": "Matrix", "body": "A message."}


async def _complete_alpha(api: Any, w: World, role: str) -> tuple[str, Any]:
    # Alpha's own answer, the same each time: the first completes, a rerun is a replay.
    response = w.contents["ece:ALPHA:answer"]
    return f"/v1/tasks/{w.tasks['ece:ALPHA']}/complete", {"response": response}


async def _delegate_alpha(api: Any, w: World, role: str) -> tuple[str, Any]:
    # Alpha's own delegation would move the task other cases read: it hands over another.
    task = w.tasks["throw:ALPHA" if role == "stk_a" else "ece:ALPHA"]
    return f"/v1/tasks/{task}/delegate", {"to": w.id_of("stk_a2"), "note": "Over to you"}


def _decide(action: str) -> Target:
    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        # Approving publishes: the review's secretariat tries it on the published review (409,
        # past every permission check); `pub` was approved by it while the world was built.
        key = "pub" if action == "approve" and role in RUNS["appr"] else "appr"
        body: dict[str, Any] = {"note": "Add a paragraph on data"}
        if action == "request-changes":
            body["editorial"] = {"overview": "An editorial overview."}
        return f"/v1/reviews/{w.reviews[key]}/report/{action}", body

    return target


def _hook_body(w: World, review: str = "throw") -> dict[str, Any]:
    return {
        "url": f"http://127.0.0.1:9/matrix-{secrets.token_hex(4)}",
        "events": ["report.published"],  # never happens to `throw`: nothing is ever sent
        "secret": secrets.token_hex(16),
        "review_id": w.reviews[review],
    }


async def _new_hook(api: Any, w: World, role: str) -> tuple[str, Any]:
    return "/v1/webhooks", _hook_body(w)


async def _delete_hook(api: Any, w: World, role: str) -> tuple[str, Any]:
    hook = w.hooks["sec_ece"]
    if role in RUNS["ece"]:
        hook = (await call(api, "POST", "/v1/webhooks", w.accounts["sec_ece"], _hook_body(w), 201))[
            "id"
        ]
    return f"/v1/webhooks/{hook}", None


async def _deactivation(api: Any, w: World, role: str) -> tuple[str, Any]:
    # Those who may deactivate the victim do it to a fresh account of the ECE secretariat's.
    target = w.victim
    if role in ("admin", "sec_ece"):
        made = await call(
            api,
            "POST",
            "/v1/actors",
            w.accounts["sec_ece"],
            {"name": "Leaver", "role": "observer"},
            201,
        )
        target = made["id"]
    return f"/v1/actors/{target}/deactivate", None


async def _erasure(api: Any, w: World, role: str) -> tuple[str, Any]:
    # The admin erases a fresh account; anyone else tries the ECE secretariat's victim.
    target = w.victim
    if role == "admin":
        made = await call(
            api,
            "POST",
            "/v1/actors",
            w.accounts["admin"],
            {"name": "Erased", "role": "observer"},
            201,
        )
        target = made["id"]
    return f"/v1/actors/{target}/erase", None


def _new_account(country: str) -> Target:
    async def target(api: Any, w: World, role: str) -> tuple[str, Any]:
        name = f"New focal point {secrets.token_hex(3)}"
        return "/v1/actors", {"name": name, "role": "focal_point", "country": country}

    return target


async def _new_review(api: Any, w: World, role: str) -> tuple[str, Any]:
    body = review_body(
        id=f"ece-az-new-{secrets.token_hex(4)}", member_states=["DEU", "FRA"], stakeholders=[]
    )
    return "/v1/reviews", body


# -- checks ----------------------------------------------------------------------------------


async def check_me(api: Any, w: World, role: str, body: Any) -> None:
    assert body["id"] == w.id_of(role) and body["role"] == _role_of(role)
    assert "token" not in body


async def check_export(api: Any, w: World, role: str, body: Any) -> None:
    assert body["account"]["id"] == w.id_of(role)
    own = {s for name, s in w.submissions.items() if PARTIES[name.split(":")[1]] == role}
    assert {v["submission_id"] for v in body["submissions"]} <= own
    if role in ("fp_deu", "stk_a"):
        assert own and {v["submission_id"] for v in body["submissions"]} == own
    assert all("secret" not in hook for hook in body["webhooks"])


async def check_people(api: Any, w: World, role: str, body: Any) -> None:
    ids = {item["id"] for item in body["items"]}
    if role == "admin":
        assert {w.id_of(r) for r in ACTORS if r != "admin"} <= ids
    else:
        assert ids == ({w.id_of("obs_ece")} if role == "sec_ece" else set())


def check_review(key: str) -> Check:
    async def check(api: Any, w: World, role: str, body: Any) -> None:
        assert body["id"] == w.reviews[key]
        # Progress counts (who has reported, who is missing) are the secretariat's.
        assert ("progress" in body) == (role in RUNS[key]), body.keys()
        assert_own_extensions(key, role, body)

    return check


def assert_own_extensions(key: str, role: str, review: dict[str, Any]) -> None:
    """Which member State was given more time is the secretariat's and that State's business."""
    if role in RUNS[key]:
        return
    own = {PARTY_OF[role]} if role.startswith("fp_") else set()
    assert set(review["country_extensions"]) <= own, review["country_extensions"]


async def check_review_list(api: Any, w: World, role: str, body: Any) -> None:
    seen: set[str] = set()
    page = body
    world_reviews = {review_id: key for key, review_id in w.reviews.items()}
    while True:
        assert all("progress" not in item for item in page["items"])
        for item in page["items"]:
            if item["id"] in world_reviews:
                assert_own_extensions(world_reviews[item["id"]], role, item)
        seen |= {item["id"] for item in page["items"]}
        if not page["next_cursor"]:
            break
        page = await call(
            api, "GET", f"/v1/reviews?limit=100&cursor={page['next_cursor']}", w.accounts[role]
        )
    mine = {key for key, review_id in w.reviews.items() if review_id in seen}
    assert mine == {key for key in w.reviews if role in VISIBLE[key]}


def check_submission_list(key: str) -> Check:
    async def check(api: Any, w: World, role: str, body: Any) -> None:
        expected = {
            submission_id
            for name, submission_id in w.submissions.items()
            if name.startswith(f"{key}:")
            and (role in RUNS[key] or PARTIES[name.split(":")[1]] == role)
        }
        assert {item["id"] for item in body["items"]} == expected

    return check


def check_submission(name: str) -> Check:
    async def check(api: Any, w: World, role: str, body: Any) -> None:
        assert body["id"] == w.submissions[name] and body["content"] == w.contents[name]

    return check


async def check_annex_list(api: Any, w: World, role: str, body: Any) -> None:
    listed = {item["id"] for item in body["items"]}
    assert (w.annexes["ece:DEU"] in listed) == (role == "fp_deu"), body


async def check_task_list(api: Any, w: World, role: str, body: Any) -> None:
    assert all(item["assignee"] == w.id_of(role) for item in body["items"])
    ids = {item["id"] for item in body["items"]}
    own = {task for name, task in w.tasks.items() if PARTIES[name.split(":")[1]] == role}
    assert ids & set(w.tasks.values()) <= own
    if role in ("stk_a", "stk_b"):
        assert w.tasks[f"ece:{PARTY_OF[role]}"] in ids


def check_task(name: str) -> Check:
    async def check(api: Any, w: World, role: str, body: Any) -> None:
        assert body["id"] == w.tasks[name]

    return check


async def check_hook_list(api: Any, w: World, role: str, body: Any) -> None:
    ids = {item["id"] for item in body["items"]}
    assert all("secret" not in item for item in body["items"])
    expected = set(w.hooks.values()) if role == "admin" else {w.hooks[role]}
    assert expected <= ids
    if role != "admin":
        assert not ids & (set(w.hooks.values()) - expected)


async def check_events(api: Any, w: World, role: str, body: Any) -> None:
    types = {event["type"] for event in body["items"]}
    assert "phase.changed" in types and "submission.accepted" in types


def check_report(key: str) -> Check:
    async def check(api: Any, w: World, role: str, body: Any) -> None:
        # Beta did not consent: its words appear in no report, whoever reads it.
        text = body if isinstance(body, str) else json.dumps(body)
        beta = w.contents[f"{key}:BETA"]
        assert beta["input"].split()[-1] not in text
        assert beta["contact"]["email"] not in text

    return check


# -- the table ---------------------------------------------------------------------------------

REVIEW = "/v1/reviews/{%s}"


def drafting_only(status: int) -> dict[str, int]:
    """A national report's draft in the ECE review: `status` for the focal points of its
    member States; a focal point that does not see the review is told there is none; every
    other role is refused (it drafts no national report)."""
    return actors(403, fp_deu=status, fp_fra=status, fp_ita=404, fp_fra_eclac=404)


ROWS: list[Row] = [
    # Anyone, with or without a token.
    Row("healthz", "GET", to("/healthz"), public()),
    Row("readyz", "GET", to("/readyz"), public()),
    Row("openapi", "GET", to("/openapi.json"), public()),
    Row("docs", "GET", to("/docs"), public()),
    Row("metrics", "GET", to("/metrics"), public()),
    # Any actor.
    Row("gcm", "GET", to("/v1/gcm"), actors(200)),
    Row("regions", "GET", to("/v1/regions"), actors(200)),
    Row("region-ECA", "GET", to("/v1/regions/ECA"), actors(200)),
    Row("schemas", "GET", to("/v1/schemas"), actors(200)),
    Row("schema", "GET", to("/v1/schemas/national_report"), actors(200)),
    Row("me", "GET", to("/v1/actors/me"), actors(200), check=check_me),
    Row("me-update", "PATCH", to("/v1/actors/me", {"language": "en"}), actors(200)),
    Row("me-export", "GET", to("/v1/actors/me/export"), actors(200), check=check_export),
    # Accounts: admin anyone; a secretariat participants of its own region, and the tokens of
    # the accounts it made (`victim`: made by the ECE secretariat).
    Row(
        "create-account-DEU",
        "POST",
        _new_account("DEU"),
        actors(403, admin=201, sec_ece=201),
    ),
    Row(
        "create-account-KEN",
        "POST",
        _new_account("KEN"),
        actors(403, admin=201, sec_eca=201),
    ),
    Row(
        "revoke-token-of-created",
        "DELETE",
        to("/v1/actors/{victim}/tokens"),
        actors(404, admin=204, sec_ece=204),
    ),
    # A secretariat revokes, but only an admin mints, a token for an account it made.
    Row(
        "issue-token-of-created",
        "POST",
        to("/v1/actors/{victim}/tokens", {}),
        actors(404, admin=201, sec_ece=403),
    ),
    Row(
        "deactivate-created",
        "POST",
        _deactivation,
        actors(404, admin=204, sec_ece=204),
    ),
    Row("erase-account", "POST", _erasure, actors(403, admin=204)),
    # People: an admin manages every account, a secretariat those it created.
    Row(
        "list-people",
        "GET",
        to("/v1/actors?q=mk-name&limit=200"),
        actors(403, admin=200, sec_ece=200, sec_eca=200),
        check=check_people,
    ),
    Row(
        "edit-person-created",
        "PATCH",
        to("/v1/actors/{victim}", {"name": "Token victim"}),
        actors(403, admin=200, sec_ece=200, sec_eca=404),
    ),
    Row(
        "import-people-preview",
        "POST",
        to(
            "/v1/actors/import?dry_run=true",
            "name,email,role\nMatrix,matrix@example.org,observer\n",
        ),
        actors(403, admin=200, sec_ece=200, sec_eca=200),
    ),
    # Roll-ups: the admin's; a cycle without one is none for anyone (no state is made here:
    # the admin's start names no cycle of reviews, so it is refused for its body).
    Row(
        "start-rollup",
        "POST",
        to("/v1/rollups", {"cycle": "2021-2022", "title": "Matrix"}),
        actors(403, admin=422),
    ),
    Row("list-rollups", "GET", to("/v1/rollups"), actors(200)),
    Row("rollup-none", "GET", to("/v1/rollups/2980-2981"), actors(404)),
    Row("rollup-report-none", "GET", to("/v1/rollups/2980-2981/report"), actors(404)),
    Row(
        "approve-rollup-none",
        "POST",
        to("/v1/rollups/2980-2981/approve", {"version": 1}),
        actors(403, admin=404),
    ),
    # Reviews. Commands on `throw` (forbidden roles) or, for its secretariat, on a new review.
    Row("create-review-ECE", "POST", _new_review, actors(403, admin=201, sec_ece=201)),
    Row("list-reviews", "GET", to("/v1/reviews?limit=100"), actors(200), check=check_review_list),
    Row(
        "review-ece",
        "GET",
        to(REVIEW % "ece"),
        on_review("ece", 200, 200),
        check=check_review("ece"),
    ),
    Row(
        "review-eca",
        "GET",
        to(REVIEW % "eca"),
        on_review("eca", 200, 200),
        check=check_review("eca"),
    ),
    Row(
        "events-ece",
        "GET",
        to(REVIEW % "ece" + "/events"),
        on_review("ece", 200, 403),
        check=check_events,
    ),
    Row(
        "events-eca",
        "GET",
        to(REVIEW % "eca" + "/events"),
        on_review("eca", 200, 403),
        check=check_events,
    ),
    Row(
        "extend-throw",
        "POST",
        command("throw", "extensions", _extension),
        on_review("throw", 200, 403),
    ),
    Row(
        "extend-eca",
        "POST",
        command("eca", "extensions", _extension),
        on_review("eca", None, 403),
    ),
    # Inviting more stakeholders is the review's secretariat's (the id names nobody: the
    # secretariat's answer is a 422, not checked here).
    Row(
        "invite-eca",
        "POST",
        to(REVIEW % "eca" + "/invitations", {"stakeholders": [str(uuid.uuid4())]}),
        on_review("eca", None, 403),
        key=True,
    ),
    # Reminding now and announcing are the review's secretariat's (a fresh review is only
    # scheduled: nobody has anything to send, so nobody to remind).
    Row(
        "remind-throw",
        "POST",
        command("throw", "reminders", dict),
        on_review("throw", 409, 403),
        key=True,
    ),
    Row("remind-eca", "POST", to(REVIEW % "eca" + "/reminders", {}), on_review("eca", None, 403)),
    Row(
        "announce-throw",
        "POST",
        command("throw", "announcements", _announcement),
        on_review("throw", 200, 403),
        key=True,
    ),
    Row(
        "announce-eca",
        "POST",
        to(REVIEW % "eca" + "/announcements", _announcement()),
        on_review("eca", None, 403),
    ),
    Row("advance-throw", "POST", command("throw", "advance", dict), on_review("throw", 200, 403)),
    Row("advance-eca", "POST", to(REVIEW % "eca" + "/advance", {}), on_review("eca", None, 403)),
    Row(
        "cancel-throw",
        "POST",
        command("throw", "cancel", lambda: {"reason": "Matrix"}),
        on_review("throw", 200, 403),
    ),
    Row(
        "cancel-eca",
        "POST",
        to(REVIEW % "eca" + "/cancel", {"reason": "Matrix"}),
        on_review("eca", None, 403),
    ),
    # Moving a review to the current forms is its secretariat's (a fresh review is scheduled).
    Row(
        "schema-versions-throw",
        "POST",
        command("throw", "schema-versions", dict),
        on_review("throw", 200, 403),
    ),
    Row(
        "schema-versions-eca",
        "POST",
        to(REVIEW % "eca" + "/schema-versions", {}),
        on_review("eca", None, 403),
    ),
    # A review's title and description are its secretariat's to change.
    Row("describe-throw", "PATCH", _described("throw"), on_review("throw", 200, 403)),
    Row(
        "describe-eca",
        "PATCH",
        to(REVIEW % "eca", {"description": "Matrix"}),
        on_review("eca", None, 403),
    ),
    # Submissions: focal points and stakeholders, for themselves, to reviews they are part of.
    Row(
        "submit-own-ece",
        "POST",
        submit("ece"),
        actors(
            403,
            fp_deu=201,
            fp_fra=201,
            fp_ita=404,
            stk_a=201,
            stk_b=201,
            stk_c=404,
            fp_fra_eclac=404,
            stk_a_twin=404,
        ),
        key=True,
    ),
    Row(
        "submit-as-other-party-ece",
        "POST",
        submit("ece", impersonate=True),
        actors(403, fp_ita=404, stk_c=404, fp_fra_eclac=404, stk_a_twin=404),
        key=True,
    ),
    Row(
        "submit-own-eca",
        "POST",
        submit("eca"),
        actors(
            403,
            fp_deu=404,
            fp_fra=404,
            fp_ita=404,
            stk_a=404,
            stk_b=404,
            stk_c=404,
            fp_fra_eclac=404,
            stk_a_twin=404,
        ),
        key=True,
    ),
    Row(
        "list-submissions-ece",
        "GET",
        to(REVIEW % "ece" + "/submissions"),
        on_review("ece", 200, 200, observer=403),
        check=check_submission_list("ece"),
    ),
    Row(
        "list-submissions-eca",
        "GET",
        to(REVIEW % "eca" + "/submissions"),
        on_review("eca", 200, 200, observer=403),
        check=check_submission_list("eca"),
    ),
    *(
        Row(
            f"submission-{name.replace(':', '-')}",
            "GET",
            to(f"/v1/submissions/{{sub[{name}]}}"),
            owned(name.split(":")[0], PARTIES[name.split(":")[1]]),
            check=check_submission(name),
        )
        for name in ("ece:DEU", "ece:FRA", "ece:ALPHA", "ece:BETA", "eca:KEN", "eca:KAPPA")
    ),
    Row(
        "submission-version-1-ece-DEU",
        "GET",
        to("/v1/submissions/{sub[ece:DEU]}?version=1"),
        owned("ece", "fp_deu"),
    ),
    # Annexes: the draft's, for its country or organisation; once sent, as the submission.
    Row(
        "list-annexes-ece",
        "GET",
        to(REVIEW % "ece" + "/annexes"),
        drafting(200),
        check=check_annex_list,
    ),
    Row("attach-annex-ece", "POST", to(REVIEW % "ece" + "/annexes", PDF), drafting(201)),
    Row("annex-ece-DEU", "GET", to("/v1/annexes/{annex[ece:DEU]}"), owned("ece", "fp_deu")),
    Row("remove-annex-ece", "DELETE", _remove_annex, drafting(404, fp_deu=204)),
    # Tasks: the assignee; the review's secretariat reads but does not answer.
    Row("list-tasks", "GET", to("/v1/tasks"), actors(200), check=check_task_list),
    Row(
        "list-tasks-of-ece",
        "GET",
        to("/v1/tasks?review={ece}"),
        actors(200),
        check=check_task_list,
    ),
    *(
        Row(
            f"task-{name.replace(':', '-')}",
            "GET",
            to(f"/v1/tasks/{{task[{name}]}}"),
            owned(name.split(":")[0], PARTIES[name.split(":")[1]]),
            check=check_task(name),
        )
        for name in ("ece:ALPHA", "ece:BETA", "eca:KAPPA")
    ),
    Row(
        "complete-task-ece-ALPHA",
        "POST",
        _complete_alpha,
        actors(404, stk_a=200, admin=403, sec_ece=403),
    ),
    Row(
        "complete-task-eca-KAPPA",
        "POST",
        to("/v1/tasks/{task[eca:KAPPA]}/complete", {"response": documents.consultation_response()}),
        actors(404, admin=403, sec_eca=403),
    ),
    Row(
        "delegate-task-ece-ALPHA",
        "POST",
        _delegate_alpha,
        actors(404, stk_a=200, admin=403, sec_ece=403),
    ),
    Row(
        "synthesis-ece",
        "GET",
        to(REVIEW % "ece" + "/synthesis"),
        on_review("ece", 200, 200, observer=403),
        context="synthesis:ece",
    ),
    Row(
        "synthesis-eca",
        "GET",
        to(REVIEW % "eca" + "/synthesis"),
        on_review("eca", 200, 200, observer=403),
        context="synthesis:eca",
    ),
    # The addendum quotes what the synthesis would (nothing was added here), for the same people.
    Row(
        "synthesis-addendum-ece",
        "GET",
        to(REVIEW % "ece" + "/synthesis/addendum"),
        on_review("ece", 200, 200, observer=403),
        context="synthesis:ece",
    ),
    # Reports: the published one for whoever sees the review, drafts for its secretariat.
    *(
        Row(
            f"report-published-{fmt}",
            "GET",
            to(REVIEW % "pub" + f"/report?format={fmt}"),
            on_review("pub", 200, 200),
            context="report:pub",
            check=check_report("pub"),
        )
        for fmt in ("json", "html", "md")
    ),
    Row(
        "report-published-pdf",
        "GET",
        to(REVIEW % "pub" + "/report?format=pdf"),
        on_review("pub", 200, 200),
        context="report:pub",
    ),
    Row(
        "report-published-draft-v1",
        "GET",
        to(REVIEW % "pub" + "/report?version=1"),
        on_review("pub", 200, 404),
    ),
    Row(
        "report-draft",
        "GET",
        to(REVIEW % "appr" + "/report"),
        on_review("appr", 200, 404),
        check=check_report("appr"),
    ),
    # The approval chain: the review's secretariat and its approvers (none here) only.
    Row(
        "approvals",
        "GET",
        to(REVIEW % "appr" + "/approvals"),
        on_review("appr", 200, 404),
    ),
    Row("approve-report", "POST", _decide("approve"), on_review("appr", 409, 403)),
    Row("request-changes", "POST", _decide("request-changes"), on_review("appr", 200, 403)),
    Row(
        "approve-report-eca",
        "POST",
        to(REVIEW % "eca" + "/report/approve", {}),
        on_review("eca", 409, 403),
    ),
    # Exports: the review's secretariat (and admins) only.
    Row(
        "export-submissions-ece",
        "GET",
        to(REVIEW % "ece" + "/exports/submissions.csv"),
        on_review("ece", 200, 403),
        context="export:ece",
    ),
    Row(
        "export-answers-ece",
        "GET",
        to(REVIEW % "ece" + "/exports/answers.csv"),
        on_review("ece", 200, 403),
        context="export:ece",
    ),
    Row(
        "export-participants-eca",
        "GET",
        to(REVIEW % "eca" + "/exports/participants.csv"),
        on_review("eca", 200, 403),
        context="export:eca",
    ),
    # The evidence pack: the review's secretariat (and admins), once its report is published.
    Row("evidence-pub", "GET", to(REVIEW % "pub" + "/evidence"), on_review("pub", 200, 403)),
    Row("evidence-appr", "GET", to(REVIEW % "appr" + "/evidence"), on_review("appr", 409, 403)),
    # Webhooks: each secretariat its own; admin all.
    Row("create-webhook", "POST", _new_hook, actors(403, admin=201, sec_ece=201, sec_eca=422)),
    Row(
        "list-webhooks",
        "GET",
        to("/v1/webhooks"),
        actors(403, admin=200, sec_ece=200, sec_eca=200),
        check=check_hook_list,
    ),
    # A review's notifications are its secretariat's; for anyone else the review is not there.
    # They name the review's participants, as its participants export does.
    Row(
        "review-deliveries-ece",
        "GET",
        to(REVIEW % "ece" + "/deliveries?status=failed"),
        on_review("ece", 200, 404),
        context="export:ece",
    ),
    Row(
        "review-deliveries-eca",
        "GET",
        to(REVIEW % "eca" + "/deliveries"),
        on_review("eca", 200, 404),
        context="export:eca",
    ),
    # tests/test_failed_deliveries.py puts a real failed delivery back, and refuses others.
    Row(
        "retry-no-delivery",
        "POST",
        to("/v1/deliveries/00000000-0000-0000-0000-000000000007/retry"),
        actors(404),
    ),
    Row(
        "deliveries-of-ece-hook",
        "GET",
        to("/v1/webhooks/{hook[sec_ece]}/deliveries"),
        actors(403, admin=200, sec_ece=200, sec_eca=404),
    ),
    Row(
        "deliveries-of-eca-hook",
        "GET",
        to("/v1/webhooks/{hook[sec_eca]}/deliveries"),
        actors(403, admin=200, sec_eca=200, sec_ece=404),
    ),
    Row(
        "delete-ece-hook",
        "DELETE",
        _delete_hook,
        actors(403, admin=204, sec_ece=204, sec_eca=404),
    ),
    # A member State's team and its draft: its focal points (and drafters) only, each its own
    # country's; those who run the review see nothing of it. No state changes here: the world's
    # States keep working alone.
    Row("team-ece", "GET", to(REVIEW % "ece" + "/team"), drafting_only(200)),
    Row(
        "add-drafter-ece",
        "POST",
        to(REVIEW % "ece" + "/team/drafters", {"name": ""}),
        on_review("ece", 403, 403, fp_deu=422, fp_fra=422),
        key=True,
    ),
    Row(
        "remove-drafter-ece",
        "DELETE",
        to(REVIEW % "ece" + f"/team/drafters/{uuid.UUID(int=5)}"),
        on_review("ece", 403, 403, fp_deu=404, fp_fra=404),
    ),
    Row(
        "clearing-officer-ece",
        "PUT",
        to(REVIEW % "ece" + "/team/clearing-officer", {"officer": None}),
        on_review("ece", 403, 403, fp_deu=200, fp_fra=200),
    ),
    Row("draft-revisions-ece", "GET", to(REVIEW % "ece" + "/draft/revisions"), drafting_only(200)),
    Row("draft-revision-ece", "GET", to(REVIEW % "ece" + "/draft/revisions/1"), drafting_only(404)),
    Row(
        "clearance-request-ece",
        "POST",
        to(REVIEW % "ece" + "/draft/clearance-request"),
        drafting_only(409),
    ),
    Row(
        "clearance-ece",
        "POST",
        to(REVIEW % "ece" + "/draft/clearance", {"content_hash": "0" * 64}),
        drafting_only(409),
    ),
    # Consultation meetings: the review's secretariat schedules them, its participants see
    # those they are invited to; a meeting nobody scheduled is there for nobody.
    Row("sessions-ece", "GET", to(REVIEW % "ece" + "/sessions"), on_review("ece", 200, 200)),
    Row(
        "new-session-ece",
        "POST",
        to(REVIEW % "ece" + "/sessions", {}),
        on_review("ece", 422, 403),
        key=True,
    ),
    *(
        Row(
            f"{name}-no-session",
            method,
            to(f"/v1/sessions/{uuid.UUID(int=7)}{tail}", body),
            actors(404),
        )
        for name, method, tail, body in (
            ("session", "GET", "", None),
            ("edit-session", "PATCH", "", {"title": "x"}),
            ("register-session", "POST", "/registrations", {}),
            ("unregister-session", "DELETE", "/registrations/mine", None),
            ("session-registrations", "GET", "/registrations", None),
            ("session-attendance", "POST", "/attendance", {"attendance": []}),
            ("session-summary", "PUT", "/summary", {"kind": "chair_summary", "text": "x"}),
        )
    ),
]


def _cases() -> Iterator[Any]:
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names)), "row names must be unique"
    for row in ROWS:
        for role in ROLES:
            if role not in row.expected:
                continue
            yield pytest.param(row, role, id=f"{row.name}:{role}")


CASES = list(_cases())


async def _problem(response: Any, text: str, status: int) -> dict[str, Any]:
    assert response.content_type == PROBLEM, text
    body: dict[str, Any] = json.loads(text)
    assert body["status"] == status and body["title"], body
    return body


@pytest.mark.parametrize(("row", "role"), CASES)
async def test_matrix(api: Any, world: World, row: Row, role: str) -> None:
    path, body = await row.target(api, world, role)
    headers = world.headers(role)
    if row.key:
        headers["Idempotency-Key"] = f"matrix-{row.name}"
    sent: dict[str, Any] = {} if body is None else {"json": body}
    if isinstance(body, str):  # a CSV file
        headers["Content-Type"] = "text/csv"
        sent = {"data": body.encode()}
    if isinstance(body, bytes):  # an annex
        headers["Content-Type"] = "application/octet-stream"
        sent = {"data": body}
    response = await api.request(row.method, path, headers=headers, **sent)
    # A PDF is binary: what text it has is compressed, and the HTML it is rendered from is read.
    text = await response.text(errors="replace")
    expected = row.expected[role]
    assert response.status == expected, (
        f"{row.method} {path} as {role}: expected {expected}, got {response.status}: {text[:600]}"
    )
    request = path + (body.decode() if isinstance(body, bytes) else json.dumps(body))
    leaks = world.markers.leaks(text, role, response.status, row.context, request)
    assert not leaks, f"{row.method} {path} as {role} ({response.status}) shows: {leaks}"
    if expected == 401:
        await _problem(response, text, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif expected >= 400:
        problem = await _problem(response, text, expected)
        # A refusal says nothing of the object: no response, organisation, content, subject.
        assert not {"response", "content", "organisation", "subject"} & problem.keys()
    elif row.check is not None:
        parsed = json.loads(text) if response.content_type.endswith("json") else text
        await row.check(api, world, role, parsed)


# ---- beyond the matrix ---------------------------------------------------------------------------


async def test_the_matrix_covers_every_route(api: Any, world: World) -> None:
    """Every route of the API has a row, and every row a case for each role it concerns.
    (Pages sign people in by session, not token: tests/test_web_*.py cover who sees which.)"""
    templates = {
        (route.method, re.sub(r"\{[^}]+\}", "[^/]+", route.resource.canonical))
        for route in api.server.app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and not is_page(route.resource.canonical)
    }
    ids = {*world.reviews.values(), *world.submissions.values(), *world.tasks.values()}
    ids |= {*world.hooks.values(), world.victim}
    requested = set()
    for row in ROWS:
        path, _ = await row.target(api, world, "observer")
        requested.add((row.method, path.partition("?")[0]))
    uncovered = {
        (method, template)
        for method, template in templates
        if not any(m == method and re.fullmatch(template, p) for m, p in requested)
    }
    assert not uncovered, f"routes without a row in the matrix: {sorted(uncovered)}"
    assert ids  # the world named what the rows request
    assert all(set(ROLES) - set(row.expected) <= set(RUNS["eca"]) for row in ROWS)


def _marker(w: World, label: str) -> str:
    (found,) = [m.text for m in w.markers.all if m.label == label]
    return found


async def test_the_markers_show_where_they_should(api: Any, world: World) -> None:
    """The leak checks are not vacuous: each kind of marker is in the answers that may show it."""
    w = world

    async def read(role: str, path: str) -> str:
        response = await api.get(path.format_map(w.names()), headers=w.headers(role))
        text: str = await response.text()
        assert response.status == 200, text
        return text

    deu = await read("sec_ece", "/v1/submissions/{sub[ece:DEU]}")
    assert _marker(w, "private text of DEU in ece") in deu
    # ...and would be reported if anyone else were shown it, whatever the context.
    assert "private text of DEU in ece" in w.markers.leaks(deu, "fp_fra", 200, "synthesis:ece", "")
    assert "submission id of DEU in ece" in w.markers.leaks(deu, "stk_a", 404, None, "")
    assert not w.markers.leaks(deu, "fp_deu", 200, None, "")
    beta = await read("stk_b", "/v1/submissions/{sub[ece:BETA]}")
    assert _marker(w, "private text of BETA in ece") in beta
    synthesis = await read("fp_fra", "/v1/reviews/{ece}/synthesis")
    for label in ("measure of DEU in ece", "input of ALPHA in ece", "submission id of DEU in ece"):
        assert _marker(w, label) in synthesis, label
    assert _marker(w, "private text of BETA in ece") not in synthesis  # no consent
    assert w.submissions["ece:BETA"] not in synthesis
    report = await read("observer", "/v1/reviews/{pub}/report?format=html")
    for label in ("measure of FRA in pub", "consultation answer of ALPHA in pub"):
        assert _marker(w, label) in report, label
    task = await read("sec_ece", "/v1/tasks/{task[ece:BETA]}")
    assert _marker(w, "consultation answer of BETA in ece") in task
    assert _marker(w, "organisation of BETA") in task
    assert _marker(w, "name and email of fp_deu") in await read("fp_deu", "/v1/actors/me")
    assert _marker(w, "webhook URL of sec_ece") in await read("sec_ece", "/v1/webhooks")
    events = await read("sec_ece", "/v1/reviews/{ece}/events?limit=1000")
    assert _marker(w, "organisation of ALPHA") in events


# A role trying another's object, and the same request for an object that does not exist:
# the two answers must be the same but for the id, so a 404 tells nothing of existence.
MISSING = str(uuid.UUID(int=7))
INDISTINGUISHABLE = [
    ("review", "sec_eca", "GET", "/v1/reviews/{ece}", "/v1/reviews/az-missing-0000", None),
    (
        "review-report",
        "stk_c",
        "GET",
        "/v1/reviews/{ece}/report",
        "/v1/reviews/az-missing-0000/report",
        None,
    ),
    (
        "submission",
        "fp_fra",
        "GET",
        "/v1/submissions/{sub[ece:DEU]}",
        f"/v1/submissions/{MISSING}",
        None,
    ),
    (
        "submission-of-other-org",
        "stk_a",
        "GET",
        "/v1/submissions/{sub[ece:BETA]}",
        f"/v1/submissions/{MISSING}",
        None,
    ),
    ("task", "stk_b", "GET", "/v1/tasks/{task[ece:ALPHA]}", f"/v1/tasks/{MISSING}", None),
    (
        "task-complete",
        "stk_b",
        "POST",
        "/v1/tasks/{task[ece:ALPHA]}/complete",
        f"/v1/tasks/{MISSING}/complete",
        {"response": documents.consultation_response()},
    ),
    (
        "task-other-region",
        "sec_ece",
        "GET",
        "/v1/tasks/{task[eca:KAPPA]}",
        f"/v1/tasks/{MISSING}",
        None,
    ),
    (
        "webhook",
        "sec_eca",
        "GET",
        "/v1/webhooks/{hook[sec_ece]}/deliveries",
        f"/v1/webhooks/{MISSING}/deliveries",
        None,
    ),
    (
        "account-token",
        "sec_eca",
        "DELETE",
        "/v1/actors/{victim}/tokens",
        f"/v1/actors/{MISSING}/tokens",
        None,
    ),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "missing", "body"),
    [pytest.param(*case[1:], id=case[0]) for case in INDISTINGUISHABLE],
)
async def test_a_refusal_is_the_answer_for_a_missing_object(
    api: Any, world: World, role: str, method: str, path: str, missing: str, body: Any
) -> None:
    real = path.format_map(world.names())
    answers = []
    for target in (real, missing):
        response = await api.request(
            method, target, headers=world.headers(role), **({} if body is None else {"json": body})
        )
        text = await response.text()
        assert response.status == 404, text
        object_id = target.split("/")[3]
        answers.append(text.replace(object_id, "<id>"))
    assert answers[0] == answers[1]


async def test_a_webhook_on_a_review_not_yours_is_refused_like_a_missing_review(
    api: Any, world: World
) -> None:
    answers = []
    for review_id in (world.reviews["ece"], "az-missing-0000"):
        body = {**_hook_body(world, "eca"), "review_id": review_id}
        response = await api.post("/v1/webhooks", json=body, headers=world.headers("sec_eca"))
        assert response.status == 422
        answers.append((await response.text()).replace(review_id, "<id>"))
    assert answers[0] == answers[1]


async def test_idempotency_keys_are_per_actor(api: Any, world: World) -> None:
    """The key another actor used replays nothing of theirs."""
    w = world
    fra = await call(
        api,
        "POST",
        f"/v1/reviews/{w.reviews['ece']}/submissions",
        w.accounts["fp_fra"],
        {"kind": "national_report", "content": w.contents["ece:FRA"]},
        201,
        key="world-fp_deu",
    )
    assert (fra["id"], fra["subject"]) == (w.submissions["ece:FRA"], "FRA")
    hook = await call(
        api,
        "POST",
        "/v1/webhooks",
        w.accounts["sec_eca"],
        _hook_body(w, "eca"),
        201,
        key="world-hook-sec_ece",
    )
    assert hook["id"] not in w.hooks.values()
    assert _marker(w, "webhook URL of sec_ece") not in json.dumps(hook)


@pytest.mark.parametrize(
    "path",
    [
        "//v1/gcm",
        "/v1//reviews",
        "/./v1/reviews",
        "/%761/reviews",
        "/V1/reviews",
        "/v1/reviews/",
        "/healthz/../v1/reviews",
        "/docs/../v1/reviews",
        "/openapi.json/../v1/reviews",
    ],
)
async def test_no_path_spelling_skips_authentication(api: Any, path: str) -> None:
    """Sent as is on the wire (no client normalisation): 401 or no route, never an answer."""
    reader, writer = await asyncio.open_connection(api.server.host, api.server.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    answer = (await reader.read()).decode()
    writer.close()
    await writer.wait_closed()
    status = int(answer.split(" ", 2)[1])
    assert status in (401, 404), answer


async def test_the_world_is_as_built_after_the_matrix(api: Any, world: World) -> None:
    """No refused command changed anything (this test runs after the matrix)."""
    w = world
    phases = {}
    for key, review_id in w.reviews.items():
        secretariat = w.accounts[SECRETARIAT_OF[REGION_OF[key]]]
        phases[key] = (await call(api, "GET", f"/v1/reviews/{review_id}", secretariat))["phase"]
    assert phases == {
        "ece": "consultation",
        "throw": "consultation",
        "pub": "published",
        "appr": "approval",
        "eca": "consultation",
    }
    hooks = await call(api, "GET", "/v1/webhooks", w.accounts["sec_ece"])
    assert w.hooks["sec_ece"] in {h["id"] for h in hooks["items"]}
    beta = await call(api, "GET", f"/v1/tasks/{w.tasks['ece:BETA']}", w.accounts["stk_b"])
    assert beta["response"] == w.contents["ece:BETA:answer"]
    kappa = await call(api, "GET", f"/v1/tasks/{w.tasks['eca:KAPPA']}", w.accounts["sec_eca"])
    assert (kappa["status"], kappa["assignee"]) == ("open", w.id_of("stk_k"))
    for name in ("ece:DEU", "ece:FRA", "ece:ALPHA", "ece:BETA"):
        read = await call(
            api, "GET", f"/v1/submissions/{w.submissions[name]}", w.accounts["sec_ece"]
        )
        assert read["content"] == w.contents[name], name
        owner = w.id_of(PARTIES[name.split(":")[1]])
        for version in read["versions"]:  # the owner's resubmissions only
            got = await call(
                api,
                "GET",
                f"/v1/submissions/{w.submissions[name]}?version={version['version']}",
                w.accounts["sec_ece"],
            )
            assert got["submitted_by"] == owner, (name, version)
