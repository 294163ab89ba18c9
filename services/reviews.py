"""Reviews' use cases: create one (starting its workflow), list and read them, read a review's
audit trail, and the secretariat's commands (extend a deadline, advance, cancel)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg

from db.actors import (
    active_stakeholders,
    invited_stakeholders,
    region_stakeholders,
    stakeholders_by_email,
    uninvited_stakeholders,
)
from db.approvals import region_candidates
from db.events import EventFilter, events_after, insert_event, trail_actors
from db.reviews import (
    add_invited,
    describe,
    list_reviews,
    lock_invited,
    newest_reviews,
    replace_member_states,
    set_cycle,
    set_report_languages,
    submission_progress,
    visible_review,
)
from db.tasks import task_progress
from domain.access import MAY_APPROVE, Actor, runs_review
from domain.canonical import json_hash
from domain.cycles import cycle_problem
from domain.deadlines import country_scope_refusals, schedule_problem
from domain.events import EventType, ReviewEvent
from domain.reference import load_reference
from domain.review import (
    Deadline,
    Escalation,
    Extension,
    LatePolicy,
    Phase,
    ReviewConfig,
    Timeline,
)
from i18n import N_, gettext
from services import once
from services.approvals import change_approvers, checked_approvers
from services.engine import Deps
from services.once import Created
from services.refusals import (
    Kind,
    Refused,
    at_most_characters,
    conflict,
    forbidden,
    invalid,
    not_found,
    pointer,
    unavailable,
)

DEFAULT_REMINDER_DAYS = [14, 7, 1]
TASK_STATUSES = ("open", "completed", "expired", "cancelled")
# How long a create waits for the workflow to write the review's row before asking for a retry.
ROW_WAIT_S = 10.0


# Who alone does what, as the pages and the API name it, said whole in each language.
_ONLY_THE_SECRETARIAT = {
    "may do this": N_("Only the review's secretariat may do this."),
    "may change it": N_("Only the review's secretariat may change it."),
    "may change its title or description": N_(
        "Only the review's secretariat may change its title or description."
    ),
    "exports its data": N_("Only the review's secretariat exports its data."),
    "invites stakeholders to it": N_("Only the review's secretariat invites stakeholders to it."),
    "reads its answers": N_("Only the review's secretariat reads its answers."),
    "reads its audit trail": N_("Only the review's secretariat reads its audit trail."),
    "reads its consultation's answers": N_(
        "Only the review's secretariat reads its consultation's answers."
    ),
    "reads its submissions": N_("Only the review's secretariat reads its submissions."),
    "reads its submissions' table": N_(
        "Only the review's secretariat reads its submissions' table."
    ),
    "reminds those who have not acted": N_(
        "Only the review's secretariat reminds those who have not acted."
    ),
    "writes to its participants": N_("Only the review's secretariat writes to its participants."),
}


def _only_the_secretariat(doing: str) -> str:
    sentence = _ONLY_THE_SECRETARIAT.get(doing)
    return gettext(sentence) if sentence else f"Only the review's secretariat {doing}."


def _not_your_region(region: str) -> str:
    return gettext("%(region)s is not one of your regions.") % {"region": region}


def _not_a_member(code: str) -> str:
    return gettext("%(country)s is not a member of any regional commission") % {"country": code}


# ---- input ----------------------------------------------------------------------------------


def parse_instant(value: str, pointer: str, problems: list[tuple[str, str]]) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        problems.append((pointer, gettext("must be a date and time such as 2020-10-26T23:59:59Z")))
        return None
    if parsed.tzinfo is None:
        problems.append((pointer, gettext("must include a UTC offset, such as Z or +01:00")))
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        problems.append((pointer, gettext("must be a date between the years 1 and 9999")))
        return None


def _future_instant(value: str, pointer: str, problems: list[tuple[str, str]]) -> datetime | None:
    instant = parse_instant(value, pointer, problems)
    if instant is not None and (problem := schedule_problem(instant, datetime.now(UTC))):
        problems.append((pointer, problem))
    return instant


def _timeline(body: dict[str, Any], problems: list[tuple[str, str]]) -> Timeline | None:
    values = {
        name: _future_instant(body["timeline"][name], f"/timeline/{name}", problems)
        for name in Deadline
    }
    if any(value is None for value in values.values()):
        return None
    timeline = Timeline(**values)  # type: ignore[arg-type]
    problems.extend((f"/timeline/{deadline.value}", why) for deadline, why in timeline.problems())
    return timeline


async def _invited_stakeholders(
    pool: asyncpg.Pool, body: dict[str, Any], problems: list[tuple[str, str]]
) -> list[uuid.UUID] | None:
    invited = body.get("stakeholders", "open")
    if invited == "open":
        return None
    # Only active stakeholders of the review's region; any other id, an account or not, gets
    # the same answer, so the list cannot be used to find out which ids are accounts.
    found = await active_stakeholders(pool, [uuid.UUID(s) for s in invited], body["region"])
    known = {str(found_id) for found_id in found}
    problems.extend(
        (f"/stakeholders/{i}", gettext("is not a stakeholder account of this region"))
        for i, s in enumerate(invited)
        if s not in known
    )
    return [uuid.UUID(s) for s in invited]


def _member_states(body: dict[str, Any], problems: list[tuple[str, str]]) -> list[str]:
    reference = load_reference()
    region = reference.region(body["region"])
    assert region is not None  # the schema allows only known regions
    states = body.get("member_states") or list(region.default_scope)
    problems.extend(
        (f"/member_states/{i}", _not_a_member(code))
        for i, code in enumerate(states)
        if reference.country_name(code) is None
    )
    return states


# ---- documents ------------------------------------------------------------------------------


def _review_document(
    row: asyncpg.Record,
    viewer: Actor,
    progress: list[asyncpg.Record] | None = None,
    tasks: list[asyncpg.Record] | None = None,
) -> dict[str, Any]:
    """The review as `viewer` may see it. Who was given more time and who was invited is the
    secretariat's business (a focal point sees its own State's extension); `progress` and
    `tasks` are passed only for the secretariat."""
    runs = runs_review(viewer, row["region"])
    extensions = row["country_extensions"]
    if not runs:
        extensions = {c: u for c, u in extensions.items() if c == viewer.country}
    invited = row["stakeholders"]
    document: dict[str, Any] = {
        "id": row["id"],
        "region": row["region"],
        "title": row["title"],
        "description": row["description"],
        "report_languages": list(row["report_languages"]),
        "cycle": row["cycle"],
        "phase": row["phase"],
        "member_states": row["member_states"],
        "timeline": row["timeline"],
        "deadlines": row["deadlines"],
        "country_extensions": extensions,
        "reminder_days": row["reminder_days"],
        "late_submissions": row["late_submissions"],
        "consult_focal_points": row["consult_focal_points"],
        "reminders_optional": row["reminders_optional"],
        "schema_versions": row["schema_versions"],
        "escalation": row["escalation"],
        "stakeholders": "open"
        if invited is None
        else ([str(s) for s in invited] if runs else "invited"),
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    if progress is not None:
        reported = {p["subject"] for p in progress if p["kind"] == "national_report"}
        states = row["member_states"]
        document["progress"] = {
            "member_states_total": len(states),
            "national_reports": sum(1 for s in states if s in reported),
            "missing": [s for s in states if s not in reported],
            "stakeholder_inputs": sum(1 for p in progress if p["kind"] == "stakeholder_input"),
            "late": sum(1 for p in progress if p["late"]),
            "tasks": task_counts(tasks or []),
        }
    return document


def task_counts(rows: list[asyncpg.Record]) -> dict[str, Any]:
    """Tasks by status, and the response rate overall and per stakeholder category."""
    by_status: dict[str, int] = dict.fromkeys(TASK_STATUSES, 0)
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: {"total": 0, "completed": 0})
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_category[row["category"]]["total"] += row["n"]
        if row["status"] == "completed":
            by_category[row["category"]]["completed"] += row["n"]
    total = sum(by_status.values())
    return {
        **by_status,
        "total": total,
        "response_rate": round(by_status["completed"] / total, 4) if total else None,
        "by_category": {
            category: {**counts, "response_rate": round(counts["completed"] / counts["total"], 4)}
            for category, counts in sorted(by_category.items())
        },
    }


# ---- read -------------------------------------------------------------------------------------


def _cursor(row: asyncpg.Record) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        created_at, _, review_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        # In UTC, as this API gives them out: a forged instant must not reach the database.
        return datetime.fromisoformat(created_at).astimezone(UTC), review_id
    except (ValueError, OverflowError):
        raise invalid([("/cursor", gettext("is not a cursor this API gave out"))]) from None


async def review_page(
    deps: Deps,
    actor: Actor,
    *,
    region: str | None,
    phase: str | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the reviews `actor` may see, oldest first, each without its progress; from
    after `cursor` (the `next_cursor` of the page before) on."""
    if phase is not None and phase not in {p.value for p in Phase}:
        choices = ", ".join(p.value for p in Phase)
        raise invalid([("/phase", gettext("must be one of: %(choices)s") % {"choices": choices})])
    if region is not None and load_reference().region(region) is None:
        raise invalid(
            [
                (
                    "/region",
                    gettext("must be one of: %(choices)s")
                    % {"choices": "ECE, ECA, ECLAC, ESCAP, ESCWA"},
                )
            ]
        )
    rows = await list_reviews(
        deps.pool, actor, region=region, phase=phase, after=_after(cursor), limit=limit + 1
    )
    page = rows[:limit]
    return {
        "items": [_review_document(row, actor) for row in page],
        "next_cursor": _cursor(page[-1]) if len(rows) > limit else None,
    }


async def visible(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's row, if `actor` may see it; the same refusal for one that does not exist."""
    row = await visible_review(deps.pool, actor, review_id)
    if row is None:
        raise _no_such_review(review_id)
    return row


def _no_such_review(review_id: str) -> Refused:
    return not_found(gettext("There is no review %(id)s you may see.") % {"id": repr(review_id)})


async def run_or_unseen(deps: Deps, actor: Actor, review_id: str) -> asyncpg.Record:
    """The review's row, if `actor` is its secretariat; for anyone else, the refusal of a
    review that does not exist (what is only for those who run a review is not shown to be
    there)."""
    row = await visible_review(deps.pool, actor, review_id)
    if row is None or not runs_review(actor, row["region"]):
        raise _no_such_review(review_id)
    return row


async def review_document(deps: Deps, actor: Actor, review_id: str) -> dict[str, Any]:
    """The review as `actor` may see it, with its progress for its secretariat."""
    row = await visible(deps, actor, review_id)
    if not runs_review(actor, row["region"]):
        return _review_document(row, actor)
    progress = await submission_progress(deps.pool, review_id)
    tasks = await task_progress(deps.pool, review_id)
    return _review_document(row, actor, progress, tasks)


async def event_page(
    deps: Deps,
    review: asyncpg.Record,
    after: int,
    limit: int,
    only: EventFilter | None = None,
) -> dict[str, Any]:
    """At most `limit` events of the review's audit trail, in order, after the `seq` `after`,
    those `only` lets through."""
    items = await events_after(deps.pool, review["id"], after, limit, only)
    return {"items": items, "next_after": items[-1]["seq"] if len(items) == limit else None}


def event_filter(asked: Mapping[str, str]) -> EventFilter:
    """The filter of a trail the query `asked` names (`type`, `actor`, `from`, `to`: an event
    type, an account id, instants with their offset); every value that is not one, named."""
    problems: list[tuple[str, str]] = []
    kind = asked.get("type") or None
    if kind is not None and kind not in {t.value for t in EventType}:
        problems.append(("/type", gettext("must be one of the event types")))
    actor_id = None
    if asked.get("actor"):
        try:
            actor_id = uuid.UUID(asked["actor"])
        except ValueError:
            problems.append(("/actor", gettext("must be an account id (a UUID)")))
    since, until = (_instant_with_offset(asked, name, problems) for name in ("from", "to"))
    if since and until and since > until:
        problems.append(("/to", gettext("must not be before from")))
    if problems:
        raise invalid(problems)
    return EventFilter(kind, actor_id, since, until)


def _instant_with_offset(
    asked: Mapping[str, str], name: str, problems: list[tuple[str, str]]
) -> datetime | None:
    text = asked.get(name)
    if not text:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        problems.append(
            (f"/{name}", gettext("must be a date-time with its offset, as in RFC 3339"))
        )
        return None
    return instant


async def event_actors(deps: Deps, review: asyncpg.Record) -> list[asyncpg.Record]:
    """Those who acted in the review's trail (id, name), to filter it by."""
    return await trail_actors(deps.pool, review["id"])


async def run_by(
    deps: Deps, actor: Actor, review_id: str, doing: str = "may do this"
) -> asyncpg.Record:
    """The review's row, if `actor` is its secretariat (the only one who `doing`)."""
    row = await visible(deps, actor, review_id)
    if not runs_review(actor, row["region"]):
        raise forbidden(_only_the_secretariat(doing))
    return row


# ---- create ---------------------------------------------------------------------------------


async def _new_config(deps: Deps, actor: Actor, body: Any, key: str | None) -> ReviewConfig:
    """The review `body` (valid by the NewReview schema) asks for."""
    if actor.role == "secretariat" and body["region"] not in actor.regions:
        raise forbidden(_not_your_region(body["region"]))
    problems: list[tuple[str, str]] = []
    prefix = f"{body['region'].lower()}-"
    if "id" in body and not body["id"].startswith(prefix):
        # Ids are one namespace: a region's prefix keeps others from taking, or probing for,
        # the ids of a region that is not theirs.
        problems.append(
            (
                "/id",
                gettext("must begin with %(prefix)s, the region's code, as in %(prefix)s2024")
                % {"prefix": prefix},
            )
        )
    if "cycle" in body and (problem := cycle_problem(body["cycle"])) is not None:
        problems.append(("/cycle", gettext(problem)))
    timeline = _timeline(body, problems)
    member_states = _member_states(body, problems)
    stakeholders = await _invited_stakeholders(deps.pool, body, problems)
    approvers = await checked_approvers(deps.pool, body, problems)
    if problems or timeline is None:
        raise invalid(problems)
    escalation = body.get("escalation")
    return ReviewConfig(
        review_id=body.get("id") or _new_review_id(body["region"], actor, key),
        region=body["region"],
        title=body["title"],
        member_states=member_states,
        timeline=timeline,
        reminder_days=sorted(body.get("reminder_days", DEFAULT_REMINDER_DAYS), reverse=True),
        late_submissions=LatePolicy(body.get("late_submissions", LatePolicy.ACCEPT_FLAGGED)),
        created_by=str(actor.id),
        consult_focal_points=body.get("consult_focal_points", False),
        escalation=Escalation(**escalation) if escalation else None,
        stakeholders=None if stakeholders is None else [str(s) for s in stakeholders],
        reminders_optional=body.get("reminders_optional", False),
        approvers=approvers,
    )


def _new_review_id(region: str, actor: Actor, key: str | None) -> str:
    """An id for a review whose body names none: derived from the Idempotency-Key when there
    is one, so every retry of the request starts (or finds) the same workflow, whenever it
    comes; else 64 random bits, too many to guess."""
    suffix = (
        hashlib.sha256(f"{actor.id}:{key}".encode()).hexdigest()[:16]
        if key is not None
        else secrets.token_hex(8)
    )
    return f"{region.lower()}-{suffix}"


NEW_REVIEW_ADDRESS = "/v1/reviews"


async def create_review(
    deps: Deps, actor: Actor, body: dict[str, Any], key: str | None
) -> dict[str, Any]:
    """Start the review's workflow, which writes the review's row; the review as created.

    Nothing happens inside a database transaction: the workflow id is deterministic, a start
    finds the workflow a retry of the same request started (its memo holds the request's
    fingerprint), and the answer is recorded under the key only afterwards.
    """
    if actor.role not in ("secretariat", "admin"):
        raise forbidden(
            gettext("This needs one of the roles: %(roles)s.") % {"roles": "secretariat, admin"}
        )
    request = once.fingerprint("POST", NEW_REVIEW_ADDRESS, body)
    if key is not None and (stored := await once.replayed(deps.pool, actor, key, request)):
        return stored.body
    config = await _new_config(deps, actor, body, key)
    creation = json_hash([str(actor.id), request.value])
    started_by = await deps.reviews.start(config, creation)
    # A workflow started by this request before hashes were RFC 8785 holds the earlier mark.
    if started_by not in (creation, json_hash([str(actor.id), request.earlier()])):
        if key is not None and "id" not in body:
            raise once.key_reused()  # the id comes from the key: the key was reused
        raise conflict(
            gettext("A review with id %(id)s already exists.") % {"id": repr(config.review_id)}
        )
    created = Created(201, await _created_review(deps, actor, config.review_id, body))
    if key is None:
        return created.body
    return (await once.recorded(deps.pool, actor, key, request, created)).body


async def _created_review(
    deps: Deps, actor: Actor, review_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The new review's document, once its workflow has written its row, and its description
    and report's languages written there (the row alone holds them: see `describe_review`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ROW_WAIT_S
    while (row := await visible_review(deps.pool, actor, review_id)) is None:
        if loop.time() > deadline:
            raise unavailable(
                gettext("The review is being created; send the same request again shortly."),
                retry_after_s=2,
            )
        await asyncio.sleep(0.05)
    description, languages = body.get("description"), body.get("report_languages")
    if description:
        await describe(deps.pool, review_id, {"description": description})
    if languages:
        await set_report_languages(deps.pool, review_id, languages)
    if cycle := body.get("cycle"):
        await set_cycle(deps.pool, review_id, cycle)
    if description or languages or cycle:
        row = await visible_review(deps.pool, actor, review_id)
        assert row is not None  # reviews are never deleted
    return _review_document(row, actor, [])


async def describe_review(
    deps: Deps, actor: Actor, review_id: str, changes: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    """Change the review's title, description, its report's languages and/or its report's
    approvers (`changes`, valid by the ReviewText schema); the review as it is afterwards.

    The review's row is where pages, messages and the report read them, so it is the one place
    they change: the workflow keeps the title it was created with for its `review.created`
    event only. Sending the same change again changes nothing. The languages change only until
    a version of the report is compiled (its versions are all in the same languages): after,
    nothing changes and the request is refused.
    """
    row = await run_by(deps, actor, review_id, "may change its title or description")
    if "approvers" in changes:
        # First: refused once the approval has begun, and then nothing else changes.
        await change_approvers(deps, actor, row, changes["approvers"], key)
    languages = changes.get("report_languages")
    if languages is not None and not await set_report_languages(deps.pool, review_id, languages):
        message = gettext(
            "The report's languages can no longer change: a version of it is compiled."
        )
        raise Refused(Kind.CONFLICT, message, [("/report_languages", message)])
    texts = {k: v for k, v in changes.items() if k in ("title", "description")}
    if texts:
        await describe(deps.pool, review_id, texts)
    return await review_document(deps, actor, review_id)


# ---- the secretariat's console ------------------------------------------------------------

# The most reviews the console lists: a region holds a few a year.
CONSOLE_LIMIT = 500


def _runs_console(actor: Actor) -> None:
    if actor.role not in ("secretariat", "admin"):
        raise forbidden(
            gettext("This needs one of the roles: %(roles)s.") % {"roles": "secretariat, admin"}
        )


async def newest_first(deps: Deps, actor: Actor) -> list[asyncpg.Record]:
    """The reviews of the secretariat's regions (every review, for an admin), newest first,
    each with its count of submissions sent."""
    _runs_console(actor)
    return await newest_reviews(deps.pool, actor, CONSOLE_LIMIT)


def creatable_regions(actor: Actor) -> list[str]:
    """The regions `actor` may create reviews of."""
    _runs_console(actor)
    codes = [region.code for region in load_reference().regions]
    return codes if actor.role == "admin" else [c for c in codes if c in actor.regions]


def _runs_region(actor: Actor, region: str) -> None:
    if region not in creatable_regions(actor):
        raise forbidden(_not_your_region(region))


async def stakeholders_to_invite(
    deps: Deps, actor: Actor, region: str, limit: int
) -> list[asyncpg.Record]:
    """The active stakeholder accounts of `region` a new review of it may invite."""
    _runs_region(actor, region)
    return await region_stakeholders(deps.pool, region, limit)


async def approvers_to_name(
    deps: Deps, actor: Actor, region: str, limit: int
) -> list[asyncpg.Record]:
    """The active accounts of `region` a review of it may name as its report's approvers."""
    _runs_region(actor, region)
    return await region_candidates(deps.pool, region, list(MAY_APPROVE), limit)


async def stakeholders_with_emails(
    deps: Deps, actor: Actor, region: str, emails: list[str]
) -> dict[str, list[uuid.UUID]]:
    """The active stakeholder accounts of `region` with each of `emails` (lower case), for
    those found (several people may share an address)."""
    _runs_region(actor, region)
    found: dict[str, list[uuid.UUID]] = defaultdict(list)
    for row in await stakeholders_by_email(deps.pool, region, emails):
        found[row["email"]].append(row["id"])
    return found


# ---- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A command to a review, as the secretariat sent it: the review's id, the body (valid by
    the command's schema) and the Idempotency-Key, if any."""

    review_id: str
    body: dict[str, Any]
    key: str | None

    def address(self, name: str) -> str:
        """Where the command `name` is sent in the JSON API: it names the command in its
        idempotency record and Update id, so that requests made before keep theirs."""
        return f"/v1/reviews/{self.review_id}/{name}"

    def update_id(self, name: str, actor: Actor) -> str:
        """The id of the workflow Update that runs the command `name`: stable across retries
        of one request (with its key), else new."""
        key = self.key
        return f"{self.address(name)}:{actor.id}:{key}" if key else str(uuid.uuid4())


# A command, once its sender is known to run the review: given the review's row, its answer.
Run = Callable[[asyncpg.Record], Awaitable[Created]]
# Who may run a command, checked before it is run: the review's row, or a refusal.
Authorised = Callable[[Deps, Actor, str], Awaitable[asyncpg.Record]]
# A command to the review's workflow, given the review's row and the command's Update id.
Act = Callable[[asyncpg.Record, str], Awaitable[None]]


async def command_once(
    deps: Deps,
    actor: Actor,
    command: Command,
    name: str,
    run: Run,
    authorised: Authorised | None = None,
) -> dict[str, Any]:
    """Run a command of the review's secretariat (or of those `authorised` lets, given the
    review's row) once per key: `run` gets the review's row, and its answer is the answer to
    every retry of the request."""
    row = await (authorised or run_by)(deps, actor, command.review_id)
    request = once.fingerprint("POST", command.address(name), command.body)
    return (
        await once.answered_once(deps.pool, actor, command.key, request, partial(run, row))
    ).body


async def _review_command(
    deps: Deps, actor: Actor, command: Command, name: str, act: Act
) -> dict[str, Any]:
    """Run a command of the review's workflow once per key (`act` gets the review's row and
    the command's Update id, stable across retries of one request); the review as it is
    afterwards."""
    update_id = command.update_id(name, actor)

    async def run(row: asyncpg.Record) -> Created:
        await act(row, update_id)
        return Created(200, await review_document(deps, actor, command.review_id))

    return await command_once(deps, actor, command, name, run)


async def extend(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Move a deadline later, for the whole review or for one member State (`country`)."""
    body = command.body

    async def act(row: asyncpg.Record, update_id: str) -> None:
        problems: list[tuple[str, str]] = []
        until = _future_instant(body["until"], "/until", problems)
        country = body.get("country")
        if country is not None:
            # Checked here too, with every problem named at once; the workflow decides the rest.
            problems.extend(
                (pointer(refusal.field), refusal.message)
                for refusal in country_scope_refusals(
                    Deadline(body["deadline"]), country, row["member_states"]
                )
            )
        if problems or until is None:
            raise invalid(problems)
        extension = Extension(
            Deadline(body["deadline"]), until, body["reason"], str(actor.id), country
        )
        await deps.reviews.extend(command.review_id, extension, update_id=update_id)

    return await _review_command(deps, actor, command, "extensions", act)


async def _with_reason(
    deps: Deps, actor: Actor, command: Command, name: str, send: Callable[..., Awaitable[None]]
) -> dict[str, Any]:
    """A command of the review's workflow whose body holds only an optional reason."""

    async def act(_: asyncpg.Record, update_id: str) -> None:
        reason = command.body.get("reason")
        await send(command.review_id, actor_id=str(actor.id), reason=reason, update_id=update_id)

    return await _review_command(deps, actor, command, name, act)


async def advance(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Close the review's current phase now."""
    return await _with_reason(deps, actor, command, "advance", deps.reviews.advance)


async def cancel(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """End the review without a report."""
    return await _with_reason(deps, actor, command, "cancel", deps.reviews.cancel)


OPEN_TO_ALL = N_(
    "This review is open to every stakeholder of its region: they are all invited already."
)
ENDED = N_("The review has ended: nobody can be invited to it.")
# The longest search for stakeholders by organisation or name.
MAX_QUERY = 200


def closed_to_invitations(row: asyncpg.Record) -> str | None:
    """Why nobody can be invited to the review, if so."""
    if row["stakeholders"] is None:
        return gettext(OPEN_TO_ALL)
    if Phase(row["phase"]).terminal:
        return gettext(ENDED)
    return None


def _unknown_states(codes: list[str]) -> list[tuple[str, str]]:
    reference = load_reference()
    return [
        (f"/member_states/{i}", _not_a_member(code))
        for i, code in enumerate(codes)
        if reference.country_name(code) is None
    ]


async def invite(deps: Deps, actor: Actor, command: Command) -> dict[str, Any]:
    """Add member States and/or stakeholders of the review's region to it. Each State added
    joins the review's workflow (it may submit, is reminded and counted) and its focal points
    are mailed an invitation (the event `member_states.invited`); each stakeholder added is
    mailed one (`stakeholders.invited`). Those invited before are left as they are, so sending
    the same lists again changes nothing and mails nobody."""
    key = command.key
    update_id = f"{command.address('invitations')}:{actor.id}:{key}" if key else str(uuid.uuid4())

    async def run(row: asyncpg.Record) -> Created:
        states: list[str] = command.body.get("member_states", [])
        stakeholders: list[str] = command.body.get("stakeholders", [])
        problems = _unknown_states(states)
        invited: list[uuid.UUID] = []
        if stakeholders:
            if why := closed_to_invitations(row):
                raise conflict(why)
            body = {"stakeholders": stakeholders, "region": row["region"]}
            invited = await _invited_stakeholders(deps.pool, body, problems) or []
        if problems:
            raise invalid(problems)
        # The workflow first: it refuses States once inputs are closed, and then nothing is added.
        states_added = (
            await _add_states(deps, actor, row["id"], states, update_id) if states else []
        )
        added = await _add_invited(deps.pool, actor, command.review_id, invited) if invited else []
        answer: dict[str, Any] = {
            "invited": [str(s) for s in added],
            "already_invited": [str(s) for s in invited if s not in added],
        }
        if states:
            answer["member_states_invited"] = states_added
            answer["member_states_already_invited"] = [c for c in states if c not in states_added]
        return Created(200, answer)

    return await command_once(deps, actor, command, "invitations", run)


async def _add_states(
    deps: Deps, actor: Actor, review_id: str, states: list[str], update_id: str
) -> list[str]:
    """Those of `states` not yet the review's member States, added to its workflow, then to its
    row and recorded, in one transaction (a retry finds the workflow's answer unchanged)."""
    members = await deps.reviews.add_member_states(review_id, states, update_id=update_id)
    async with deps.pool.acquire() as conn, conn.transaction():
        before = set(await replace_member_states(conn, review_id, members))
        added = [c for c in states if c not in before]
        if added:
            event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{review_id}:states:{','.join(added)}")
            event = ReviewEvent(
                str(event_id),
                review_id,
                EventType.MEMBER_STATES_INVITED,
                datetime.now(UTC),
                str(actor.id),
                {"countries": added},
            )
            await insert_event(conn, event)
    return added


async def _add_invited(
    pool: asyncpg.Pool, actor: Actor, review_id: str, invited: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Those of `invited` not yet on the review's list, added to it and recorded, in one
    transaction."""
    async with pool.acquire() as conn, conn.transaction():
        before = set(await lock_invited(conn, review_id) or ())
        added = [s for s in invited if s not in before]
        if added:
            await add_invited(conn, review_id, added)
            names = ",".join(sorted(str(s) for s in added))
            event_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{review_id}:invited:{names}")
            event = ReviewEvent(
                str(event_id),
                review_id,
                EventType.STAKEHOLDERS_INVITED,
                datetime.now(UTC),
                str(actor.id),
                {"stakeholders": [str(s) for s in added]},
            )
            await insert_event(conn, event)
    return added


@dataclass(frozen=True)
class Stakeholders:
    """A page of stakeholder accounts, by organisation then name; `next_after` continues it."""

    items: list[asyncpg.Record]
    next_after: str | None


@dataclass(frozen=True)
class Invitable:
    """What the review's secretariat chooses from to invite more stakeholders: who is invited
    and who may be, a page of each; when nobody can be, why (`closed`) and no one to pick."""

    review: asyncpg.Record
    closed: str | None
    invited: Stakeholders
    uninvited: Stakeholders


def _account_id(value: str | None, name: str, problems: list[tuple[str, str]]) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        problems.append((f"/{name}", gettext("is not a place in the list this service gave out")))
        return None


def search_text(query: str | None, problems: list[tuple[str, str]]) -> str | None:
    query = (query or "").strip()
    if len(query) > MAX_QUERY:
        problems.append(("/q", at_most_characters(MAX_QUERY)))
    elif not query.isprintable():  # a control character, or one no database text may hold
        problems.append(("/q", gettext("must hold only letters, digits, spaces and punctuation")))
    return query or None


async def _stakeholder_page(
    fetch: Callable[[int], Awaitable[list[asyncpg.Record]]], limit: int
) -> Stakeholders:
    rows = await fetch(limit + 1)
    items = rows[:limit]
    return Stakeholders(items, str(items[-1]["id"]) if len(rows) > limit else None)


async def invitable_stakeholders(
    deps: Deps,
    actor: Actor,
    review_id: str,
    *,
    query: str | None,
    after: str | None,
    invited_after: str | None,
    limit: int,
) -> Invitable:
    """For the review's secretariat: a page of the stakeholders it invited, and a page of the
    active stakeholder accounts of its region it has not, whose organisation or name holds
    `query` (in any case); each from after the account its `after` names."""
    row = await run_by(deps, actor, review_id, "invites stakeholders to it")
    problems: list[tuple[str, str]] = []
    search = search_text(query, problems)
    start = _account_id(after, "after", problems)
    invited_start = _account_id(invited_after, "invited_after", problems)
    if problems:
        raise invalid(problems)
    closed = closed_to_invitations(row)
    nobody = Stakeholders([], None)
    invited = nobody
    if row["stakeholders"] is not None:
        invited = await _stakeholder_page(
            partial(invited_stakeholders, deps.pool, review_id, invited_start), limit
        )
    uninvited = nobody
    if closed is None:
        uninvited = await _stakeholder_page(
            partial(uninvited_stakeholders, deps.pool, review_id, row["region"], search, start),
            limit,
        )
    return Invitable(row, closed, invited, uninvited)
