"""A real S3-protocol server on loopback for the tests (loaded with `-p tests.object_storage`):
moto's server, over HTTP on a free port, with boto3 and django-storages talking to it as they
would to AWS. Nothing of boto3 is mocked: every save, read and delete is an S3 request.

- `s3_server` (session): the running server, its endpoint and a boto3 client of its own;
- `s3_bucket` (per test): a fresh bucket, `default_storage` pointed at it through the same
  backend the settings build (config/storage.py), and a way to read the bucket directly,
  around the application, to check what really lies there.
"""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass

import pytest

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "eu-north-1"


@dataclass
class S3Server:
    endpoint_url: str
    client: object

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()


@dataclass
class Bucket:
    """One test's bucket, read directly from the server (not through Django's storage)."""

    name: str
    server: S3Server

    def names(self, prefix: str = "") -> set[str]:
        return self.server.keys(self.name, prefix)

    def read(self, key: str) -> bytes:
        return self.server.read(self.name, key)

    def put(self, key: str, body: bytes) -> None:
        self.server.client.put_object(Bucket=self.name, Key=key, Body=body)

    def remove(self, key: str) -> None:
        self.server.client.delete_object(Bucket=self.name, Key=key)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    import boto3
    from botocore.config import Config
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
    )
    try:
        yield S3Server(endpoint_url=endpoint, client=client)
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings):
    """A fresh bucket, and the application's files stored in it for this test."""
    from config.storage import s3_storages

    name = f"vastaja-test-{uuid.uuid4().hex[:12]}"
    s3_server.client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    # pytest-django's `settings` sends setting_changed, which drops Django's cached default_storage.
    settings.STORAGES = s3_storages(
        bucket=name,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        timeout_seconds=5,
    )
    bucket = Bucket(name=name, server=s3_server)
    yield bucket
    for key in bucket.names():
        bucket.remove(key)
    s3_server.client.delete_bucket(Bucket=name)
