"""Importing accounts from a CSV file: each row an account, matched by its email address among
the accounts the importer manages. A preview says of each row whether it is new, unchanged or
updated, or what is wrong with it (row, column, message); applying it creates and updates in
one transaction, so that a file applied twice creates nothing the second time.

The columns, in any order: name, email, organisation, category, country, role, and language
and regions (optional). A new account is made by the rules of `POST /v1/actors`
(`services.accounts.new_actor`), and gets the same invitation mail. An import changes an
existing account's name, organisation, category and language (as
`services.people.apply_changes` does), never its role or country."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import asyncpg

from db.actors import insert_actor, joinable_organisation, new_token, record_account_event
from db.people import (
    Person,
    forget_import,
    keep_import,
    kept_import,
    lock_imports_of,
    managed_by_email,
)
from db.pool import Executor
from domain.access import ROLES, Actor, creation_refusal
from i18n import gettext
from services.accounts import new_actor
from services.people import NOT_YOUR_ORGANISATION, apply_changes, edit_problems, manager_scope
from services.refusals import Kind, Refused, invalid, named_id, not_found

COLUMNS = ("name", "email", "organisation", "category", "country", "role", "language", "regions")
REQUIRED = ("name", "email", "role")
MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
# How long an upload waits for its confirmation.
KEPT_FOR = timedelta(hours=2)
EXAMPLE = (
    "name,email,organisation,category,country,role\r\n"
    "Amal Haddad,amal.haddad@example.org,Diaspora Council,diaspora_migrant_organisations,,"
    "stakeholder\r\n"
    "Boris Petrov,boris.petrov@example.org,Workers Union,trade_unions,,stakeholder\r\n"
    "Clara Weiss,clara.weiss@example.org,,,DEU,focal_point\r\n"
    "Dana Novak,dana.novak@example.org,,,,observer\r\n"
)
# The request body of an import, as the API describes it.
ACCOUNTS_CSV: dict[str, Any] = {
    "type": "string",
    "description": "UTF-8 CSV whose first row names the columns, in any order: "
    + ", ".join(COLUMNS)
    + f" ({', '.join(REQUIRED)} required in every row); at most {MAX_ROWS} rows and"
    f" {MAX_BYTES // 1_000_000} MB. `category` is a stakeholder's category, `country` an"
    " ISO3 code (a focal point's), `language` one of the six UN languages (ISO 639-1),"
    ' `regions` the region codes of an approver, separated by semicolons ("ECE;ESCAP").',
}
# The column each field of an account comes from, by its pointer in `POST /v1/actors`.
_COLUMN_OF = {
    "/name": "name",
    "/email": "email",
    "/role": "role",
    "/country": "country",
    "/regions": "regions",
    "/organisation": "organisation",
    "/stakeholder_category": "category",
    "/language": "language",
    "": "role",
}


@dataclass(frozen=True)
class RowError:
    column: str
    message: str


@dataclass
class Row:
    """One row of the file: its number as a spreadsheet shows it (the header is row 1), the
    values given, and what importing it does."""

    number: int
    values: dict[str, str]
    status: str = "new"  # new, unchanged, updated, or error
    errors: list[RowError] = field(default_factory=list)
    changes: dict[str, str] = field(default_factory=dict)
    existing: Actor | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "email": self.values.get("email", ""),
            "name": self.values.get("name", ""),
            "status": self.status,
            "changes": sorted(self.changes),
            "errors": [{"column": e.column, "message": e.message} for e in self.errors],
        }


@dataclass(frozen=True)
class Outcome:
    """What a preview shows or an import did, and the accounts it created (to be invited)."""

    rows: list[Row]
    applied: bool
    created: list[Actor] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    def as_json(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "counts": {s: self.count(s) for s in ("new", "updated", "unchanged", "error")},
            "rows": [row.as_json() for row in self.rows],
        }


def _file_problem(message: str) -> Refused:
    return invalid([("", message)], message)


def _text(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise _file_problem(
            gettext("The file is larger than %(megabytes)d MB: split it.")
            % {"megabytes": MAX_BYTES // 1_000_000}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_problem(gettext("The file is not UTF-8 text: save it as CSV UTF-8.")) from None
    if "\x00" in text:
        raise _file_problem(gettext("The file is not a CSV file."))
    return text


def _records(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The file's rows by their number, each with a value for every column; blank rows skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error:
        raise _file_problem(gettext("The file's first row is not CSV.")) from None
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if not header or unknown or missing or len(set(header)) != len(header):
        raise _file_problem(
            gettext("The first row must name the columns: %(columns)s (in any order).")
            % {"columns": ", ".join(COLUMNS)}
        )
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if reader.line_num - 1 > MAX_ROWS:
                raise _file_problem(
                    gettext("The file has more than %(rows)d rows: split it.") % {"rows": MAX_ROWS}
                )
            values = dict.fromkeys(COLUMNS, "") | {
                name: cell.strip() for name, cell in zip(header, cells, strict=False)
            }
            yield reader.line_num, values
    except csv.Error as error:
        raise _file_problem(
            gettext("Row %(row)d is not CSV: %(error)s.") % {"row": reader.line_num, "error": error}
        ) from None


def read_rows(raw: bytes) -> list[Row]:
    """The rows of an uploaded file; the whole file refused (pointer "") when it is not a CSV
    file with the columns, or is too large."""
    rows = [Row(number, values) for number, values in _records(_text(raw))]
    if not rows:
        raise _file_problem(gettext("The file has no rows under its first."))
    return rows


def _body(values: dict[str, str]) -> dict[str, Any]:
    """The row as the body of `POST /v1/actors`."""
    named = {
        "name": values["name"],
        "email": values["email"],
        "role": values["role"],
        "organisation": values["organisation"],
        "stakeholder_category": values["category"],
        "country": values["country"].upper(),
        "language": values["language"].lower(),
        "regions": [code.strip().upper() for code in values["regions"].split(";") if code.strip()],
    }
    return {key: value for key, value in named.items() if value}


def _check_new(creator: Actor, row: Row) -> Actor | None:
    """The account the row would create, or None with the row's errors set."""
    body = _body(row.values)
    if not row.values["email"]:
        row.errors.append(
            RowError("email", gettext("Enter an email address: accounts are matched by it."))
        )
    role = row.values["role"]
    if role in ROLES and (refusal := creation_refusal(creator, role, ())):
        row.errors.append(RowError("role", refusal.message))
        return None
    try:
        actor = new_actor(creator, body)
    except Refused as refused:
        if refused.kind is Kind.INVALID:
            row.errors += [
                RowError(_COLUMN_OF.get(pointer, "role"), message)
                for pointer, message in refused.problems
            ]
        elif not row.errors:  # a secretariat naming a State or region outside its regions
            column = "regions" if row.values["regions"] else "country"
            row.errors.append(RowError(column, refused.message))
        return None
    return None if row.errors else actor


def _compare(row: Row, existing: Person) -> None:
    """Set the row's status against the account of its address."""
    current = existing.actor
    row.existing = current
    if row.values["role"] != current.role:
        row.errors.append(
            RowError(
                "role",
                gettext("The account is a %(role)s: an import does not change roles.")
                % {"role": current.role},
            )
        )
    country = row.values["country"].upper()
    if country and country != (current.country or ""):
        row.errors.append(
            RowError("country", gettext("An import does not change an account's country."))
        )
    if row.values["category"] and current.role != "stakeholder":
        row.errors.append(RowError("category", gettext("Only a stakeholder has a category.")))
    if row.errors:
        return
    wanted = {
        "name": row.values["name"],
        "organisation": row.values["organisation"] or current.organisation,
        "stakeholder_category": row.values["category"] or current.stakeholder_category,
        "language": row.values["language"].lower() or current.language,
    }
    row.changes = {
        name: value
        for name, value in wanted.items()
        if value is not None and value != getattr(current, name)
    }
    if not row.changes:
        row.status = "unchanged"
        return
    row.errors += [
        RowError(_COLUMN_OF.get(pointer, "name"), message)
        for pointer, message in edit_problems(row.changes)
    ]
    row.status = "updated"


async def _check_renaming(conn: Executor, creator: Actor, row: Row) -> None:
    """A stakeholder's organisation is renamed only by one who may add accounts to it."""
    current = row.existing
    renames = {"organisation", "stakeholder_category"} & set(row.changes)
    if current is None or current.role != "stakeholder" or not renames:
        return
    assert current.organisation_id is not None  # every stakeholder has one
    if await joinable_organisation(conn, current.organisation_id, creator) is None:
        row.errors.append(RowError("organisation", gettext(NOT_YOUR_ORGANISATION)))


async def _plan(conn: Executor, creator: Actor, rows: list[Row]) -> dict[int, Actor]:
    """Set each row's status; the accounts the new rows would create, by row number."""
    seen: dict[str, int] = {}
    for row in rows:
        email = row.values["email"].lower()
        if email in seen:
            row.errors.append(
                RowError(
                    "email",
                    gettext("The address is in row %(row)d too.") % {"row": seen[email]},
                )
            )
        elif email:
            seen[email] = row.number
    existing: dict[str, list[Person]] = {}
    for found in await managed_by_email(conn, manager_scope(creator), list(seen)):
        existing.setdefault((found.actor.email or "").lower(), []).append(found)
    new: dict[int, Actor] = {}
    for row in rows:
        matches = existing.get(row.values["email"].lower(), [])
        if len(matches) > 1:
            row.errors.append(
                RowError(
                    "email", gettext("Several accounts have this address: edit them one by one.")
                )
            )
        elif matches and not row.errors:
            _compare(row, matches[0])
            await _check_renaming(conn, creator, row)
        elif (actor := _check_new(creator, row)) is not None and not row.errors:
            new[row.number] = actor
        if row.errors:
            row.status = "error"
    return new


async def _store_new(conn: Executor, creator: Actor, actor: Actor) -> Actor:
    # Stakeholders of one organisation name and category share one organisation.
    grouped = replace(actor, organisation_id=None) if actor.role == "stakeholder" else actor
    stored = await insert_actor(conn, grouped, new_token(), creator.id)
    await record_account_event(conn, stored.id, "account.created", creator.id, imported=True)
    return stored


def _row_problems(rows: list[Row]) -> list[tuple[str, str]]:
    return [(f"/rows/{row.number}/{e.column}", e.message) for row in rows for e in row.errors]


async def import_accounts(
    pool: asyncpg.Pool, creator: Actor, raw: bytes, *, apply: bool, skip_invalid: bool = False
) -> Outcome:
    """Preview (`apply` false) or apply the import of the CSV `raw` by `creator`. Applying
    creates and updates in one transaction; a row in error refuses the whole file (pointer
    `/rows/<row>/<column>`) unless `skip_invalid`, when the other rows are applied."""
    manager_scope(creator)
    rows = read_rows(raw)
    async with pool.acquire() as conn, conn.transaction():
        await lock_imports_of(conn, creator.id)
        new = await _plan(conn, creator, rows)
        if not apply:
            return Outcome(rows, applied=False)
        problems = _row_problems(rows)
        if problems and not skip_invalid:
            raise invalid(
                problems, gettext("Rows of the file are not valid: nothing was imported.")
            )
        created = [await _store_new(conn, creator, actor) for actor in new.values()]
        for row in rows:
            if row.status == "updated":
                assert row.existing is not None
                await apply_changes(conn, creator, row.existing, row.changes)
    return Outcome(rows, applied=True, created=created)


# ---- the pages' two steps: an upload kept on the server, then its confirmation ---------------


async def keep_upload(pool: asyncpg.Pool, creator: Actor, raw: bytes) -> uuid.UUID:
    """Keep a readable upload for its preview and confirmation by `creator` only."""
    manager_scope(creator)
    read_rows(raw)
    import_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await keep_import(conn, import_id, creator.id, raw.decode("utf-8-sig"), KEPT_FOR)
    return import_id


async def _kept(pool: asyncpg.Pool, creator: Actor, import_id: str) -> tuple[uuid.UUID, bytes]:
    nothing = not_found(
        gettext("There is no upload of yours waiting: it was imported, or is too old.")
    )
    kept_id = named_id(import_id, nothing)
    async with pool.acquire() as conn:
        content = await kept_import(conn, kept_id, creator.id, KEPT_FOR)
    if content is None:
        raise nothing
    return kept_id, content.encode()


async def preview_kept(pool: asyncpg.Pool, creator: Actor, import_id: str) -> Outcome:
    _, raw = await _kept(pool, creator, import_id)
    return await import_accounts(pool, creator, raw, apply=False)


async def apply_kept(pool: asyncpg.Pool, creator: Actor, import_id: str) -> Outcome:
    """Apply a kept upload's valid rows, then forget it."""
    kept_id, raw = await _kept(pool, creator, import_id)
    outcome = await import_accounts(pool, creator, raw, apply=True, skip_invalid=True)
    async with pool.acquire() as conn:
        await forget_import(conn, kept_id)
    return outcome
