from collections import Counter

import pytest

from pipelines.normalize.timestamps import iso_to_micros, parse_timestamp, to_micros
from tests.normalize.normalize_support import utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1716803487, "2024-05-27 09:51:27"),
        (1728281969.3, "2024-10-07 06:19:29.300000"),
        (1765185213.630000000, "2025-12-08 09:13:33.630000"),
        (1719898518.011293, "2024-07-02 05:35:18.011293"),
        (1764567956.97866, "2025-12-01 05:45:56.978660"),
        (1765178896000.000000000, "2025-12-08 07:28:16"),
        (1796275142001.0, "2026-12-03 05:19:02.001000"),
        (1796215795000, "2026-12-02 12:49:55"),
        ("1728281969.300000000", "2024-10-07 06:19:29.300000"),
        ("1765178896000", "2025-12-08 07:28:16"),
        (0, "1970-01-01 00:00:00"),
    ],
)
def test_epoch_seconds_and_milliseconds(value, expected):
    assert to_micros(value) == utc(expected)


def test_rounding_keeps_the_decimal_digits_a_float_cannot_hold():
    assert to_micros(1728281969.3) % 1_000_000 == 300_000
    assert to_micros(1707523237.192) % 1_000_000 == 192_000
    assert to_micros(0.0000005) == 0  # half a microsecond rounds to even
    assert to_micros(0.0000015) == 2


def test_milliseconds_threshold_is_1e11():
    assert to_micros(99_999_999_999) == 99_999_999_999 * 1_000_000
    assert to_micros(100_000_000_000) == 100_000_000_000 * 1_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-02T05:50:07Z", "2025-12-02 05:50:07"),
        ("2024-05-27T15:21:27+05:30", "2024-05-27 09:51:27"),
        ("2024-07-02T11:05:18.011+05:30", "2024-07-02 05:35:18.011000"),
        ("2026-02-04T06:45:10.000Z", "2026-02-04 06:45:10"),
        ("2024-01-01T00:00:00-0800", "2024-01-01 08:00:00"),
        ("2024-01-01T00:00:00.1234567Z", "2024-01-01 00:00:00.123457"),
        ("2024-01-01 10:00:00", "2024-01-01 10:00:00"),
        ("2024-03-01", "2024-03-01 00:00:00"),
    ],
)
def test_iso_strings_with_offsets(text, expected):
    assert to_micros(text) == utc(expected)


def test_year_past_9999_is_null_with_a_counted_warning():
    warnings = Counter()
    assert to_micros("+57906-04-18T07:06:40Z", warnings, "details.starts_at") is None
    # milliseconds of 10000-01-01T00:00:00Z
    assert to_micros(253402300800000, warnings, "details.starts_at") is None
    assert warnings == Counter({"details.starts_at: year > 9999": 2})
    assert iso_to_micros("+58891-10-02T13:00:00Z") == (None, "year > 9999")


def test_last_instant_of_9999_is_kept():
    assert to_micros("9999-12-31T23:59:59.999999Z") == utc("9999-12-31 23:59:59.999999")


@pytest.mark.parametrize("garbage", ["soon", "2024-13-01T00:00:00Z", "2024-02-30", [], {}, True])
def test_garbage_is_null_with_a_counted_warning(garbage):
    warnings = Counter()
    assert to_micros(garbage, warnings, "t") is None
    assert sum(warnings.values()) == 1
    assert next(iter(warnings)).startswith("t: ")


def test_none_is_null_without_warning():
    warnings = Counter()
    assert to_micros(None, warnings) is None
    assert not warnings


@pytest.mark.parametrize(("value", "problem"), [(1e308, "year > 9999"), (-1e308, "year < 1")])
def test_an_epoch_too_large_for_any_float_is_out_of_range_not_an_error(value, problem):
    # Found by the mutation tests: milliseconds * 1000 overflowed to infinity and raised.
    assert parse_timestamp(value) == (None, problem)
    assert parse_timestamp(1.7976931348623157e308) == (None, "year > 9999")
