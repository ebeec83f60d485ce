"""An S3-compatible store for tests: moto's S3 server in this process, on a free port of
127.0.0.1, stopped after. It sets no variable of this process: a test hands the endpoint and
credentials to what it starts (`S3Server.environment()`) or builds a client from them.

    def test_something(s3: S3Server):
        fs = s3.filesystem()        # pyarrow.fs.S3FileSystem on the endpoint
        fs.create_dir("my-bucket")  # buckets are shared by the session: name yours uniquely

moto keeps its state per process, so every test of the session sees the same buckets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pyarrow import fs


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str  # http://127.0.0.1:PORT
    access_key: str = "testing-access-key"
    secret_key: str = "testing-secret-key"  # moto accepts any credentials
    region: str = "us-east-1"
    moto: Any = None  # the ThreadedMotoServer, for a test that stops it on purpose

    def environment(self) -> dict[str, str]:
        """The standard AWS variables pointing at this server, for a process a test starts."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    def filesystem(self, allow_bucket_creation: bool = True) -> fs.S3FileSystem:
        """pyarrow's S3 filesystem on this server."""
        return fs.S3FileSystem(
            endpoint_override=self.endpoint_url.removeprefix("http://"),
            scheme="http",
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            allow_bucket_creation=allow_bucket_creation,
            allow_bucket_deletion=True,
        )


@contextlib.contextmanager
def started_s3(port: int = 0) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 (`port`, or one the system picks), stopped on exit.
    Its buckets live in this process: a server started again on the same port serves
    them again, as a store that was down for a while."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(endpoint_url=f"http://{host}:{port}", moto=server)
    finally:
        with contextlib.suppress(Exception):  # already stopped by the test
            server.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """One S3 server for the whole session."""
    with started_s3() as server:
        yield server
