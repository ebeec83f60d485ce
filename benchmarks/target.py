"""The server under test: a sandbox child process with added latency, and how children reach it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.sandbox import Faults, SandboxCredentials, SandboxProcess

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Variables of the pipeline's configuration; a child gets only the ones set here.
CONFIG_PREFIXES = ("CAPILLARY_", "BADGES_", "DAGSTER_")


@dataclass(frozen=True)
class Target:
    base_url: str
    username: str
    password: str = field(repr=False)
    customers_csv: Path

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of a child pointed at this sandbox with Basic auth."""
        return project_env(
            CAPILLARY_BASE_URL=self.base_url,
            CAPILLARY_USERNAME=self.username,
            CAPILLARY_PASSWORD=self.password,
            CAPILLARY_CUSTOMERS=str(self.customers_csv),
            **extra,
        )


def project_env(keep: tuple[str, ...] = (), **extra: str) -> dict[str, str]:
    """This environment without the pipeline's configuration (except the variables named in
    `keep`), the project importable, then `extra`."""
    env = {k: v for k, v in os.environ.items() if k in keep or not k.startswith(CONFIG_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def sandbox_target(
    customers: int, badges: int, latency_ms: float, workdir: Path, seed: int = 7
) -> Iterator[Target]:
    """A fresh sandbox with random credentials; its customers are written to `workdir`."""
    credentials = SandboxCredentials.random()
    customers_csv = workdir / f"customers-{customers}.csv"
    with SandboxProcess(
        customers=customers,
        badges=badges,
        seed=seed,
        credentials=credentials,
        faults=Faults(latency_ms=latency_ms),
        customers_csv=customers_csv,
    ) as process:
        yield Target(process.base_url, credentials.username, credentials.password, customers_csv)
