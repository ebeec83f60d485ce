"""What each dbt test of the models checks, in words, from the test as the manifest holds
it: the UI shows it beside the check's result."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pipelines.warehouse.dbt_project import MODEL_SCHEMA

_REFERENCE = re.compile(r"""(?:ref\(\s*'(\w+)'\s*\)|source\(\s*'(\w+)'\s*,\s*'(\w+)'\s*\))""")


def _relation(reference: str) -> str:
    """`ref('m')` as analytics.m, `source('main', 't')` as main.t."""
    found = _REFERENCE.search(reference)
    if found is None:
        return reference
    model, schema, table = found.groups()
    return f"{MODEL_SCHEMA}.{model}" if model else f"{schema}.{table}"


def _unique(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"{column} is unique: no two rows share one"


def _not_null(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"{column} is never null"


def _accepted_values(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"{column} is one of {', '.join(map(str, kwargs.get('values', [])))} (or null)"


def _relationships(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"every {column} is found in {_relation(str(kwargs.get('to')))}.{kwargs.get('field')}"


def _unique_key(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"no two rows share ({', '.join(kwargs.get('columns', []))}), the model's key"


def _is_the_night(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"every {column} is the night being built"


def _at_most(column: str, kwargs: Mapping[str, Any]) -> str:
    return f"{column} is at most {kwargs.get('than')}: a later stage never counts more"


SAYS: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "unique": _unique,
    "not_null": _not_null,
    "accepted_values": _accepted_values,
    "relationships": _relationships,
    "unique_key": _unique_key,
    "is_the_night": _is_the_night,
    "at_most": _at_most,
}


def test_description(test: Mapping[str, Any]) -> str:
    """What the dbt test node `test` checks, and what its failing does."""
    own = (test.get("description") or "").strip()
    metadata = test.get("test_metadata") or {}
    kind = metadata.get("name", test.get("name", "test"))
    kwargs = metadata.get("kwargs") or {}
    model = f"{MODEL_SCHEMA}.{str(test.get('attached_node') or '').rsplit('.', 1)[-1]}"
    says = SAYS.get(kind)
    what = own or (says(kwargs.get("column_name", ""), kwargs) if says else f"dbt test {kind}")
    warns = (test.get("config") or {}).get("severity", "error").lower() == "warn"
    effect = "a failure only warns" if warns else "a failure blocks the publish"
    return f"{model}: {what}; {effect}."
