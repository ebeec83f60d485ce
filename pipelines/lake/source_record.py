"""A data directory belongs to one source: the API host and the org its nights come from.

The first night records the source; a night against another one is refused before its
first call, since reusing one org's answers (badge meta, details) in another's snapshot
would mix the two. The record names the org as its credentials do, never by a secret."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from pipelines.lake.durable import write_text
from pipelines.lake.layout import Lake


@dataclass(frozen=True)
class SourceIdentity:
    api: str  # the API's host, or "the embedded sandbox"
    org: str  # the org as the credentials name it, or the sandbox's seed

    def describe(self) -> str:
        return f"{self.api} ({self.org})"


class OtherSource(RuntimeError):
    """The data directory holds the nights of another source; nothing was called."""


def recorded_source(lake: Lake) -> SourceIdentity | None:
    path = lake.source_record_path
    if not path.exists():
        return None
    values = json.loads(path.read_text(encoding="utf-8"))
    return SourceIdentity(values["api"], values["org"])


def claim_for_source(lake: Lake, source: SourceIdentity) -> None:
    """Records `source` as the data directory's when none is; raises OtherSource when the
    directory belongs to another one."""
    recorded = recorded_source(lake)
    if recorded is None:
        write_text(json.dumps(asdict(source), indent=2) + "\n", lake.source_record_path)
        return
    if recorded != source:
        raise OtherSource(
            f"the data directory {lake.root} holds the nights of {recorded.describe()}, "
            f"not of {source.describe()}; no call made: set BADGES_DATA_DIR to another "
            "directory for this source"
        )
