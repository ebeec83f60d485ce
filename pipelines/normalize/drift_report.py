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


def merge_entries(parts: list[DriftEntries]) -> DriftEntries:
    """Entries of several tables as one, the most frequent first."""
    merged = {path: entry for part in parts for path, entry in part.items()}
    return dict(sorted(merged.items(), key=lambda item: (-item[1]["count"], item[0])))


def describe_drift(new_keys: DriftEntries, wrong_types: DriftEntries) -> list[str]:
    """Lines naming each new key and wrong-typed value: path, rows, a sample."""
    if not new_keys and not wrong_types:
        return ["drift: none (the vendor sent nothing the contract does not know)"]
    lines = [
        f"drift: {_plural(len(new_keys), 'new key')}, {_plural(len(wrong_types), 'field')} "
        "with values of the wrong type (the values are in extra; see docs/drift.md)"
    ]
    for kind, entries in (("new key", new_keys), ("wrong type", wrong_types)):
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
