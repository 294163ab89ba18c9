"""Annexes to a submission: which files are taken, how many, and how large.

A file's type is what its content is, never what its name or the request says: a PDF starts
with `%PDF-`; a DOCX is a ZIP package whose `[Content_Types].xml` names the main part of a
WordprocessingML document. Everything else (an executable renamed `.pdf`, a plain ZIP, a
macro-enabled document, text) is refused. The checks read a bounded amount whatever the file
holds: the ZIP's one small member is read up to a cap, never the whole package decompressed.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from enum import StrEnum

from domain.access import Actor, may_read_submission, own_subject

# At most this many bytes a file, and this many files a submission.
MAX_ANNEX_BYTES = 20 * 1000 * 1000
MAX_ANNEXES = 5
# Shown to people as "20 MB".
MAX_ANNEX_MB = MAX_ANNEX_BYTES // 1_000_000


class AnnexType(StrEnum):
    PDF = "application/pdf"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# The extension a downloaded annex's name ends with, whatever name it was sent under.
EXTENSION = {AnnexType.PDF: ".pdf", AnnexType.DOCX: ".docx"}
# What people call each type.
TYPE_NAME = {AnnexType.PDF: "PDF", AnnexType.DOCX: "DOCX"}

_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_CONTENT_TYPES = "[Content_Types].xml"
# A Word document's content types list runs to a few kilobytes; a larger one is not a document
# this service takes, and reading it stops here whatever its compressed size promises.
_MAX_CONTENT_TYPES_BYTES = 64 * 1024
# The main part of a Word document (not a template, not macro-enabled).
_WORD_MAIN = rb"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
# A ZIP holding more members than any Word document has is refused before it is read.
_MAX_ZIP_MEMBERS = 10_000


def annex_type(content: bytes) -> AnnexType | None:
    """The type of `content` by what it holds; None for anything this service does not take."""
    if _PDF_HEADER.match(content):
        return AnnexType.PDF
    if content.startswith(b"PK\x03\x04") and _is_word_document(content):
        return AnnexType.DOCX
    return None


def _is_word_document(content: bytes) -> bool:
    """Whether the ZIP package `content` declares a WordprocessingML main document. Any
    damage to the package (a bad directory, an unknown compression, encryption, a member that
    inflates past its cap) is a no."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            members = package.infolist()
            if len(members) > _MAX_ZIP_MEMBERS:
                return False
            listed = next((m for m in members if m.filename == _CONTENT_TYPES), None)
            if listed is None or listed.file_size > _MAX_CONTENT_TYPES_BYTES:
                return False
            with package.open(listed) as member:
                # The declared size may lie: read one byte past the cap to know.
                types = member.read(_MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError):
        return False
    except (ValueError, EOFError, OSError):
        return False
    return len(types) <= _MAX_CONTENT_TYPES_BYTES and _WORD_MAIN in types


# Characters that have no place in a file's name as shown: controls, format characters
# (bidirectional overrides that make "gpj.exe" read as "exe.jpg"), separators of lines.
_UNSHOWN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
MAX_NAME_CHARS = 200


def display_name(sent: str) -> str:
    """The name a file was sent under, made safe to show: its last path segment, without
    control or formatting characters, spaces collapsed, at most MAX_NAME_CHARS characters;
    "annex" when nothing is left."""
    last = re.split(r"[/\\]", unicodedata.normalize("NFC", sent))[-1]
    shown = "".join(" " if unicodedata.category(c) in _UNSHOWN_CATEGORIES else c for c in last)
    shown = " ".join(shown.split()).strip(" .")
    return shown[:MAX_NAME_CHARS] or "annex"


def download_name(shown: str, kind: AnnexType) -> str:
    """The name a downloaded annex is saved under: its shown name, ending with the extension
    of the type its content has (so a PDF sent as `report.exe` is saved as `report.exe.pdf`)."""
    extension = EXTENSION[kind]
    return shown if shown.lower().endswith(extension) else shown + extension


def may_read_annex(actor: Actor, region: str, kind: str, subject: str, sent: bool) -> bool:
    """Those who submit for the subject read its annexes, drafted or sent; whoever may read
    the submission (its review's secretariat) reads those an accepted version was sent with."""
    if own_subject(actor) == (kind, subject):
        return True
    return sent and may_read_submission(actor, region, kind, subject)
