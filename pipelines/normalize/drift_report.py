"""The drift report as the night shows it: per source path its count and a sample, the
most frequent first, as metadata entries and as the lines `badges run` and `badges status`
print. What is counted, and how: `pipelines.normalize.drift`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.normalize.drift import table_of_path

DriftEntries = dict[str, dict[str, Any]]  # source path -> {"count": rows, "sample": JSON}
SHOWN = 20  # paths listed per kind; the rest are counted


def drift_entries(
    counts: Mapping[str, int], samples: Mapping[str, str], table: str | None = None
) -> DriftEntries:
    """{path: {"count", "sample"}}, the most frequent first; only `table`'s when given."""
    paths = sorted(counts, key=lambda path: (-counts[path], path))
    return {
        path: {"count": counts[path], "sample": samples.get(path, "")}
        for path in paths
        if table is None or table_of_path(path) == table
    }


CoverageEntries = dict[str, dict[str, Any]]  # source path -> {"objects", "unmapped", "keys"}
KEYS_SHOWN = 8  # keys named per kind of object that filled nothing


def coverage_entries(
    objects: Mapping[str, int],
    unmapped: Mapping[str, int],
    keys: Mapping[str, Mapping[str, int]],
    table: str | None = None,
) -> CoverageEntries:
    """{path: {"objects", "unmapped", "keys": {key: objects}}} of every kind of object met
    (only `table`'s when given), those that filled nothing first."""
    paths = sorted(objects, key=lambda path: (-unmapped.get(path, 0), path))
    return {
        path: {
            "objects": objects[path],
            "unmapped": unmapped.get(path, 0),
            "keys": dict(sorted(keys.get(path, {}).items(), key=lambda item: (-item[1], item[0]))),
        }
        for path in paths
        if table is None or table_of_path(path) == table
    }


def merge_coverage(parts: list[CoverageEntries]) -> CoverageEntries:
    merged = {path: entry for part in parts for path, entry in part.items()}
    return dict(sorted(merged.items(), key=lambda item: (-item[1]["unmapped"], item[0])))


def describe_coverage(coverage: CoverageEntries) -> list[str]:
    """Lines naming each kind of object of which some filled no typed column: how many of
    how many, and the keys they carried (nothing when no object was counted)."""
    if not coverage:
        return []
    unmapped = {path: entry for path, entry in coverage.items() if entry["unmapped"]}
    if not unmapped:
        kinds = _plural(len(coverage), "kind")
        return [f"mapping coverage: every object filled a typed column ({kinds} of object)"]
    lines = [
        f"mapping coverage: {_plural(len(unmapped), 'kind')} of object with objects that "
        "filled no typed column (their keys are in extra; see docs/drift.md)"
    ]
    for path, entry in list(unmapped.items())[:SHOWN]:
        keys = list(entry["keys"].items())
        named = ", ".join(f"{key} {count:,}" for key, count in keys[:KEYS_SHOWN])
        more = f", and {len(keys) - KEYS_SHOWN} more" if len(keys) > KEYS_SHOWN else ""
        lines.append(
            f"  unmapped    {path}  {entry['unmapped']:,} of {entry['objects']:,} objects, "
            f"keys: {named}{more}"
        )
    return lines


def merge_entries(parts: list[DriftEntries]) -> DriftEntries:
    """Entries of several tables as one, the most frequent first."""
    merged = {path: entry for part in parts for path, entry in part.items()}
    return dict(sorted(merged.items(), key=lambda item: (-item[1]["count"], item[0])))


def describe_drift(
    new_keys: DriftEntries,
    wrong_types: DriftEntries,
    repeats: DriftEntries | None = None,
    conflicts: DriftEntries | None = None,
    disagreements: DriftEntries | None = None,
    coverage: CoverageEntries | None = None,
) -> list[str]:
    """Lines naming each new key and wrong-typed value (path, rows, a sample), then each
    repeated entry and disagreeing twin, and the mapping coverage when given."""
    if not new_keys and not wrong_types:
        lines = ["drift: none (the vendor sent nothing the contract does not know)"]
    else:
        lines = [
            f"drift: {_plural(len(new_keys), 'new key')}, {_plural(len(wrong_types), 'field')} "
            "with values of the wrong type (the values are in extra; see docs/drift.md)"
        ]
    lines += _entry_lines((("new key", new_keys), ("wrong type", wrong_types)))
    repeats, conflicts, disagreements = repeats or {}, conflicts or {}, disagreements or {}
    if repeats or conflicts or disagreements:
        lines.append(
            f"repeats and disagreements: {_plural(len(repeats), 'list')} with repeated "
            f"entries (one row each), {_plural(len(conflicts), 'list')} with a key repeated "
            f"with other values (the other in extract_errors), "
            f"{_plural(len(disagreements), 'field')} whose second name or twin disagrees "
            "(kept in extra)"
        )
        kinds = (("repeat", repeats), ("conflict", conflicts), ("disagrees", disagreements))
        lines += _entry_lines(kinds)
    if coverage is not None:
        lines += describe_coverage(coverage)
    return lines


def _entry_lines(kinds: tuple[tuple[str, DriftEntries], ...]) -> list[str]:
    lines = []
    for kind, entries in kinds:
        for path, entry in list(entries.items())[:SHOWN]:
            rows = _plural(entry["count"], "row")
            lines.append(f"  {kind:<10}  {path}  in {rows}, e.g. {entry['sample']}")
        if len(entries) > SHOWN:
            lines.append(f"  ... and {len(entries) - SHOWN} more of kind {kind}")
    return lines


def describe_warnings(warnings: Mapping[str, int]) -> list[str]:
    """One line: the normalizer's warnings by kind (values null in their column and kept
    in extra, answers named in extract_errors), the most frequent first."""
    if not warnings:
        return ["normalizer warnings: none"]
    kinds = sorted(warnings.items(), key=lambda item: (-item[1], item[0]))
    shown = "; ".join(f"{kind} {count:,}" for kind, count in kinds[:SHOWN])
    more = f"; and {len(kinds) - SHOWN} more kinds" if len(kinds) > SHOWN else ""
    return [f"normalizer warnings {sum(warnings.values()):,}: {shown}{more}"]


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
