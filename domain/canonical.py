"""Canonical JSON: one byte form per document, so equal documents have equal hashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(document: Any) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def json_hash(document: Any) -> str:
    """SHA-256 (hex) of the document's canonical JSON."""
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()
