"""The earn report opened in a real browser: headless Chromium from the OS packages.

A probe script is added to a copy of the page (the report itself has none); on `load`
it writes what the browser saw into the DOM, which `--dump-dom` prints: errors raised,
resources fetched, and for each chart whether its image decoded and the size it was laid
out at. Host names resolve to nothing, so a page that needed the network would fail.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.report.page import EarnReport, write_earn_report
from tests.report.models_warehouse import Rows, a_year_of_earns, build_warehouse
from tests.report.pages import png_size, section_images

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not on PATH: install the OS package (apt-get install chromium) "
    "to open the earn report in a real browser",
)

SNAPSHOT = dt.date(2026, 3, 20)
CHARTS = ["earns", "funnel", "time_to_earn", "expiring"]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
PROBE = """<script>
window.seenErrors = [];
window.addEventListener("error", (event) => window.seenErrors.push(
  event.message || "failed to load " + (event.target.src || event.target.tagName).slice(0, 60)
), true);
window.addEventListener("load", () => {
  const sections = [...document.querySelectorAll("section")].map((section) => {
    const image = section.querySelector("img");
    const note = section.querySelector(".no-data");
    const box = (image || note || section).getBoundingClientRect();
    return {
      id: section.id,
      note: note ? note.textContent : null,
      image: image ? {complete: image.complete, naturalWidth: image.naturalWidth,
                      naturalHeight: image.naturalHeight} : null,
      width: box.width,
      height: box.height,
    };
  });
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    title: document.title,
    errors: window.seenErrors,
    resources: performance.getEntriesByType("resource").map((entry) => entry.name),
    sections: sections,
  });
  document.body.appendChild(probe);
});
</script>"""
PROBE_OUTPUT = re.compile(r'<pre id="probe">(.*?)</pre>', re.DOTALL)


def chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def open_in_browser(path: Path, tmp_path: Path) -> dict:
    """What the probe saw with the page at `path` laid out in a 1100 px wide window."""
    page = path.read_text()
    assert "<script" not in page
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + PROBE))
    dom = chromium(
        tmp_path / "profile",
        "--window-size=1100,900",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probed.as_uri(),
    ).stdout
    found = PROBE_OUTPUT.search(dom)
    assert found, f"the probe wrote nothing; the browser printed {dom[:300]!r}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def year_report(tmp_path_factory) -> Iterator[tuple[EarnReport, Path]]:
    tmp_path = tmp_path_factory.mktemp("browser")
    warehouse = build_warehouse(tmp_path / "w.duckdb", SNAPSHOT, a_year_of_earns(SNAPSHOT))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield write_earn_report(con, tmp_path, SNAPSHOT), tmp_path


def test_every_chart_loads_offline_and_is_laid_out(year_report):
    report, tmp_path = year_report
    seen = open_in_browser(report.path, tmp_path)

    assert seen["title"] == f"Earn report {SNAPSHOT}"
    assert seen["errors"] == []
    assert seen["resources"] == []  # nothing fetched: images are part of the page
    assert [section["id"] for section in seen["sections"]] == CHARTS
    sizes = {key: png_size(png) for key, png in section_images(report.path.read_text()).items()}
    for section in seen["sections"]:
        image = section["image"]
        assert image["complete"], section["id"]
        assert (image["naturalWidth"], image["naturalHeight"]) == sizes[section["id"]]
        assert 600 <= section["width"] <= 1100 and section["height"] >= 200, section


def test_a_screenshot_of_the_page_shows_the_charts(year_report):
    report, tmp_path = year_report
    screenshot = tmp_path / "earn_report.png"
    chromium(
        tmp_path / "profile-shot",
        "--window-size=1100,4400",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        f"--screenshot={screenshot}",
        report.path.as_uri(),
    )
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1100, 4400)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    # A blank or text-only page has a handful of colours; charts bring their palettes.
    assert colors is not None and len(colors) > 200


def test_a_report_without_data_shows_its_notes(tmp_path: Path):
    warehouse = build_warehouse(tmp_path / "empty.duckdb", SNAPSHOT, Rows())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        report = write_earn_report(con, tmp_path, SNAPSHOT)
    seen = open_in_browser(report.path, tmp_path)

    assert seen["errors"] == [] and seen["resources"] == []
    assert [section["id"] for section in seen["sections"]] == CHARTS
    for section in seen["sections"]:
        assert section["image"] is None
        assert section["note"].startswith("No data: ")
        assert section["width"] > 0 and section["height"] > 0


def test_the_probe_sees_a_broken_image_and_a_fetch(tmp_path: Path):
    """The checks above would catch a page that fails: an image that does not decode, and
    one the browser has to fetch (host names resolve to nothing here)."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>broken</title></head><body>'
        '<section id="earns"><img src="data:image/png;base64,iVBORw0KGgoAAAAA"></section>'
        '<section id="funnel"><img src="https://example.com/chart.png"></section></body></html>'
    )
    seen = open_in_browser(page, tmp_path)

    assert len(seen["errors"]) == 2
    assert seen["resources"] == ["https://example.com/chart.png"]
    assert [section["image"]["naturalWidth"] for section in seen["sections"]] == [0, 0]
