"""Text as people wrote it, made safe to show: what must never reach a reader's screen."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Bidirectional embeddings, overrides and isolates let a text display as something other than
# what it says ("txt.exe" shown as "exe.txt"). The marks that right-to-left writing relies on
# (LRM, RLM, ALM) and the joiners of Arabic script are other characters and stay.
_DIRECTION_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def has_visible_character(text: str) -> bool:
    """Whether `text` shows anything: a letter, a digit, a mark, punctuation or a symbol (a
    title of zero-width spaces and formatting characters shows nothing)."""
    return any(unicodedata.category(c)[0] in "LMNPS" for c in text)


def N_(message: str) -> str:  # gettext's own name for it
    """Mark a rule's sentence for the catalogues (``i18n``) and use it as it is: the rules
    speak English, and pages and the API show the sentence in the reader's language by
    matching it against its template (``i18n.rule_text``)."""
    return message


def without_direction_overrides(text: str) -> str:
    return _DIRECTION_OVERRIDES.sub("", text)


def finalize_shown_text(value: Any) -> Any:
    """A Jinja2 `finalize`: plain text without direction overrides; anything else as it is
    (markup a template built itself is no input)."""
    return without_direction_overrides(value) if type(value) is str else value
