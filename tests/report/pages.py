"""Reading a written earn report back: its sections, embedded images and tables."""

from __future__ import annotations

import base64
import html
import io
import re

from PIL import Image

SECTION = re.compile(r'<section id="([a-z_]+)">(.*?)</section>', re.DOTALL)
PNG_IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"[^>]*>')
MARKDOWN_PNG = re.compile(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)")
ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
CELL = re.compile(r"<t[dh]>(.*?)</t[dh]>", re.DOTALL)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sections(page: str) -> dict[str, str]:
    """The HTML of each chart's section, by section id."""
    return dict(SECTION.findall(page))


def section_images(page: str) -> dict[str, bytes]:
    """The decoded PNG of each section that has one."""
    found = {}
    for key, body in sections(page).items():
        match = PNG_IMAGE.search(body)
        if match:
            found[key] = base64.b64decode(match.group(1))
    return found


def markdown_images(markdown: str) -> list[bytes]:
    return [base64.b64decode(data) for data in MARKDOWN_PNG.findall(markdown)]


def section_rows(page: str, key: str) -> list[list[str]]:
    """The body rows of a section's table, cells unescaped, header row left out."""
    rows = [CELL.findall(row) for row in ROW.findall(sections(page)[key])]
    return [[html.unescape(cell) for cell in row] for row in rows[1:]]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG that decodes fully; raises when it does not."""
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.size
