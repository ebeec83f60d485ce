"""The Iceberg catalog the lake's tables live in: its configuration (as pyiceberg users
give it, read at the edge by `ops.settings`; or the embedded SQLite catalog of the data
directory), opening it, its errors as one line naming it, and the embedded catalog's copy
in the bucket."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pyiceberg.catalog import AVAILABLE_CATALOGS, Catalog, infer_catalog_type

from pipelines.lake.layout import Lake
from pipelines.lake.objectstore import Bucket, BucketAccess

CATALOG_NAME = "badges"
NAMESPACE = "badges"
CATALOG_FILE = "catalog.sqlite"
# In the bucket, beside the mirror's own keys (whose nights' manifests list `lake/`).
BUCKET_PREFIX = "iceberg"
CATALOG_KEY = f"{BUCKET_PREFIX}/{CATALOG_FILE}"  # the embedded catalog's copy in the bucket
_SECRET_PROPERTIES = ("secret", "password", "token", "credential", "key-id")


class CatalogUnavailable(RuntimeError):
    """The Iceberg catalog did not answer, or refused a commit."""


@dataclass(frozen=True)
class CatalogConfig:
    """A pyiceberg catalog: its name and properties (`type`, `uri`, `warehouse`, `s3.*`...),
    as `.pyiceberg.yaml` or `PYICEBERG_CATALOG__<NAME>__*` give them."""

    name: str
    properties: Mapping[str, str]
    embedded: bool = False  # the SQLite catalog of the data directory
    local_warehouse: bool = True  # the tables' files on this disk (hard links, retention)

    @property
    def sqlite_path(self) -> Path:
        """The embedded catalog's file."""
        return Path(self.properties["uri"].removeprefix("sqlite:///"))

    def describe(self) -> str:
        """The catalog in words, without its secrets: kind, name and where it is."""
        kind = self.properties.get("type") or "sql"
        where = _without_password(self.properties.get("uri", ""))
        return f"the Iceberg catalog {self.name!r} ({kind}, {where or 'no uri'})"

    def open(self) -> Catalog:
        """The pyiceberg catalog from these properties alone (no configuration file read)."""
        properties = {k: v for k, v in self.properties.items() if v is not None}
        if self.embedded:  # created on first use: it needs no set-up
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        kind = infer_catalog_type(self.name, properties)
        if kind is None:
            raise CatalogUnavailable(f"{self.describe()}: no catalog type in its configuration")
        try:
            return AVAILABLE_CATALOGS[kind](self.name, properties)
        except Exception as error:
            raise CatalogUnavailable(
                f"{self.describe()} cannot be opened: {_said(error)}"
            ) from None


def embedded_catalog(lake: Lake, access: BucketAccess | None = None) -> CatalogConfig:
    """The default catalog: SQLite at `lake/catalog.sqlite`, its tables' files under
    `lake/iceberg/` or, with a bucket, under `<bucket>/iceberg/`."""
    properties = {"type": "sql", "uri": f"sqlite:///{lake.lake_dir / CATALOG_FILE}"}
    if access is not None:  # the tables a bucket holds stay readable whatever the setting
        properties |= s3_properties(access)
    if lake.bucket_url is None:
        properties["warehouse"] = (lake.lake_dir / "iceberg").as_uri()
        return CatalogConfig(CATALOG_NAME, properties, embedded=True)
    properties["warehouse"] = f"{lake.bucket_url.rstrip('/')}/{BUCKET_PREFIX}"
    return CatalogConfig(CATALOG_NAME, properties, embedded=True, local_warehouse=False)


def s3_properties(access: BucketAccess) -> dict[str, str]:
    """pyiceberg's FileIO properties for the bucket's endpoint and region (the credentials
    are the AWS SDK's chain, as for the mirror)."""
    properties = {"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
    if access.endpoint:
        properties["s3.endpoint"] = access.endpoint
    if access.region:
        properties["s3.region"] = access.region
    return properties


def restore_catalog(config: CatalogConfig, lake: Lake, bucket: Bucket) -> bool:
    """A fresh host's embedded catalog, brought from the bucket; True when it was."""
    local = lake.lake_dir / CATALOG_FILE
    if not config.embedded or local.exists() or not bucket.exists(CATALOG_KEY):
        return False
    bucket.download(CATALOG_KEY, local)
    return True


@contextmanager
def answering(config: CatalogConfig) -> Iterator[None]:
    """Whatever the catalog (or its files' store) raises, as one line naming the catalog."""
    try:
        yield
    except CatalogUnavailable:
        raise
    except Exception as error:
        secrets = secret_values(config.properties)
        said = _said(error)
        for secret in secrets:
            said = said.replace(secret, "***")
        raise CatalogUnavailable(f"{config.describe()} did not answer: {said}") from None


def backup_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file another connection may be writing."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def _without_password(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _said(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]


def secret_values(properties: Mapping[str, str]) -> tuple[str, ...]:
    """The configured values no message may show."""
    return tuple(
        v for k, v in properties.items() if v and any(s in k.lower() for s in _SECRET_PROPERTIES)
    )
