"""Every check the UI shows, ours and dbt's, says what it checks."""

from __future__ import annotations

from pipelines.definitions import defs


def test_every_check_has_a_description():
    graph = defs.resolve_asset_graph()
    specs = {key: graph.get_check_spec(key) for key in graph.asset_check_keys}
    assert len(specs) > 20
    missing = sorted(key.to_user_string() for key, spec in specs.items() if not spec.description)
    assert missing == []
    funnel = {
        k.name: s.description for k, s in specs.items() if k.asset_key.path[-1] == "badge_funnel"
    }
    assert funnel["unique_badge_funnel_badge_id"] == (
        "analytics.badge_funnel: badge_id is unique: no two rows share one; a failure blocks "
        "the publish."
    )
    assert any("a failure only warns" in (s.description or "") for s in specs.values())
