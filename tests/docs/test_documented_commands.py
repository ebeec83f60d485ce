"""Every command the README and docs/ show a user is run here against the sandbox, or its
block is marked `<!-- needs: WHY -->` (the real API, a PostgreSQL server, the whole suite).
Where a page shows a command's output, the real output must still have its lines, in order.

Each command is one test, its id the page, line and command; `-v` lists them all:
`uv run pytest -n0 -v tests/docs/test_documented_commands.py`. The commands that read a
published warehouse share the one night `badges run` publishes here."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.docs.documented import PROJECT_ROOT, DocumentedCommand, documented_commands, line_key

COMMANDS = documented_commands()
BIN = Path(sys.executable).parent
UV = shutil.which("uv") or "uv"


@dataclass
class Org:
    """A published night of the embedded sandbox, run from `workdir` as the README says."""

    workdir: Path
    environment: dict[str, str]
    night: subprocess.CompletedProcess[str]


def argv_of(command: str) -> list[str]:
    """The documented command as this interpreter runs it (`uv run X` is this venv's X)."""
    words = shlex.split(command)
    while "=" in words[0]:  # a VARIABLE=value prefix: the test sets the environment itself
        words = words[1:]
    if words[0] == "uvx":  # a tool fetched from the package registry, run by uv
        return [UV, "tool", "run", *words[1:]]
    if words[:2] == ["uv", "run"]:
        words = words[2:]
    if words[0] == "badges":
        return [sys.executable, "-m", "pipelines.cli", *words[1:]]
    return [str(BIN / words[0]), *words[1:]]


def run(command: str, org: Org, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv_of(command),
        cwd=org.workdir,
        env={**org.environment, **variables},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    workdir = tmp_path_factory.mktemp("documented")
    home = workdir / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAPILLARY_", "BADGES_", "DAGSTER_"))
    }
    environment["DAGSTER_HOME"] = str(home)  # BADGES_DATA_DIR unset: ./data, as documented
    partial = Org(workdir, environment, None)  # type: ignore[arg-type]
    return Org(workdir, environment, run("uv run badges run", partial))


@contextmanager
def serving(command: str, org: Org) -> Iterator[dict[str, str]]:
    """A documented `badges sandbox serve` (on a free port): the variables it says to export."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = argv_of(command.replace("--port 8080", "") + f" --port {port}")
    server = subprocess.Popen(
        argv, cwd=org.workdir, env=org.environment, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base_url = json.loads(server.stdout.readline())["base_url"]
        exported = {}
        while not (line := server.stdout.readline().strip()).startswith(
            "export CAPILLARY_CUSTOMERS"
        ):
            if line.startswith("export "):
                name, value = line.removeprefix("export ").split("=", 1)
                exported[name] = value
        name, value = line.removeprefix("export ").split("=", 1)
        exported[name] = value
        assert exported["CAPILLARY_BASE_URL"] == base_url == f"http://127.0.0.1:{port}"
        yield exported
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def served(org: Org) -> Iterator[dict[str, str]]:
    """The generated org served as docs/sandbox.md shows it first."""
    (command,) = [c.command for c in COMMANDS if " sandbox serve --port 8080 " in c.command]
    with serving(command, org) as exported:
        yield exported


def assert_lines_in_order(shown: list[str], real: list[str]) -> None:
    """Every shown line (but `...`) has a real line of the same key, in the same order; with
    no `...` shown, the real output has no other line either."""
    real_keys = [line_key(line) for line in real]
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        key = line_key(line)
        assert key in real_keys[position:], f"{line!r} no longer in the output:\n" + "\n".join(real)
        position = real_keys.index(key, position) + 1
    if not any(line.strip() == "..." for line in shown):
        assert real_keys == [line_key(line) for line in shown], "\n".join(real)


NIGHT_STEPS = (
    "restore",
    "extract+normalize",
    "load",
    "checks",
    "models",
    "history",
    "publish",
    "bucket",
    "report",
    "retention",
)


def check_night(command: DocumentedCommand, org: Org) -> None:
    assert org.night.returncode == 0, org.night.stdout + org.night.stderr
    assert re.search(r"snapshot \d{4}-\d\d-\d\d published", org.night.stdout)
    assert (org.workdir / "data" / "warehouse.duckdb").is_file()  # ./data, the default
    check_steps_said(org.night.stderr)
    check_summary_units(org.night.stdout, org.workdir / "data" / "warehouse.duckdb")


def check_steps_said(progress: str) -> None:
    """Each step of the night said when it started and when it ended, with its time."""
    lines = progress.splitlines()
    for step in NIGHT_STEPS:
        assert f"{step}: started" in lines, progress
        ended = [
            line for line in lines if re.fullmatch(rf"{re.escape(step)}: done in \d+\.\d s", line)
        ]
        assert len(ended) == 1, progress
        assert lines.index(f"{step}: started") < lines.index(ended[0])


def check_summary_units(summary: str, warehouse: Path) -> None:
    """Every count of the summary names its unit, and its rows are the tables' rows."""
    assert re.search(r"^  calls per API: badge_meta [\d,]+, ", summary, re.MULTILINE), summary
    assert re.search(
        r"^  failed calls 0; vendor answers \(rows in extract_errors\) 0$", summary, re.MULTILINE
    )
    night = summary.split("rows per table")[0]
    assert "{}" not in night and not re.search(r"(?<!_)badges \d", night), summary
    shown = dict(
        (table, int(rows.replace(",", "")))
        for table, rows in re.findall(r"^    (\w+) +([\d,]+)$", summary, re.MULTILINE)
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        real = {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in shown}
    assert shown == real and "badges" in shown, summary


def check_duckdb_query(command: DocumentedCommand, org: Org) -> None:
    """The README's query in the DuckDB CLI it says to get (`duckdb-cli` from PyPI, through
    uv), against the published night: the CLI reads the file's storage version."""
    words = shlex.split(command.command)
    assert words[:5] == ["uvx", "--from", "duckdb-cli", "duckdb", "-readonly"]
    path, sql = words[5:]
    done = run(command.command, org)
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(org.workdir / path), read_only=True) as con:
        rows = con.sql(sql).fetchall()
    assert 0 < len(rows) <= 10
    header, *table = [line for line in done.stdout.splitlines() if "│" in line]
    assert [cell.strip() for cell in header.split("│")[1:3]] == ["badge_name", "earns"]
    shown = [line.split("│")[1].strip() for line in table[1:]]  # after the type row
    assert shown == [name for name, _ in rows], done.stdout


def real_api_block(command: DocumentedCommand) -> list[DocumentedCommand]:
    """The block of `command` when it is written for the real API (it exports its
    CAPILLARY_BASE_URL), else an empty list."""
    block = [c for c in COMMANDS if (c.page, c.line) == (command.page, command.line)]
    if any(c.command.startswith("export CAPILLARY_BASE_URL=") for c in block):
        return block
    return []


@dataclass
class RealApiNight:
    variables: dict[str, str]  # what the block exports, valued as the sandbox printed them
    workdir: Path
    night: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def real_api_night(org: Org, served: dict[str, str]) -> RealApiNight:
    """The README's real-API block against the served sandbox: the variables it exports,
    each given the value the sandbox printed for it, then its command, from a directory of
    its own (the data directory of one source is not another's)."""
    block = next(real_api_block(c) for c in COMMANDS if c.page == "README.md" and real_api_block(c))
    names = [
        word.split("=", 1)[0]
        for c in block
        if c.command.startswith("export ")
        for word in shlex.split(c.command)[1:]
    ]
    missing = [name for name in names if name not in served]
    assert not missing, f"the sandbox does not print {missing}"
    variables = {name: served[name] for name in names}
    (command,) = [c.command for c in block if not c.command.startswith("export ")]
    workdir = org.workdir / "real-api"
    workdir.mkdir()
    done = run(command, Org(workdir, org.environment, org.night), **variables)
    return RealApiNight(variables, workdir, done)


def check_real_api_block(
    command: DocumentedCommand, org: Org, real_api_night: RealApiNight
) -> None:
    from pipelines.lake import Lake
    from pipelines.lake.source_record import recorded_source

    night = real_api_night
    if command.command.startswith("export "):
        for word in shlex.split(command.command)[1:]:
            assert word.split("=", 1)[0] in night.variables, word
        return
    assert night.night.returncode == 0, night.night.stdout + night.night.stderr
    assert re.search(r"snapshot \d{4}-\d\d-\d\d published", night.night.stdout)
    # Its own night, from the served sandbox by the block's OAuth client: not the embedded one.
    source = recorded_source(Lake(night.workdir / "data"))
    assert source is not None and source.api == "127.0.0.1", source
    assert source.org.startswith("OAuth client key sha256 "), source
    assert night.variables["CAPILLARY_CLIENT_SECRET"] not in night.night.stdout


def check_help(command: DocumentedCommand, org: Org) -> None:
    # A server a test should not keep running: its command line must still be accepted.
    done = run(f"{command.command} --help", org)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("Usage:")


def check_served(command: DocumentedCommand, org: Org, served: dict[str, str]) -> None:
    if "--world vendor" not in command.command:
        customers = Path(served["CAPILLARY_CUSTOMERS"])
        # --customers-csv data/customers.csv, from the workdir: under the git-ignored data/
        assert customers.parent == org.workdir / "data"
        assert len(customers.read_text().splitlines()) == 1 + 300  # --customers 300
        return
    with serving(command.command, org) as exported:
        lines = Path(exported["CAPILLARY_CUSTOMERS"]).read_text().splitlines()
    # The six customers of the table on the page, each looked up as it says.
    assert len(lines) == 1 + 6
    assert any("tom.sawyer@example.com" in line for line in lines)
    assert any("4111111111111111" in line for line in lines)


def check_shown_output(command: DocumentedCommand, org: Org) -> None:
    done = run(command.command, org)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_lines_in_order(list(command.output or ()), done.stdout.splitlines())


def check_doctor(command: DocumentedCommand, org: Org, served: dict[str, str]) -> None:
    # The page shows a failing check against the real API; here every check passes against
    # the served sandbox, so the shown lines' checks are found by name, and the summary by form.
    done = run(command.command, org, **served)
    assert done.returncode == 0, done.stdout + done.stderr
    real = done.stdout.splitlines()
    assert real[-1] == "every check passed"
    names = {re.match(r"(?:ok|FAIL|skip) +([^:]+):", line).group(1) for line in real[:-1]}
    shown = [line for line in command.output or () if line != "..."]
    assert re.fullmatch(r"\d+ check\(s\) FAILED", shown[-1])
    probe = (PROJECT_ROOT / "pipelines" / "ops" / "probe.py").read_text()
    for line in shown[:-1]:
        shape = re.match(r"(ok|FAIL|skip) +([^:]+):", line)
        assert shape is not None, line
        assert shape.group(2) in names or f'"{shape.group(2)}:' in probe, line


def page_exports(page: str) -> dict[str, str]:
    """The variables an `export` line of `page` sets for the commands after it."""
    (line,) = [c.command for c in COMMANDS if c.page == page and c.command.startswith("export ")]
    return dict(word.split("=", 1) for word in shlex.split(line)[1:])


def check_copy(command: DocumentedCommand, org: Org) -> None:
    words = shlex.split(command.command)
    subprocess.run(words, cwd=org.workdir, check=True)
    with duckdb.connect(str(org.workdir / words[-1]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM analytics.earns_daily").fetchone()[0] > 0


def check_export(command: DocumentedCommand, org: Org) -> None:
    variables = page_exports(command.page)
    assert variables["BADGES_DBT_DATABASE"] == "data/dev.duckdb"  # the copy the page makes
    for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR"):  # from the project's root
        assert (PROJECT_ROOT / variables[name] / "profiles.yml").is_file()


def check_dbt(command: DocumentedCommand, org: Org) -> None:
    """A dbt command of the analysts' way in, on a copy of the published warehouse, run from
    a directory where `sql` is the project (dbt's target and logs kept out of it)."""
    if not (org.workdir / "sql").exists():
        (org.workdir / "sql").symlink_to(PROJECT_ROOT / "sql")
    if not (org.workdir / "data" / "dev.duckdb").exists():
        shutil.copy(org.workdir / "data" / "warehouse.duckdb", org.workdir / "data" / "dev.duckdb")
    words = shlex.split(command.command)
    prefixed = dict(w.split("=", 1) for w in words[: words.index("uv")])
    exported = page_exports(command.page) if command.page != "README.md" else {}
    variables = {
        **exported,
        **prefixed,
        "DBT_TARGET_PATH": str(org.workdir / "dbt-target"),
        "DBT_LOG_PATH": str(org.workdir / "dbt-logs"),
    }
    if words[-3:-1] == ["serve", "--port"]:
        check_docs_served(command, org, variables)
        return
    done = run(command.command, org, **variables)
    assert done.returncode == 0, done.stdout + done.stderr
    if words[3] in ("build", "test"):
        assert re.search(r"Done\. PASS=[1-9]\d* WARN=\d+ ERROR=0 ", done.stdout), done.stdout
    if words[3:5] == ["docs", "generate"]:
        assert (org.workdir / "dbt-target" / "catalog.json").is_file()
    if words[3] == "show":
        assert "earns" in done.stdout


def check_docs_served(command: DocumentedCommand, org: Org, variables: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [*argv_of(command.command)[:-1], str(port), "--host", "127.0.0.1", "--no-browser"]
    server = subprocess.Popen(
        argv,
        cwd=org.workdir,
        env={**org.environment, **variables},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html") as page:
                    assert b"dbt" in page.read()
                    return
            except OSError:
                assert time.monotonic() < deadline, "dbt docs serve did not answer in 60 s"
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)


CHECKS: dict[str, Callable[..., None]] = {
    "uv run badges run": check_night,
    "uvx --from duckdb-cli duckdb -readonly": check_duckdb_query,
    "DAGSTER_HOME=$PWD uv run dg dev": check_help,
    "uv run badges sandbox serve": check_served,
    "uv run badges plan": check_shown_output,
    "uv run badges status": check_shown_output,
    "uv run badges doctor": check_doctor,
    "cp data/warehouse.duckdb": check_copy,
    "export": check_export,
    "uv run dbt": check_dbt,
}


def check_of(command: DocumentedCommand) -> Callable[..., None] | None:
    """How a test runs the command; None when its block's `needs` says why none can
    (`badges run` of the README's first block is run: only the suite beside it is not)."""
    if command.needs and command.command != "uv run badges run":
        return None
    words = shlex.split(command.command)
    if command.page == "README.md" and real_api_block(command):
        return check_real_api_block
    unprefixed = words[next(i for i, w in enumerate(words) if "=" not in w) :]
    return next(
        (
            f
            for start, f in CHECKS.items()
            if start.split() in (words[: len(start.split())], unprefixed[: len(start.split())])
        ),
        None,
    )


RUN = [c for c in COMMANDS if check_of(c) is not None]
NOT_RUN = [c for c in COMMANDS if check_of(c) is None]
# Where a command no test here runs is run instead, as its `needs` marker must name it.
RUN_ELSEWHERE = re.compile(r"(?:tests/[\w/]+\.py|\.ci/run|every `uv run pytest`)")


def test_the_pages_show_commands():
    assert len(COMMANDS) >= 10
    assert {c.page for c in COMMANDS} >= {"README.md", "docs/operations.md", "docs/sandbox.md"}


def test_the_commands_not_run_here_are_listed_with_the_reason(
    capsys: pytest.CaptureFixture[str],
):
    """Each command no test here runs, once, with its block's reason: the suite itself, or
    a service a test elsewhere starts (which the reason names)."""
    listing = [f"{c.test_id}: not run here: {c.needs}" for c in NOT_RUN]
    print("\n".join(listing))
    for command in NOT_RUN:
        assert command.needs, f"{command.test_id}: no test runs it and no needs marker says why"
        where = RUN_ELSEWHERE.search(command.needs)
        assert where is not None, f"{command.test_id}: its reason names no place that runs it"
        if where.group(0).startswith(("tests/", ".ci/")):
            assert (PROJECT_ROOT / where.group(0)).is_file(), command.needs
    assert "README.md:24 uv run pytest: not run here: " in capsys.readouterr().out


def created_files(command: DocumentedCommand) -> list[str]:
    """The files a documented command tells the user to create in the checkout."""
    words = shlex.split(command.command)
    created = [words[-1]] if words[0] == "cp" else []
    created += [after for before, after in itertools.pairwise(words) if before == "--customers-csv"]
    for word in words:
        name, _, value = word.partition("=")
        if name in ("BADGES_DBT_DATABASE", "CAPILLARY_CUSTOMERS") and value:
            created.append(value)
    return created


def test_the_files_the_pages_create_are_git_ignored():
    created = sorted({path for c in COMMANDS for path in created_files(c)})
    assert {"data/dev.duckdb", "data/customers.csv"} <= set(created)
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", *created],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(done.stdout.split()) == created, f"not ignored: {created}"


def test_the_pages_start_the_ui_with_dg_dev():
    pages = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    assert [p.name for p in pages if "dagster dev" in p.read_text()] == []
    assert any(c.command.endswith(" uv run dg dev") for c in COMMANDS)


@pytest.mark.parametrize("command", RUN, ids=[c.test_id for c in RUN])
def test_documented_command(command: DocumentedCommand, request: pytest.FixtureRequest):
    check = check_of(command)
    assert check is not None
    names = check.__code__.co_varnames[: check.__code__.co_argcount]
    arguments = [command, request.getfixturevalue("org")]
    arguments += [request.getfixturevalue(name) for name in names[2:]]
    check(*arguments)
