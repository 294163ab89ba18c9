"""Canonical JSON: one byte form per document, so equal documents have equal hashes.

The form is RFC 8785, the JSON Canonicalization Scheme (the `rfc8785` package, pure Python and
itself standard-library only; tests/test_domain_layer.py allows it here): anyone can recompute
a hash the service publishes with any RFC 8785 library. Hashes stored before it was adopted
are in the earlier form (Python's sorted, compact `json.dumps`), which differs from RFC 8785
only for some documents (a float such as `1.0`, names ordered differently by code point than
by UTF-16 unit); `Digest.matches` recognises a document by either, so a stored hash is never
recomputed in the other form and found different.

Numbers RFC 8785 cannot write (NaN, infinities, integers past 2^53 - 1) never reach it: request
bodies with them are refused (`api.bodies`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785


def sha256_hex(content: bytes) -> str:
    """SHA-256 (hex) of bytes: a file's, a text's, a JSON document's canonical form."""
    return hashlib.sha256(content).hexdigest()


def canonical_json(document: Any) -> str:
    """The document's RFC 8785 form."""
    return rfc8785.dumps(document).decode()


def json_hash(document: Any) -> str:
    """SHA-256 (hex) of the document's RFC 8785 form."""
    return sha256_hex(rfc8785.dumps(document))


def earlier_json_hash(document: Any) -> str:
    """SHA-256 (hex) of the form hashes were taken over before RFC 8785; only for
    recognising a hash stored then."""
    earlier = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256_hex(earlier.encode())


class Digest:
    """A document and its hash (`value`, RFC 8785), which also recognises the document by a
    hash stored in the earlier form."""

    __slots__ = ("document", "value")

    def __init__(self, document: Any) -> None:
        self.document = document
        self.value = json_hash(document)

    def earlier(self) -> str:
        """The document's hash in the earlier form."""
        return earlier_json_hash(self.document)

    def matches(self, stored: str) -> bool:
        # The earlier form is computed only when the current one differs: rarely.
        return stored == self.value or stored == self.earlier()

    def as_stored(self, stored: str | None) -> str:
        """The hash to compare with `stored`: `stored` itself when it is this document's in
        either form, else `value`."""
        return stored if stored is not None and self.matches(stored) else self.value
