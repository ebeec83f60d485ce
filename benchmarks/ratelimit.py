"""Extraction under the vendor's rate limits: the share of 429s and the time against the ideal.

    uv run python benchmarks/ratelimit.py --customers 100 --limits 60/5s 150/5s

The sandbox (a child process) limits each API per fixed window, with or without a
Retry-After header. The extraction (`extract_to_archive`, in this process) either finds the
limit from the 429s (a first night), starts at the limits the row above it found (the next
night, which remembers them), or is told it (`CAPILLARY_RATE_LIMIT`). The ideal is the slowest API's
calls over its limit: no client can do better against a fixed-window server that started
its window when the client did. Short windows stand in for the vendor's minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.client.rates import Rate, parse_rate, parse_rate_limits
from pipelines.client.settings import ApiSettings, ClientTuning
from pipelines.extract.customers import load_customers
from pipelines.extract.extraction import extract_to_archive
from pipelines.sandbox import Faults, SandboxCredentials, SandboxProcess

MODES = {  # Retry-After sent, limit stated, limits remembered from the row above
    "found, Retry-After": (True, False, False),
    "remembered, Retry-After": (True, False, True),
    "found, no Retry-After": (False, False, False),
    "remembered, no Retry-After": (False, False, True),
    "stated budget": (True, True, False),
}


@dataclass
class Outcome:
    limit: str
    mode: str
    requests: int
    throttled: int
    failed: int
    seconds: float
    ideal_seconds: float
    found: dict[str, Rate]  # per API: the limits measured

    def line(self) -> str:
        share = self.throttled / self.requests if self.requests else 0.0
        return (
            f"{self.limit:>8}  {self.mode:<28}{self.requests:>9,}{self.throttled:>7,}"
            f"{share:>8.1%}{self.failed:>7,}{self.seconds:>9.1f}{self.ideal_seconds:>9.1f}"
            f"{self.seconds / self.ideal_seconds:>8.2f}"
        )


def measure(
    customers: int, limit: str, mode: str, workdir: Path, found: dict[str, Rate]
) -> Outcome:
    """One extraction; a remembering mode starts at `found`, the limits found before."""
    retry_after, stated, remembering = MODES[mode]
    credentials = SandboxCredentials.random()
    csv = workdir / "customers.csv"
    faults = Faults(rate_limit=limit, retry_after=retry_after)
    with SandboxProcess(customers, 80, 7, credentials, faults, customers_csv=csv) as sandbox:
        tuning = ClientTuning(rate_limits=parse_rate_limits(limit) if stated else {})
        settings = ApiSettings(
            sandbox.base_url, credentials.username, credentials.password, tuning=tuning
        )
        with tempfile.TemporaryDirectory(dir=workdir) as raw:
            report = extract_to_archive(
                settings,
                load_customers(csv),
                Path(raw),
                remembered_limits=found if remembering else {},
            )
    rate = parse_rate(limit).per_second
    ideal = max(count / rate for count in report.calls.values())
    return Outcome(
        limit,
        mode,
        report.requests,
        report.throttled_429,
        report.failed_calls,
        report.seconds,
        ideal,
        report.limits or found,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--limits", nargs="+", default=["60/5s", "150/5s"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    args = parser.parse_args(argv)
    print(
        f"{'limit':>8}  {'mode':<28}{'requests':>9}{'429s':>7}{'share':>8}{'failed':>7}"
        f"{'seconds':>9}{'ideal':>9}{'ratio':>8}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="badges-ratelimit-") as tmp:
        for limit in args.limits:
            found: dict[str, Rate] = {}
            for mode in args.modes:
                outcome = measure(args.customers, limit, mode, Path(tmp), found)
                found = outcome.found
                print(outcome.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
