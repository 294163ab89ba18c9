"""What files an annex may be: the type read from the content, whatever the name; a bounded
look into a ZIP; the names shown and saved."""

from __future__ import annotations

import time

import pytest

from domain.annexes import AnnexType, annex_type, display_name, download_name
from tests import annex_files


def test_a_pdf_and_a_word_document_are_known_by_their_content() -> None:
    assert annex_type(annex_files.pdf()) is AnnexType.PDF
    assert annex_type(annex_files.docx()) is AnnexType.DOCX


@pytest.mark.parametrize(
    "content",
    [
        annex_files.EXECUTABLE,
        annex_files.PLAIN_ZIP,
        annex_files.TEXT,
        b"",
        b"PK\x03\x04 a broken archive",
        b" %PDF-1.4 the header is not at the start",
        annex_files.docx(main=annex_files.MACRO_MAIN),
        annex_files.package({"[Content_Types].xml": "<Types/>", "word/document.xml": "x"}),
    ],
    ids=["exe", "zip", "text", "empty", "broken-zip", "late-header", "docm", "no-main-part"],
)
def test_anything_else_is_refused(content: bytes) -> None:
    assert annex_type(content) is None


def test_a_zip_bomb_is_refused_without_being_inflated() -> None:
    # 30 MB of spaces in the content types part, some 30 kB compressed.
    bomb = annex_files.package(
        {
            "[Content_Types].xml": annex_files.content_types() + " " * 30_000_000,
            "word/document.xml": "x",
        }
    )
    assert len(bomb) < 1_000_000
    started = time.process_time()
    assert annex_type(bomb) is None
    assert time.process_time() - started < 0.5


def test_a_huge_member_elsewhere_in_the_package_is_never_read() -> None:
    large = annex_files.package(
        {
            "[Content_Types].xml": annex_files.content_types(),
            "word/media/padding.bin": b"\0" * 30_000_000,
        }
    )
    started = time.process_time()
    assert annex_type(large) is AnnexType.DOCX
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\me\\Rapport final.docx", "Rapport final.docx"),
        ("../../etc/passwd", "passwd"),
        ("in\u202egpj.exe", "in gpj.exe"),
        ("a\r\nb\x00.pdf", "a b .pdf"),
        ("", "annex"),
        ("...", "annex"),
        ("تقرير وطني.pdf", "تقرير وطني.pdf"),
    ],
)
def test_the_name_shown_has_no_folder_and_no_control_characters(sent: str, shown: str) -> None:
    assert display_name(sent) == shown


def test_a_long_name_is_cut() -> None:
    assert len(display_name("x" * 5000 + ".pdf")) == 200


def test_a_downloaded_file_ends_with_its_types_extension() -> None:
    assert download_name("report.exe", AnnexType.PDF) == "report.exe.pdf"
    assert download_name("Report.PDF", AnnexType.PDF) == "Report.PDF"
    assert download_name("notes", AnnexType.DOCX) == "notes.docx"
