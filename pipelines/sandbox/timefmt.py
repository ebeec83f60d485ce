"""How the vendor writes instants: epoch numbers in several spellings and ISO twins.

Epoch spellings (the number's text, written into the body verbatim):
  frac9  seconds with nine fraction digits   1765185213.630000000
  short  seconds, fraction without trailing zeros (at least one digit)   1728281969.3
  int    whole seconds when the instant has no fraction (else like short)   1716803487
  ms     milliseconds with nine fraction digits   1765178896000.000000000
ISO twins: UTC `Z` or `+05:30`, milliseconds when non-zero; the twin of a millisecond
epoch is the vendor's broken one (the milliseconds read as seconds: `+57906-04-18...`).
"""

from __future__ import annotations

SECOND = 1_000_000
IST_OFFSET_US = (5 * 3600 + 30 * 60) * SECOND


def epoch_text(us: int, style: str) -> str:
    seconds, fraction = divmod(us, SECOND)
    if style == "ms":
        millis, micros = divmod(us, 1000)
        return f"{millis}.{micros:03d}000000"
    if style == "frac9":
        return f"{seconds}.{fraction:06d}000"
    if style == "int" and fraction == 0:
        return str(seconds)
    return f"{seconds}.{(f'{fraction:06d}'.rstrip('0') or '0')}"


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01, for any year (proleptic Gregorian)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def iso_text(us: int, offset: bool = False) -> str:
    local = us + (IST_OFFSET_US if offset else 0)
    days, rest = divmod(local, 86_400 * SECOND)
    year, month, day = _civil_from_days(days)
    seconds, micros = divmod(rest, SECOND)
    hour, minute, second = seconds // 3600, seconds // 60 % 60, seconds % 60
    year_text = f"+{year}" if year > 9999 else f"{year:04d}"
    millis = f".{micros // 1000:03d}" if micros // 1000 else ""
    zone = "+05:30" if offset else "Z"
    return f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{millis}{zone}"


def broken_ms_iso_text(us: int) -> str:
    """The vendor's ISO twin of a millisecond epoch: the milliseconds taken as seconds."""
    return iso_text((us // 1000) * SECOND)
