"""The shape of the code: one package per concern, imports running one way, no cycle.

docs/architecture.md describes the layers these tests hold the code to.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower layers never import higher ones; packages of one layer do not import each other.
LAYERS = (
    ("wiring", {"assets", "pipelines.definitions", "pipelines.cli", "pipelines.ops"}),
    ("night", {"pipelines.night"}),
    (
        "stages",
        {
            "pipelines.extract",
            "pipelines.normalize",
            "pipelines.warehouse",
            "pipelines.report",
            "pipelines.sandbox",
        },
    ),
    ("api", {"pipelines.client"}),
    ("storage", {"pipelines.lake"}),
)
LAYER_OF = {package: rank for rank, (_, packages) in enumerate(LAYERS) for package in packages}
WIRING = LAYERS[0][1]


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*(ROOT / "pipelines").rglob("*.py"), *(ROOT / "assets").rglob("*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[0] if parts[0] == "assets" else ".".join(parts[:2])


def _project_imports() -> dict[str, set[str]]:
    return {
        module: {name for name in _imports(path) if name in MODULES and name != module}
        for module, path in MODULES.items()
    }


def test_pipelines_holds_packages_and_the_code_location_only():
    loose = sorted(p.name for p in (ROOT / "pipelines").glob("*.py"))
    assert loose == ["__init__.py", "definitions.py"]


def test_no_module_imports_itself_back():
    try:
        TopologicalSorter(_project_imports()).prepare()
    except CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def test_imports_run_from_the_wiring_down_to_storage():
    upward = defaultdict(set)
    for module, imported in _project_imports().items():
        for name in imported:
            source, target = _package(module), _package(name)
            if source == target:
                continue
            if LAYER_OF[target] < LAYER_OF[source] or (
                LAYER_OF[target] == LAYER_OF[source] and source not in WIRING
            ):
                upward[module].add(name)
    assert dict(upward) == {}


def test_the_core_imports_no_dagster():
    dagster_users = sorted(
        module
        for module, path in MODULES.items()
        if _package(module) not in WIRING
        and any(name.split(".")[0] == "dagster" for name in _imports(path))
    )
    assert dagster_users == []


def test_no_code_is_generated_and_run():
    running = sorted(
        module
        for module, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("exec", "eval", "compile")
    )
    assert running == []


# Below the wiring a value of the environment is never read: the settings (`ops.settings`)
# pass values down. What stays: the crash-point switch, cleared in the normalizer's own
# processes, and dbt's environment (its profile reads it): a dbt child process's, handed on
# whole, or this process's, set while dbt runs in it.
ENVIRONMENT_ALLOWED = {
    "pipelines.lake.failpoints",
    "pipelines.normalize.streaming",
    "pipelines.normalize.shards",
    "pipelines.warehouse.dbt_project",
    "pipelines.warehouse.dbt_runner",
}


def _reads_environment(path: Path) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv", "environb")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_nothing_below_the_wiring_reads_the_environment():
    readers = sorted(
        module
        for module, path in MODULES.items()
        if _package(module) not in WIRING
        and not module.startswith("pipelines.sandbox")  # the sandbox is its own program
        and module not in ENVIRONMENT_ALLOWED
        and _reads_environment(path)
    )
    assert readers == []


ASSET_DECORATORS = {"asset", "multi_asset", "dbt_assets"}
LONGEST_ASSET_BODY = 30


def _asset_bodies() -> dict[str, int]:
    """Lines of each asset function's body (its docstring aside), by `module.function`."""
    found = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = {
                (d.func if isinstance(d, ast.Call) else d).id
                for d in node.decorator_list
                if isinstance(d.func if isinstance(d, ast.Call) else d, ast.Name)
            }
            if decorators & ASSET_DECORATORS:
                body = node.body
                if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:]
                found[f"{module}.{node.name}"] = node.end_lineno - body[0].lineno + 1
    return found


def test_every_asset_body_gets_its_resources_calls_the_core_and_translates_in_a_few_lines():
    bodies = _asset_bodies()
    assert len(bodies) >= 8
    assert {name: n for name, n in bodies.items() if n > LONGEST_ASSET_BODY} == {}
