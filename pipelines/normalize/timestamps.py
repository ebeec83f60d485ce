"""API timestamps -> integer microseconds since the Unix epoch, UTC.

The API sends instants as epoch numbers in seconds (up to 9 fractional digits) or,
in places, in milliseconds, plus ISO-8601 twins with offsets. Timestamps are carried
as ints through the normalizer and written as `timestamp[us, tz=UTC]`, so no
datetime object is built on the epoch path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# 1e11 seconds is the year 5138, while 1e11 milliseconds is March 1973: no real epoch
# in seconds reaches it and no real one in milliseconds stays below it.
MILLISECONDS_THRESHOLD = 100_000_000_000
MICROS_PER_SECOND = 1_000_000
MIN_MICROS = -62_135_596_800 * MICROS_PER_SECOND  # 0001-01-01T00:00:00Z
MAX_MICROS = 253_402_300_800 * MICROS_PER_SECOND - 1  # 9999-12-31T23:59:59.999999Z

YEAR_TOO_LARGE = "year > 9999"
YEAR_TOO_SMALL = "year < 1"
UNPARSEABLE = "unparseable"
WRONG_TYPE = "wrong type"

_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NUMERIC = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_ISO = re.compile(
    r"\s*(?P<year>[+-]?\d{4,})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?\s*"
)

# The API's own ISO shape ("2026-11-06T07:01:28.632Z", "+05:30" offsets): parsed by
# datetime.fromisoformat, which agrees with _ISO on every string this pattern admits
# and raises on the invalid ones (hour 24, second 60, day 31 of a 30-day month, year
# 0, a day-long offset), which then take the general path to be rejected with a reason.
_COMMON_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6})?(?:Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_MICROSECOND = dt.timedelta(microseconds=1)

Parsed = tuple[int | None, str | None]
"""(microseconds, None) on success, (None, reason) when the value cannot be used."""


def to_micros(
    value: object, warnings: Counter[str] | None = None, label: str = "timestamp"
) -> int | None:
    """Microseconds UTC of an epoch number, numeric string or ISO-8601 string.

    None stays None. A value that cannot be used (garbage, year past 9999) gives None
    and, when `warnings` is given, counts `"<label>: <reason>"` there.
    """
    micros, problem = parse_timestamp(value)
    if problem is not None and warnings is not None:
        warnings[f"{label}: {problem}"] += 1
    return micros


def parse_timestamp(value: object) -> Parsed:
    """Like `to_micros`, but returns the reason a value was rejected instead of counting it."""
    kind = type(value)
    if kind is float or kind is int:
        # The common case, what epoch_to_micros gives for it: seconds within the years
        # 68..5138 take no milliseconds rule and never leave the range.
        if -60_000_000_000 < value < MILLISECONDS_THRESHOLD:
            micros = value * MICROS_PER_SECOND
            return (micros if kind is int else round(micros)), None
        return epoch_to_micros(value)
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, WRONG_TYPE
    if isinstance(value, int | float):
        return epoch_to_micros(value)
    if isinstance(value, str):
        if _NUMERIC.fullmatch(value):
            return _numeric_string_to_micros(value)
        return iso_to_micros(value)
    return None, WRONG_TYPE


def epoch_to_micros(value: int | float) -> Parsed:
    """Epoch seconds or milliseconds (|v| >= 1e11) to microseconds, rounded to the nearest one."""
    if isinstance(value, float) and not math.isfinite(value):
        return None, UNPARSEABLE
    milliseconds = abs(value) >= MILLISECONDS_THRESHOLD
    scale = 1_000 if milliseconds else MICROS_PER_SECOND
    scaled = value * scale
    if isinstance(scaled, float) and not math.isfinite(scaled):  # 1e308 milliseconds
        return None, YEAR_TOO_LARGE if value > 0 else YEAR_TOO_SMALL
    # round(), not int(): the binary float nearest 1728281969.3 is 1728281969.29999995...
    return _in_range(scaled if isinstance(value, int) else round(scaled))


def _numeric_string_to_micros(text: str) -> Parsed:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None, UNPARSEABLE
    scale = 1_000 if abs(number) >= MILLISECONDS_THRESHOLD else MICROS_PER_SECOND
    micros = int((number * scale).to_integral_value(rounding=ROUND_HALF_EVEN))
    return _in_range(micros)


def iso_to_micros(text: str) -> Parsed:
    """ISO-8601 date-time (offset `Z`, `+05:30`, `+0530` or none = UTC) to microseconds."""
    if _COMMON_ISO.fullmatch(text):
        return _common_iso_to_micros(text)
    return _any_iso_to_micros(text)


def _common_iso_to_micros(text: str) -> Parsed:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _any_iso_to_micros(text)  # an invalid value: the general parser says why
    return _in_range((moment - _EPOCH) // _ONE_MICROSECOND)


def _any_iso_to_micros(text: str) -> Parsed:
    match = _ISO.fullmatch(text)
    if match is None:
        return None, UNPARSEABLE
    parts = match.groupdict()
    year = int(parts["year"])
    if year > 9999:
        return None, YEAR_TOO_LARGE
    if year < 1:
        return None, YEAR_TOO_SMALL
    try:
        day = dt.date(year, int(parts["month"]), int(parts["day"])).toordinal()
    except ValueError:
        return None, UNPARSEABLE
    hour, minute, second = (int(parts[name] or 0) for name in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        return None, UNPARSEABLE
    seconds = (day - _UNIX_EPOCH_ORDINAL) * 86_400 + hour * 3_600 + minute * 60 + second
    seconds -= _offset_seconds(parts["offset"])
    return _in_range(seconds * MICROS_PER_SECOND + _fraction_micros(parts["fraction"]))


def _offset_seconds(offset: str | None) -> int:
    if offset is None or offset in ("Z", "z"):
        return 0
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    sign = -1 if offset[0] == "-" else 1
    return sign * (hours * 3_600 + minutes * 60)


def _fraction_micros(fraction: str | None) -> int:
    if not fraction:
        return 0
    if len(fraction) <= 6:
        return int(fraction.ljust(6, "0"))
    divisor = 10 ** (len(fraction) - 6)
    return (int(fraction) * 2 + divisor) // (2 * divisor)  # round half up


def _in_range(micros: int) -> Parsed:
    if micros > MAX_MICROS:
        return None, YEAR_TOO_LARGE
    if micros < MIN_MICROS:
        return None, YEAR_TOO_SMALL
    return micros, None


# twin text -> (its microseconds or None, how near an instant it restates lies); None for
# the broken form, which restates any (bounded memo)
_twins: dict[str, tuple[int | None, int] | None] = {}
_TWIN_MEMO_ENTRIES = 65_536
_FRACTION = re.compile(r"[.,](\d+)")


def restates(micros: int, twin: str) -> bool:
    """Whether an ISO twin restates the instant `micros` to its own precision (whole
    seconds, or as many fractional digits as it writes), or is the documented broken form
    of a millisecond epoch's twin (a year past 9999, `+57906-04-18`)."""
    try:
        reading = _twins[twin]
    except KeyError:
        if len(_twins) >= _TWIN_MEMO_ENTRIES:
            _twins.clear()
        reading = _twins[twin] = _twin_reading(twin)
    if reading is None:
        return True
    twin_micros, precision = reading
    return twin_micros is not None and -precision < micros - twin_micros < precision


def _twin_reading(twin: str) -> tuple[int | None, int] | None:
    twin_micros, problem = parse_timestamp(twin)
    if problem is not None:
        return None if problem == YEAR_TOO_LARGE else (None, 0)
    return twin_micros, _precision(twin)


def _precision(twin: str) -> int:
    """Microseconds an instant written as `twin` stands for: 1 for a number, else a second
    shortened by each fractional digit it writes."""
    fraction = _FRACTION.match(twin, 19) or _FRACTION.search(twin, 10)
    if fraction is None:
        return 1 if _NUMERIC.fullmatch(twin) else MICROS_PER_SECOND
    if _NUMERIC.fullmatch(twin):
        return 1
    return 10 ** (6 - min(len(fraction.group(1)), 6))
