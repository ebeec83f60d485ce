from pipelines.lake.tables import TABLES
from pipelines.warehouse.docs import DOCS_PATH, render_warehouse_docs
from pipelines.warehouse.models import model_names


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
    assert "### `history.badges`" in rendered
