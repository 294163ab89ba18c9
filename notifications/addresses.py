"""Email recipients: the names and addresses an account may hold, and their header form.

An account is checked when it is created (`name_problem`, `address_problem`), and each
message is addressed with `recipient`, which raises for what was stored before those checks
existed, so one bad record fails its own message and no other.

Internationalised addresses are supported: the domain is sent in its IDNA (ASCII) form, and a
local part with non-ASCII characters (`ü@example.org`) needs an SMTP server that offers
SMTPUTF8 (RFC 6531); without it that one message fails for good, with the reason.
"""

from __future__ import annotations

import unicodedata
from email.errors import HeaderParseError
from email.headerregistry import Address

# Control characters and line or paragraph separators: a name is one line of plain text.
_NOT_IN_A_NAME = frozenset({"Cc", "Zl", "Zp"})


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a recipient's display name, or None."""
    if any(unicodedata.category(c) in _NOT_IN_A_NAME for c in name):
        return "must not contain control characters or line breaks"
    return None


def _ascii_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("its domain is not a valid domain name") from None


def recipient(display_name: str, address: str) -> Address:
    """The `To` value for `address`, with its domain in IDNA form; raises ValueError with a
    sentence saying what is wrong with the name or the address."""
    problem = name_problem(display_name)
    if problem is not None:
        raise ValueError(f"the name {problem}")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("the address must have the form name@example.org")
    ascii_domain = _ascii_domain(domain)
    non_ascii = [c for c in local if not c.isascii()]
    # RFC 6531 admits non-ASCII characters as atoms; invisible ones only serve to deceive.
    if any(unicodedata.category(c)[0] in "CZ" for c in non_ascii):
        raise ValueError("the address contains invisible or control characters")
    # Checked as the ASCII address it would be with each non-ASCII character an atom.
    stand_in = "".join(c if c.isascii() else "a" for c in local)
    try:
        Address(addr_spec=f"{stand_in}@{ascii_domain}")
    except (ValueError, HeaderParseError, IndexError):
        raise ValueError(
            "the address is not valid (for example two dots in a row, or a dot first or last"
            " before the @)"
        ) from None
    return Address(display_name=display_name, username=local, domain=ascii_domain)


def address_problem(address: str) -> str | None:
    """Why `address` cannot receive mail from reviewflow, or None."""
    try:
        recipient("", address)
    except ValueError as error:
        return str(error).removeprefix("the address ")
    return None


def needs_smtputf8(address: Address) -> bool:
    return not address.username.isascii()
