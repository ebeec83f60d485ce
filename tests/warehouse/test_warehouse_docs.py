from pipelines.lake.tables import TABLES
from pipelines.warehouse.dbt_project import model_names
from pipelines.warehouse.dbt_sources import SOURCES_PATH, render_sources_yaml
from pipelines.warehouse.docs import DOCS_PATH, render_warehouse_docs


def test_committed_docs_are_current() -> None:
    rendered = render_warehouse_docs()
    assert DOCS_PATH.read_text(encoding="utf-8") == rendered, (
        "docs/warehouse.md is stale: run `uv run python -m pipelines.warehouse.docs`"
    )


def test_docs_describe_every_table_and_model() -> None:
    rendered = render_warehouse_docs()
    for name in TABLES:
        assert f"### `main.{name}`" in rendered
    for name in model_names():
        assert f"### `analytics.{name}`" in rendered
    assert "| `earns` | BIGINT | Earn records (badge_earns rows, any earn_status)" in rendered
    assert "| `starts_at` | TIMESTAMPTZ | When the badge goes live. |" in rendered
    assert "- reads: `analytics.badge_catalog`, `main.badge_earns`\n" in rendered
    assert "### `history.badges`" in rendered


def test_committed_dbt_sources_are_the_contract() -> None:
    assert SOURCES_PATH.read_text(encoding="utf-8") == render_sources_yaml(), (
        "sql/sources.yml is stale: run `uv run python -m pipelines.warehouse.dbt_sources`"
    )


def test_dbt_sources_carry_every_contract_column_and_its_description() -> None:
    rendered = render_sources_yaml()
    for table in TABLES.values():
        assert f"  - name: {table.name}\n" in rendered
        for column in table.columns:
            assert f"    - name: {column.name}\n" in rendered
    assert "description: Badge name (unique, case sensitive).\n" in rendered
