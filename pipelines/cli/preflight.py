"""What `badges run` and `badges replay` refuse before a run starts: a request no run could
fulfil is one line, and no failed run is recorded for it."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping

from pipelines.client.settings import ApiSettings
from pipelines.lake import Lake
from pipelines.lake.mirror import mirror_of
from pipelines.lake.objectstore import BucketAccess, BucketError
from pipelines.night.retention import no_archive_message
from pipelines.ops.source import NO_CUSTOMERS_FILE

API_PREFIX = "CAPILLARY_"


def unknown_api_variables(environ: Mapping[str, str], known: set[str]) -> str | None:
    """A `CAPILLARY_*` variable badges does not read, most likely a misspelled one."""
    for name in sorted(v for v in environ if v.startswith(API_PREFIX) and v not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {close[0]}?" if close else f"it reads {', '.join(sorted(known))}"
        return f"{name} is not a variable badges reads: {hint}"
    return None


def missing_credentials(environ: Mapping[str, str]) -> str | None:
    """With an API named, a pair of credentials for it and the customers file (the embedded
    sandbox needs neither)."""
    base_url = environ.get(f"{API_PREFIX}BASE_URL")
    if not base_url:
        return None
    try:
        ApiSettings(
            base_url=base_url,
            username=environ.get(f"{API_PREFIX}USERNAME"),
            password=environ.get(f"{API_PREFIX}PASSWORD"),
            client_key=environ.get(f"{API_PREFIX}CLIENT_KEY"),
            client_secret=environ.get(f"{API_PREFIX}CLIENT_SECRET"),
        )
    except ValueError as error:
        return str(error)
    if not environ.get(f"{API_PREFIX}CUSTOMERS"):
        return NO_CUSTOMERS_FILE
    return None


def archived_nights(lake: Lake, access: BucketAccess) -> list[dt.date] | None:
    """The nights whose raw archive is here or in the bucket; None when the bucket cannot
    be read (the run then says why)."""
    nights = set(lake.raw_dates())
    mirror = mirror_of(lake, access)
    if mirror is not None:
        try:
            nights.update(mirror.uploaded_dates())
        except BucketError:
            return None
    return sorted(nights)


def missing_archive(lake: Lake, access: BucketAccess, snapshot_date: dt.date) -> str | None:
    """A rebuild (a replay, a past date) of a night whose raw archive is nowhere."""
    nights = archived_nights(lake, access)
    if nights is None or snapshot_date in nights:
        return None
    if not nights:
        offered = "no night is archived yet"
    elif len(nights) == 1:
        offered = f"the archived night is {nights[0]}"
    else:
        offered = f"archived nights: {len(nights)}, from {nights[0]} to {nights[-1]}"
    return f"{no_archive_message(lake, snapshot_date)} ({offered})"


def refusal(
    replay: bool,
    snapshot_date: dt.date,
    today: dt.date,
    lake: Lake,
    access: BucketAccess,
    environ: Mapping[str, str],
    known_variables: set[str],
) -> str | None:
    """Why this night must not start, or None."""
    if (unknown := unknown_api_variables(environ, known_variables)) is not None:
        return unknown
    if replay or snapshot_date < today:
        return missing_archive(lake, access, snapshot_date)
    return missing_credentials(environ)
