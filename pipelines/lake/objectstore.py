"""An S3-compatible bucket (`BADGES_BUCKET_URL=s3://bucket/prefix`) through pyarrow's
`S3FileSystem`.

pyarrow is already what writes every Parquet file here, its filesystem layer is a
maintained C++ client (the AWS SDK), and the same object reads the lake back as a dataset;
obstore, s3fs or boto3 would add a second stack for the same calls. The endpoint and the
region are given (`BucketAccess`, read from `AWS_ENDPOINT_URL` and `AWS_REGION` by the
settings); the credentials are the SDK's own chain (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, ...), never a file here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pyarrow import fs

CHUNK = 8 << 20


class BucketError(RuntimeError):
    """The bucket could not be reached, refused the credentials, or holds a bad object."""


@dataclass(frozen=True)
class BucketAccess:
    """How the bucket is reached: its endpoint (None: AWS), its region, and the credential
    values no message may repeat."""

    endpoint: str | None = None
    region: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Bucket:
    url: str  # s3://bucket/prefix
    filesystem: fs.FileSystem
    root: str  # bucket/prefix, as pyarrow names it
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_url(cls, url: str, access: BucketAccess) -> Bucket:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise BucketError(f"BADGES_BUCKET_URL={url!r}: expected s3://bucket/prefix")
        root = f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
        return cls(url.rstrip("/"), _filesystem(access), root, access.secrets)

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def check(self) -> None:
        """Raises BucketError unless the bucket answers with these credentials."""
        bucket_name = self.root.split("/", 1)[0]
        info = self._call("reach", lambda: self.filesystem.get_file_info(bucket_name))
        if info.type == fs.FileType.NotFound:
            raise BucketError(f"bucket {self.url}: the bucket {bucket_name!r} does not exist")
        self._call("list", lambda: self.list(""))

    def exists(self, key: str) -> bool:
        info = self._call(key, lambda: self.filesystem.get_file_info(self.path(key)))
        return info.type != fs.FileType.NotFound

    def list(self, prefix: str) -> dict[str, int]:
        """Every object under `prefix` (relative keys) and its size."""
        selector = fs.FileSelector(
            self.path(prefix).rstrip("/"), recursive=True, allow_not_found=True
        )
        infos = self._call(prefix, lambda: self.filesystem.get_file_info(selector))
        start = len(self.root) + 1
        return {i.path[start:]: i.size for i in infos if i.type == fs.FileType.File}

    def upload(self, local: Path, key: str) -> int:
        """Copies a local file to `key` and verifies the object's size; the bytes sent."""
        size = local.stat().st_size

        def send() -> None:
            with (
                local.open("rb") as source,
                self.filesystem.open_output_stream(
                    self.path(key), metadata={"Content-Type": "application/octet-stream"}
                ) as target,
            ):
                shutil.copyfileobj(source, target, CHUNK)

        self._call(key, send)
        stored = self._call(key, lambda: self.filesystem.get_file_info(self.path(key))).size
        if stored != size:
            raise BucketError(f"bucket {self.url}: {key} holds {stored} bytes, expected {size}")
        return size

    def download(self, key: str, local: Path) -> int:
        """Copies `key` to a local file (through a temporary sibling); the bytes received."""
        local.parent.mkdir(parents=True, exist_ok=True)
        temporary = local.with_name(local.name + ".download")

        def receive() -> None:
            with (
                self.filesystem.open_input_stream(self.path(key)) as source,
                temporary.open("wb") as target,
            ):
                shutil.copyfileobj(source, target, CHUNK)

        try:
            self._call(key, receive)
            os.replace(temporary, local)
        finally:
            temporary.unlink(missing_ok=True)
        return local.stat().st_size

    def write_json(self, key: str, value: dict[str, Any]) -> None:
        data = json.dumps(value, indent=2, sort_keys=True).encode()

        def send() -> None:
            with self.filesystem.open_output_stream(self.path(key)) as target:
                target.write(data)

        self._call(key, send)

    def read_json(self, key: str) -> dict[str, Any] | None:
        if not self.exists(key):
            return None

        def receive() -> bytes:
            with self.filesystem.open_input_stream(self.path(key)) as source:
                return source.read()

        try:
            return json.loads(self._call(key, receive))
        except json.JSONDecodeError as error:
            raise BucketError(f"bucket {self.url}: {key} is not JSON ({error})") from None

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            self._call(key, lambda key=key: self.filesystem.delete_file(self.path(key)))

    def _call(self, what: str, action: Any) -> Any:
        try:
            return action()
        except (OSError, ValueError) as error:
            message = redact(str(error), self.secrets)
            raise BucketError(f"bucket {self.url} ({what}): {message}") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` without any of the credential values."""
    for value in secrets:
        if value and len(value) >= 4:  # shorter values would mask ordinary words
            text = text.replace(value, "***")
    return text


def _filesystem(access: BucketAccess) -> fs.S3FileSystem:
    options: dict[str, Any] = {"connect_timeout": 5, "request_timeout": 30}
    if access.endpoint:
        parts = urlsplit(access.endpoint)
        options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
    if access.region:
        options["region"] = access.region
    return fs.S3FileSystem(**options)
