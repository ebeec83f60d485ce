"""The field readers against a second writing of the same rules, on random objects.

The reference below is the field semantics written the slow, obvious way (first
non-null key wins, ISO twins only when every epoch key is null, a rejected value
stays unused and is counted, a twin is used when it restates the read instant to its
own precision or is the broken form of a year past 9999, counted when it is not text or
empty, or says another instant or none). Every way the normalizer reads fields (an
ObjectReader's fill and read, flat_row) must agree with it on column values, on
which keys end in extra, and on the warnings.
"""

import random
import re
from collections import Counter
from typing import Any

import orjson
import pytest

from pipelines.normalize.constraints import CYCLE_FIELDS, LIMIT_FIELDS
from pipelines.normalize.fields import Converted, Field, boolean, integer, text, timestamp, unit
from pipelines.normalize.mappings import (
    BADGE_FIELDS,
    CUSTOMER_BADGE_FIELDS,
    DETAIL_FIELDS,
    EARN_FIELDS,
    ISSUAL_FIELDS,
)
from pipelines.normalize.reader import ObjectReader, flat_row
from pipelines.normalize.timestamps import parse_timestamp

VALUES = [
    None, "", "abc", "  42 ", "-3", "daily", "WEEKLY", "months", "true", "FALSE", "1e3",
    "1765185213.630000000", "2024-10-07T10:19:29+05:30", "2024-10-07T10:19:29.123Z",
    "+57906-04-18T00:00:00Z", "2024-13-40T00:00:00Z", "2024-01-01T24:00:00Z",
    0, 1, -7, 123, 2**63, -(2**63), 99_999_999_999, 100_000_000_000, -60_000_000_001,
    0.0, 3.0, 12.5, 1728281969.3, 1765178896000.0, 1e300, -1e20,
    True, False, [], {}, [1, "x"], {"a": 1},
]  # fmt: skip


def _shouted(value: Any) -> Converted:
    return (value.upper(), None) if isinstance(value, str) else (None, "not text")


OVERLAPPING = (
    text("first", "a", "b"),
    integer("second", "b", "c"),
    timestamp("third", "a", "d"),
    Field("fourth", ("e",), _shouted),
)
FIELD_SETS = {
    "badges": BADGE_FIELDS,
    "customer_badges": CUSTOMER_BADGE_FIELDS,
    "customer_badge_details": DETAIL_FIELDS,
    "badge_issuals": ISSUAL_FIELDS,
    "badge_earns": EARN_FIELDS,
    "cycles": CYCLE_FIELDS,
    "limits": LIMIT_FIELDS,
    "mixed": (boolean("flag", "on", "enabled"), unit("unit", "u"), Field("loud", ("l",), _shouted)),
    "overlapping": OVERLAPPING,
}


def reference_read(source: dict, used: set, field: Field, table: str, warnings: Counter) -> Any:
    def first(keys: tuple[str, ...]) -> tuple[str | None, Any]:
        for key in keys:
            if source.get(key) is not None:
                return key, source[key]
            used.add(key)
        return None, None

    key, raw = first(field.keys)
    if raw is None and field.iso_keys:
        key, raw = first(field.iso_keys)
    if raw is None:
        return None
    value, problem = field.convert(raw)
    if problem is not None:
        warnings[f"{table}.{field.column}: {problem}"] += 1
        return None
    used.add(key)
    for twin in field.iso_keys:
        if twin in used:
            continue
        restated = source.get(twin)
        if restated is None:
            used.add(twin)
        elif not isinstance(restated, str) or restated == "":
            warnings[f"{table}.{field.column}: ISO twin wrong type"] += 1
        elif same_instant(value, restated):
            used.add(twin)
        else:
            warnings[f"{table}.{field.column}: ISO twin disagrees"] += 1
    return value


def same_instant(micros: int, twin: str) -> bool:
    """A twin restates an instant to the digits it writes, or is a year past 9999."""
    twin_micros, problem = parse_timestamp(twin)
    if problem is not None:
        return problem == "year > 9999"
    if re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", twin):
        return micros == twin_micros  # a number: to the microsecond
    fraction = re.search(r"[.,](\d+)", twin[10:])
    digits = min(len(fraction.group(1)), 6) if fraction else 0
    return abs(micros - twin_micros) < 10 ** (6 - digits)


def random_object(fields: tuple[Field, ...], rng: random.Random) -> dict[str, Any]:
    keys = [key for field in fields for key in (*field.keys, *field.iso_keys)]
    keys += ["unmapped", "other"]
    chosen = rng.sample(keys, rng.randint(0, len(keys)))
    return {key: rng.choice(VALUES) for key in chosen}


def unused(source: dict, used: set) -> list[str]:
    return [key for key in source if key not in used]


@pytest.mark.parametrize("name", FIELD_SETS)
def test_every_reader_agrees_with_the_reference(name):
    fields, rng = FIELD_SETS[name], random.Random(name)
    for _ in range(400):
        source = random_object(fields, rng)
        expected_used, expected_warnings = set(), Counter()
        expected = {f.column: reference_read(source, expected_used, f, name, expected_warnings)
                    for f in fields}  # fmt: skip
        expected_extra = {key: source[key] for key in unused(source, expected_used)}

        row, warnings = {}, Counter()
        reader = ObjectReader(source, name, warnings)
        reader.fill(row, fields)
        assert (row, reader.extra(), warnings) == (
            expected, expected_extra, expected_warnings
        ), source  # fmt: skip

        row, warnings = {}, Counter()
        flat_row(source, fields, name, row, warnings)
        extra = orjson.loads(row.pop("extra") or "{}")
        assert (row, extra, warnings) == (expected, expected_extra, expected_warnings), source


def test_single_field_read_agrees_with_the_reference():
    rng = random.Random(7)
    for field in (*DETAIL_FIELDS, *OVERLAPPING):
        for _ in range(200):
            source = random_object((field,), rng)
            expected_used, expected_warnings = set(), Counter()
            expected = reference_read(source, expected_used, field, "t", expected_warnings)
            warnings = Counter()
            reader = ObjectReader(source, "t", warnings)
            assert reader.read(field) == expected
            assert list(reader.extra()) == unused(source, expected_used)
            assert warnings == expected_warnings
