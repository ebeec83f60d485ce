"""Counting the drift report row by row (what is counted: `pipelines.normalize.drift`).

Rows with the same `extra` text classify the same, so each distinct text is classified
once (bounded memo): a night pays one hash of the text per row with an `extra`. Only
second names (`pipelines.normalize.second_names`) are looked at again per row, against
the column they would feed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from pipelines.normalize.coverage import Coverage
from pipelines.normalize.drift import (
    CONSTRAINT_SHAPES,
    DISAGREEMENT,
    LIST_PAGE_PATH,
    NEW_KEY,
    PAGE_KEYS,
    PAGINATION,
    SHAPES,
    WRONG_TYPE,
    Finding,
    ObjectShape,
    classify_object,
)
from pipelines.normalize.fields import Converted
from pipelines.normalize.reader import parse_json, sample_of
from pipelines.normalize.second_names import SECOND_NAMES, SecondName

_MEMO_ENTRIES = 8192


class DriftTracker:
    """Counts new keys, wrong types and disagreements into the report's Counters, with a
    sample per path, and how well each kind of object fits the contract (`Coverage`)."""

    def __init__(self, report: Any) -> None:
        self.new_keys, self.wrong_types = report.new_keys, report.wrong_types
        self.disagreements, self.samples = report.disagreements, report.drift_samples
        self.coverage = Coverage(report)
        self._memo: dict[str, dict[str, Classified]] = {}

    def track(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Counts the drift of `rows` of `table` (tables without a shape are skipped)."""
        shape = SHAPES.get(table)
        by_level = CONSTRAINT_SHAPES.get(table)
        if shape is None and by_level is None:
            return
        seconds = SECOND_NAMES.get(table, {})
        coverage = self.coverage
        if shape is not None and rows:
            coverage.objects[shape.path] += len(rows)
        for row in rows:
            if by_level is not None:
                shape = by_level.get(row["constraint_level"])
                if shape is None:
                    continue
                coverage.objects[shape.path] += 1
            extra = row["extra"]
            if extra is None or shape is None:
                continue
            coverage.check(shape.path, table, row, extra)
            fixed, dependent = self._findings(shape, seconds, extra)
            if fixed:
                self._count(fixed)
            if dependent:
                self._count(_beside_columns(dependent, row))

    def track_list_page(self, data: dict[str, Any]) -> None:
        """Counts a list page's own keys beside `badges` and those of its `pagination`."""
        findings = [
            (NEW_KEY, f"{LIST_PAGE_PATH}.{key}", sample_of(value))
            for key, value in data.items()
            if key not in PAGE_KEYS
        ]
        pagination = data.get("pagination")
        if isinstance(pagination, dict):
            findings += classify_object(PAGINATION, pagination)
        elif pagination is not None:
            findings.append((WRONG_TYPE, PAGINATION.path, sample_of(pagination)))
        self._count(findings)

    def _findings(
        self, shape: ObjectShape, seconds: dict[str, SecondName], extra: str
    ) -> Classified:
        memo = self._memo.setdefault(shape.path, {})
        found = memo.get(extra)
        if found is None:
            if len(memo) >= _MEMO_ENTRIES:
                memo.clear()
            found = memo[extra] = _classify(shape, seconds, extra)
        return found

    def _count(self, findings: list[Finding]) -> None:
        counters = {
            NEW_KEY: self.new_keys,
            WRONG_TYPE: self.wrong_types,
            DISAGREEMENT: self.disagreements,
        }
        for kind, path, sample in findings:
            counters[kind][path] += 1
            self.samples.setdefault(path, sample)


# A second name in extra: column, is a twin, converter, value, its kind were the column
# null, path, sample
Dependent = tuple[str, bool, Callable[[Any], Converted], Any, str | None, str, str]
Classified = tuple[list[Finding], list[Dependent]]


def _beside_columns(dependent: list[Dependent], row: dict[str, Any]) -> list[Finding]:
    """Findings of second names: beside a column holding a value, a twin left in extra (one
    of text) or an alias saying otherwise disagrees; beside a null column, each is what
    the shape makes of it."""
    found = []
    for column, is_twin, convert, value, unread_kind, path, sample in dependent:
        held = row.get(column)
        kind = unread_kind
        if held is not None:
            if is_twin:
                kind = DISAGREEMENT if type(value) is str and value else WRONG_TYPE
            else:
                converted, problem = convert(value)
                if problem == WRONG_TYPE:
                    kind = WRONG_TYPE
                else:
                    kind = None if problem is None and converted == held else DISAGREEMENT
        if kind is not None:
            found.append((kind, path, sample))
    return found


def _classify(shape: ObjectShape, seconds: dict[str, SecondName], extra: str) -> Classified:
    try:
        values = parse_json(extra)
    except orjson.JSONDecodeError:
        return [], []
    if not isinstance(values, dict):
        return [], []
    if not seconds.keys() & values.keys():
        return classify_object(shape, values), []
    fixed = classify_object(shape, {k: v for k, v in values.items() if k not in seconds})
    dependent = [
        (*seconds[key], value, shape.classify(key, value), shape.source_path(key), sample_of(value))
        for key, value in values.items()
        if key in seconds and value is not None
    ]
    return fixed, dependent
