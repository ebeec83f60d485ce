"""The S3 fixture serves S3: a bucket, an object and a Parquet file, through pyarrow."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs

from tests.services.s3 import S3Server


def test_the_s3_server_keeps_objects_and_parquet_files(s3: S3Server):
    store = s3.filesystem()
    store.create_dir("services-test")

    with store.open_output_stream("services-test/raw/hello.txt") as out:
        out.write(b"hello bucket")
    table = pa.table({"customer_id": ["1001", "1002"], "earns": [3, 0]})
    pq.write_table(table, "services-test/lake/earns.parquet", filesystem=store)

    with store.open_input_stream("services-test/raw/hello.txt") as stream:
        assert stream.read() == b"hello bucket"
    assert pq.read_table("services-test/lake/earns.parquet", filesystem=store).equals(table)
    listed = store.get_file_info(fs.FileSelector("services-test", recursive=True))
    files = sorted(info.path for info in listed if info.type == fs.FileType.File)
    assert files == ["services-test/lake/earns.parquet", "services-test/raw/hello.txt"]
    assert os.environ.get("AWS_ENDPOINT_URL") != s3.endpoint_url  # nothing set globally
    reader = s3.filesystem(allow_bucket_creation=False)  # another client, same store
    assert reader.get_file_info("services-test/raw/hello.txt").size == len(b"hello bucket")
