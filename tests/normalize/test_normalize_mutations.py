"""Mutated vendor examples straight through the normalizer, one answer at a time (the
strategies of `tests/vendor/mutations.py`; a sample goes through whole nights there).

For every mutation it never raises and keys every row; the value it put in the answer is in
its own object's rows (the table the object at its path makes): in the column its key maps
to, or in `extra` under its source key (an ISO twin left out only where it restates the
column's instant), or the answer (or its item) is a row of `extract_errors`; a deleted
key's column is null; and the drift report counts exactly what the mutation added: a new
key at its path where the normalizer reads the object key by key, a wrong type only at the
mutated field, and one whenever the normalizer refused a value.

Lists, at every depth, with an entry repeated, reordered or repeated with another value:
every table keeps one row per key; a repeat or a new order leaves the rows as they were
(where an entry sat aside), a repeat counted; a changed value is in a row or in the
`extract_errors` row that keeps the other entry, each conflict counted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from pipelines.lake.raw import RawRecord
from pipelines.lake.tables import TABLES
from pipelines.normalize.drift import (
    CONSTRAINT_SHAPES,
    KEPT_IN_EXTRA,
    OBJECT_PATHS,
    SHAPES,
    TABLE_OF_PATH,
)
from pipelines.normalize.fields import as_boolean, as_integer, as_text, as_unit
from pipelines.normalize.normalizer import RecordNormalizer
from pipelines.normalize.reader import json_text, parse_json, sample_of
from pipelines.normalize.second_names import names_of
from pipelines.normalize.timestamps import parse_timestamp, restates
from tests.normalize.normalize_support import FIXTURES, SNAPSHOT, example
from tests.vendor.mutations import ANY_JSON, Mutation, list_mutations, mutated, mutations, nodes

META, DETAIL, LIST = "badge_meta", "customer_badge_detail", "customer_badges"
ENDPOINTS = {"get-badge-meta": META, "update-badge-meta": META, "get-customer-badge-detail": DETAIL}
ANSWERS = sorted(
    path.stem
    for path in FIXTURES.glob("*.json")
    if "request" not in path.stem and "extract" not in path.stem
)
KEYS = {  # table -> the column each row is keyed on
    "badges": "badge_id",
    "badge_owners": "badge_id",
    "badge_claims": "badge_id",
    "badge_custom_fields": "badge_id",
    "badge_constraints": "badge_id",
    "customer_badges": "badge_id",
    "customer_badge_details": "badge_id",
    "customer_badge_constraints": "badge_id",
    "badge_issuals": "issue_id",
    "badge_earns": "earn_id",
}
_EXPIRY = r"(earnedBadgeExpiry|issuedBadgeExpiry|earnExpiry|issueExpiry)"
# Objects the normalizer reads key by key, always: a key it does not know there is new.
READ = re.compile(
    rf"badge_meta\.data(\.({_EXPIRY}|ownership|ownership\.claims\[\]"
    r"|(customerConstraints|badgeConstraints)\[\]))?"
    rf"|customer_badge_detail\.data(\.({_EXPIRY}|issualDetails|earnDetails"
    r"|issualDetails\.issuals\[\]|earnDetails\.earns\[\]|(customerConstraints|badgeConstraints)\[\]))?"
    r"|customer_badges\.data(\.pagination|\.badges\[\])?"
)
# ... and those it reads for some kinds of constraint only.
SOMETIMES_READ = re.compile(
    r".*Constraints\[\]\.(currentCycle|fixedWindowCycle|earnConstraintBlockStatistics"
    r"|rollingWindowLimits\[\])"
)
_SHAPES = [*SHAPES.values(), *CONSTRAINT_SHAPES["customer_badge_constraints"].values()]
# Objects and lists the normalizer reads: empty, they hold nothing to keep.
CONTAINER_KEYS = {key.rsplit(".", 1)[-1] for shape in _SHAPES for key in shape.containers}
KNOWN_KEYS = (
    KEPT_IN_EXTRA
    | CONTAINER_KEYS
    | {key.rsplit(".", 1)[-1] for shape in _SHAPES for key in shape.converters}
)
REFUSED = re.compile(
    r"(wrong type|empty|out of range|unparseable|year [<>].*|unknown unit|non-\w+ items"
    r"|not an array)$"
)
CONVERTERS = (as_text, as_integer, as_boolean, as_unit, parse_timestamp)


def endpoint_of(name: str) -> str:
    return next((e for prefix, e in ENDPOINTS.items() if name.startswith(prefix)), LIST)


def record_of(name: str, body: bytes, answer: dict[str, Any]) -> RawRecord:
    endpoint = endpoint_of(name)
    if endpoint == LIST:
        return RawRecord(LIST, "/x?page=0&limit=10", True, 200, body, "c1", "id", None, "EARNED", 0)
    badge_id = answer["data"]["id"]
    customer = ("c1", "mobile") if endpoint == DETAIL else (None, None)
    return RawRecord(endpoint, "/x", True, 200, body, *customer, badge_id)


def at(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


def drift_path(endpoint: str, path: tuple) -> str:
    return endpoint + "".join("[]" if isinstance(p, int) else f".{p}" for p in path)


def field_path(endpoint: str, path: tuple) -> str:
    """The drift path of the field a mutation changed (a list, for a change to an item)."""
    while path and isinstance(path[-1], int):
        path = path[:-1]
    return drift_path(endpoint, path)


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1, 1.0 and true differ."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def holds(container: Any, value: Any) -> bool:
    if same(container, value):
        return True
    if isinstance(container, dict):
        return any(holds(v, value) for v in container.values())
    return isinstance(container, list) and any(holds(v, value) for v in container)


def under(extra_key: str, names: set[str]) -> bool:
    """Whether an `extra` key (dotted for nested objects) names one of the path's keys."""
    return any(extra_key == name or extra_key.endswith(f".{name}") for name in names)


def located(endpoint: str, path: tuple) -> tuple[str | None, str]:
    """The table whose rows the object holding `path` makes, and the key's name in it (dotted
    below nested objects), e.g. ("badge_constraints", "currentCycle.startDate")."""
    fp = drift_path(endpoint, path)
    objects = [p for p in TABLE_OF_PATH if fp == p or fp.startswith(f"{p}.")]
    if not objects:
        return None, ""
    best = max(objects, key=len)
    return TABLE_OF_PATH[best], fp[len(best) + 1 :]


def deleted_left_null(rows: dict, original: dict, mutation: Mutation, endpoint: str) -> bool:
    """Whether the column a deleted key fed is null in its rows (unless another name of the
    field, still in the object, feeds it)."""
    table, key = located(endpoint, mutation.path)
    names = names_of(table, first=0) if table else {}
    if key not in names:
        return True
    column = names[key][0]
    prefix = key.rpartition(".")[0]
    others = [k for k, (c, *_) in names.items() if c == column and k.rpartition(".")[0] == prefix]
    if len(others) > 1:
        return True  # another name may feed it: the field rules' tests hold that
    before = said({table: original.get(table, [])})
    changed = [row for row in rows.get(table, []) if not said({table: [row]}) & before]
    return all(row[column] is None for row in changed)


def where_it_went(rows: dict, mutation: Mutation, endpoint: str, report) -> str | None:
    """Where the mutation's value is: `extra`, a column, extract_errors, or None (lost)."""
    value, path = mutation.value, mutation.path
    if value is None:
        return "nothing to keep (null)"
    if value in ({}, []) and path[-1] in CONTAINER_KEYS:
        return "nothing to keep (an empty object or list where one is read)"
    if isinstance(value, dict) and path[-1] in CONTAINER_KEYS:
        inside = [Mutation(mutation.kind, (*path, k), v) for k, v in value.items()]
        if all(where_it_went(rows, part, endpoint, report) for part in inside):
            return "each of its keys, where the object is read"
    errors = rows.get("extract_errors", [])
    if list(rows) == ["extract_errors"] and errors[0]["endpoint"] == endpoint:
        return "the answer is a row of extract_errors"
    names = {p for p in path if isinstance(p, str)}
    table, key = located(endpoint, path)
    own = rows.get(table, []) if table else []
    # a list's item is its object's; a list its items are refused for stays with its owner
    listed = path
    while listed and isinstance(listed[-1], int):
        listed = listed[:-1]
    owners = {table, located(endpoint, listed[:-1] if listed != path else listed)[0]} - {None}
    for owner in sorted(owners):
        for row in rows.get(owner, []):
            extra = parse_json(row["extra"]) if row.get("extra") else {}
            if any(under(k, names) and holds(v, value) for k, v in extra.items()):
                return f"extra of {owner}"
    mapped = names_of(table, first=0).get(key) if table else None
    typed = {c(value)[0] for c in CONVERTERS if c(value)[1] is None} | {json_text(value)}
    if mapped is not None:
        column, is_twin, _ = mapped
        if typed & {row[column] for row in own} - {None}:
            return f"its column {table}.{column}"
        restated = is_twin and isinstance(value, str) and value
        if restated and any(
            row[column] is not None and restates(row[column], value) for row in own
        ):
            return "restated by its epoch's typed column"
    elif typed & {v for row in own for c, v in row.items() if c != "extra"} - {None}:
        return f"a typed column of {table}"
    item = re.match(
        r"data(\.\w+)*\[\d+\]",
        "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).removeprefix("."),
    )
    if item and any(e["message"].startswith(item.group(0)) for e in errors):
        return "extract_errors naming the item"
    if endpoint == LIST and path[1] != "badges":
        drift = {**report.new_keys, **report.wrong_types}
        if any(field_path(endpoint, path).startswith(p) for p in drift) or path[-1] in (
            "page",
            "size",
            "total",
            "totalPages",
        ):
            return "the raw archive (a list page's own key)"
    return None


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_mutated_answer_is_kept_keyed_and_its_drift_counted(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(ANSWERS), label="example")
    answer = example(name)
    mutation: Mutation = data.draw(mutations(answer), label="mutation")
    event(f"{mutation.kind} in {endpoint_of(name)}")
    # The standard library writes integers past 64 bits, as a vendor's server may.
    body = json.dumps(mutated(answer, mutation)).encode()
    endpoint = endpoint_of(name)
    normalizer = RecordNormalizer(SNAPSHOT)

    rows = normalizer.normalize(record_of(name, body, answer))

    report, described = normalizer.report, mutation.describe()
    for table, column in KEYS.items():
        assert all(row[column] is not None for row in rows.get(table, [])), described
    for error in rows.get("extract_errors", []):
        assert error["endpoint"] == endpoint and error["message"], described
    if mutation.kind != "deleted":
        went = where_it_went(rows, mutation, endpoint, report)
        assert went is not None, f"{described}: the value is nowhere"
        event(f"{mutation.kind}: {went}")
    else:
        original = RecordNormalizer(SNAPSHOT).normalize(
            record_of(name, json.dumps(answer).encode(), answer)
        )
        assert deleted_left_null(rows, original, mutation, endpoint), described
    fp = field_path(endpoint, mutation.path)
    if mutation.kind == "unknown_key":
        parent, key = drift_path(endpoint, mutation.path[:-1]), mutation.path[-1]
        if key in KNOWN_KEYS or rows.get("extract_errors"):
            assert set(report.new_keys) <= {fp}, described
        elif READ.fullmatch(parent):
            assert set(report.new_keys) == {fp} and report.new_keys[fp] >= 1, described
        elif SOMETIMES_READ.fullmatch(parent):
            assert set(report.new_keys) <= {fp}, described
        else:
            assert report.new_keys == {}, described
    elif isinstance(mutation.value, dict):  # where an object is read, its keys are new
        assert all(p.startswith(f"{fp}.") for p in report.new_keys), described
    else:
        assert report.new_keys == {}, described
    if mutation.kind not in ("unknown_key", "deleted"):
        assert set(report.wrong_types) <= {fp, f"{fp}ISO"}, described
    refused = {kind for kind in report.warnings if REFUSED.search(kind)}
    if refused and not rows.get("extract_errors"):
        assert report.wrong_types, (described, refused)


def read_objects(endpoint: str, answer: dict[str, Any]) -> list[tuple]:
    """Paths of the objects of an answer the normalizer reads key by key, always."""
    return [
        path
        for path, value in nodes(answer["data"], ("data",))
        if isinstance(value, dict) and READ.fullmatch(drift_path(endpoint, path))
    ]


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_new_key_where_the_normalizer_reads_is_counted_at_its_path(data: st.DataObject):
    name = data.draw(st.sampled_from(ANSWERS), label="example")
    answer, endpoint = example(name), endpoint_of(name)
    parent = data.draw(st.sampled_from(read_objects(endpoint, answer)), label="object")
    key = data.draw(
        st.text(min_size=1, max_size=10).filter(
            lambda k: k not in KNOWN_KEYS and "." not in k and k not in at(answer, parent)
        ),
        label="key",
    )
    value = data.draw(ANY_JSON.filter(lambda v: v is not None), label="value")
    mutation = Mutation("unknown_key", (*parent, key), value)
    event(drift_path(endpoint, parent))
    normalizer = RecordNormalizer(SNAPSHOT)

    rows = normalizer.normalize(
        record_of(name, json.dumps(mutated(answer, mutation)).encode(), answer)
    )

    path, report = drift_path(endpoint, mutation.path), normalizer.report
    if list(rows) == ["extract_errors"]:  # a lone surrogate: JSON no UTF-8 text can hold
        assert rows["extract_errors"][0]["error_code"] == "bad_body", mutation.describe()
        event("the answer is a row of extract_errors")
        return
    assert set(report.new_keys) == {path} and report.wrong_types == {}, mutation.describe()
    assert report.new_keys[path] >= 1
    assert report.drift_samples[path] == sample_of(value)
    if not path.startswith(f"{LIST}.data.pagination") and path != f"{LIST}.data.{key}":
        assert where_it_went(rows, mutation, endpoint, report).startswith("extra of ")


# Lists whose items become rows (each item one row, or a constraint's windows).
ROW_LISTS = {path for path in OBJECT_PATHS.values() if path.endswith("[]")} | {
    shape.path for shapes in CONSTRAINT_SHAPES.values() for shape in shapes.values()
}
ROW_LISTS |= {f"{path}.rollingWindowLimits[]" for path in list(ROW_LISTS) if "Constraints" in path}


def said(rows: dict[str, list[dict]]) -> Counter:
    """What the rows say, wherever their entries sat (list_position aside), as a multiset."""
    return Counter(
        (table, tuple(sorted((c, repr(v)) for c, v in row.items() if c != "list_position")))
        for table, table_rows in rows.items()
        for row in table_rows
    )


def keys_are_unique(rows: dict[str, list[dict]]) -> bool:
    for name, table_rows in rows.items():
        table = TABLES[name]
        if not table.unique:
            continue
        keyed = [r for r in table_rows if all(r[c] is not None for c in table.keyed_by)]
        if len({tuple(r[c] for c in table.key) for r in keyed}) != len(keyed):
            return False
    return True


def held_anywhere(rows: dict[str, list[dict]], original: Counter, value: Any) -> str | None:
    """Where a value is: a column (typed) or `extra` of a row the original answer did not
    make, or the entry an extract_errors row keeps."""
    typed = {c(value)[0] for c in CONVERTERS if c(value)[1] is None} - {None} | {json_text(value)}
    for table, table_rows in rows.items():
        for row in table_rows:
            if table == "extract_errors":
                tail = row["message"].split(": ", 1)[-1]
                if row["error_code"] == "repeated_key":
                    tail = tail.split(" (the first is the row): ", 1)[1]
                    entry = parse_json(tail)
                    nested = parse_json(entry["extra"]) if entry.get("extra") else {}
                    if typed & set(entry.values()) or holds(nested, value):
                        return "the other entry, in extract_errors"
                elif json_text(value)[:20] in row["message"]:
                    return "extract_errors naming the item"
                continue
            if said({table: [row]}) & original:
                continue
            extra = parse_json(row["extra"]) if row.get("extra") else {}
            if typed & set(row.values()) or holds(extra, value):
                return f"a row of {table}"
    return None


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_repeated_reordered_or_conflicting_entries_keep_one_row_per_key_and_every_value(
    data: st.DataObject,
) -> None:
    name = data.draw(st.sampled_from(ANSWERS), label="example")
    answer, endpoint = example(name), endpoint_of(name)
    mutation = data.draw(list_mutations(answer), label="mutation")
    assume(mutation is not None)
    list_path = drift_path(endpoint, mutation.path) + "[]"
    event(f"{mutation.kind} {'rows' if list_path in ROW_LISTS else 'kept whole'}")
    original = RecordNormalizer(SNAPSHOT).normalize(
        record_of(name, json.dumps(answer).encode(), answer)
    )
    normalizer = RecordNormalizer(SNAPSHOT)

    rows = normalizer.normalize(
        record_of(name, json.dumps(mutated(answer, mutation)).encode(), answer)
    )

    described, report = mutation.describe(), normalizer.report
    assert keys_are_unique(rows), described
    if mutation.kind != "conflicting":
        if list_path in ROW_LISTS:
            assert said(rows) == said(original), described
            if mutation.kind == "repeated":
                assert sum(report.repeats.values()) >= 1, described
            assert report.conflicts == {}, described
        else:
            assert where_it_went(rows, mutation, endpoint, report) is not None, described
        return
    value = at(mutation.value, mutation.changed)
    went = held_anywhere(rows, said(original), value)
    if went is None and list_path not in ROW_LISTS:
        went = where_it_went(rows, mutation, endpoint, report)
    assert went is not None, f"{described}: {value!r} is nowhere"
    event(f"conflicting: {went}")
    errors = [e for e in rows.get("extract_errors", []) if e["error_code"] == "repeated_key"]
    assert sum(report.conflicts.values()) == len(errors), described
