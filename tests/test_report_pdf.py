"""The PDF renderer on its own: A4, the report's text, and nothing read from elsewhere."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfReader

from reports.pdf import render_pdf
from reports.render import render_html
from tests.test_report_render import sample_report

A4_POINTS = (595, 842)


def images(pdf: bytes) -> int:
    """How many images the PDF's pages draw."""
    count = 0
    for page in PdfReader(io.BytesIO(pdf)).pages:
        objects: Any = page["/Resources"].get_object().get("/XObject")
        count += len(objects.get_object()) if objects is not None else 0
    return count


def page_with(image_url: str) -> str:
    return f'<!DOCTYPE html><html lang="en"><body><p>Text</p><img alt="A picture" src="{image_url}"></body></html>'


def test_a_report_prints_on_a4_with_its_text_and_page_numbers() -> None:
    report = sample_report()
    pdf = render_pdf(render_html(report))
    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == A4_POINTS
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert report["review"]["commission"] in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert render_pdf(render_html(report)) == pdf  # the same report, the same bytes


def test_nothing_is_read_from_a_file_or_a_host(tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    inline = "data:image/png;base64," + base64.b64encode(picture.read_bytes()).decode()
    assert images(render_pdf(page_with(inline))) > 0  # an image, when it may be drawn, is
    assert images(render_pdf(page_with(picture.as_uri()))) == 0
    assert images(render_pdf(page_with("http://127.0.0.1:9/picture.png"))) == 0
