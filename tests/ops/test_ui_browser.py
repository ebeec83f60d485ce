"""The Dagster UI an operator meets, opened in headless Chromium (the OS package): the
webserver over a data directory after one good night, one the volume gate refused, and
that night run again with --accept-drop (which publishes it without a call).

Each page is loaded with `--dump-dom`; virtual time waits for the page's GraphQL answers,
so the DOM printed is the page as drawn. The pages checked: the asset graph, an analytics
model's checks, the refused run (its headline is the project's words) and the partitions
of the extract step (no red band: no date failed, none offered that no night filled).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.conftest import Api, today
from tests.ops.processes import DagsterServices, prepare_home, run_badges

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not on PATH: install the OS package (apt-get install chromium) "
    "to open the Dagster UI in a real browser",
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
    "--virtual-time-budget=30000",
]


@dataclass
class Ui:
    services: DagsterServices
    profile: Path
    refused_run: str
    refusal: str  # the refused night's last console line, without its step

    def page(self, path: str) -> str:
        """The page's text, as Chromium drew it."""
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "--dump-dom", self.url(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return visible_text(done.stdout)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.services.port}{path}"


def visible_text(dom: str) -> str:
    """The page's words: scripts, styles and tags dropped, spaces collapsed."""
    dom = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", dom, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", dom)
    entities = (("&nbsp;", " "), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'))
    for entity, char in entities:
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text)


def fewer_customers(customers: Path, target: Path) -> Path:
    """The customers file with 40% of its rows: a night the volume gate refuses."""
    with customers.open() as handle:
        rows = list(csv.DictReader(handle))
    with target.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[: len(rows) * 2 // 5])
    return target


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, api: Api) -> Iterator[Ui]:
    root = tmp_path_factory.mktemp("ui")
    home = prepare_home(root / "home")
    environment = api.environment(root / "data", DAGSTER_HOME=str(home))
    good = run_badges("run", environment=environment)
    assert good.returncode == 0, good.stdout + good.stderr
    fewer = fewer_customers(api.customers_csv, root / "fewer.csv")
    refused = run_badges("run", environment={**environment, "CAPILLARY_CUSTOMERS": str(fewer)})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    run_id = re.search(r"NOT published \(run ([0-9a-f-]+)\)", refused.stdout)
    assert run_id, refused.stdout
    last = refused.stdout.rstrip().splitlines()[-1].strip()
    accepted = run_badges(
        "run", "--accept-drop", environment={**environment, "CAPILLARY_CUSTOMERS": str(fewer)}
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    services = DagsterServices(home, environment, prepare=lambda home: home)
    try:
        services.start_webserver()
        yield Ui(services, root / "chromium", run_id.group(1), last.split(": ", 1)[1])
    finally:
        services.stop()


def test_the_asset_graph_page_draws_every_stage(ui: Ui):
    page = ui.page("/asset-groups")

    assert "Global asset lineage" in page, page[:3000]
    for group in ("extract", "normalize", "warehouse", "analytics", "bucket", "retention"):
        assert f" {group} " in page, group


def test_an_analytics_model_shows_its_checks_passed(ui: Ui):
    page = ui.page("/assets/analytics/earns_daily?view=checks")

    checks = re.search(r"Checks \((\d+)\)", page)
    assert checks and int(checks.group(1)) >= 3, page[:3000]
    assert page.count(" Succeeded ") == int(checks.group(1)), page[:3000]
    assert "unique_key_earns_daily_day__badge_id" in page
    assert "Failed" not in page


def test_the_refused_runs_headline_is_our_words(ui: Ui):
    page = ui.page(f"/runs/{ui.refused_run}")

    assert ui.refusal.startswith("snapshot refused: volume collapsed"), ui.refusal
    assert ui.refusal.endswith("If this is expected, run again with --accept-drop."), ui.refusal
    assert " STEP_FAILURE " in page, page[:3000]
    assert ui.refusal in page, page[:3000]
    for internal in ("DagsterStepOutputNotFoundError", "did not return an output", "Traceback"):
        assert internal not in page, internal


def test_no_partition_band_of_nights_that_cannot_exist(ui: Ui):
    page = ui.page("/assets/raw_api_responses?view=partitions")

    counts = re.search(
        r"(\d+) Partitions Selected Failed \((\d+)\) Materialized \((\d+)\) "
        r"Materializing \(0\) Missing \((\d+)\)",
        page,
    )
    assert counts, page[:3000]
    offered, failed, _, missing = map(int, counts.groups())
    # One date offered, the night that ran: no date before it, none that cannot be filled.
    assert (offered, failed, missing) == (1, 0, 0)
    assert today().isoformat() in page
