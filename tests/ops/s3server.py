"""A real S3-compatible HTTP server for tests: moto's server on an ephemeral 127.0.0.1 port.

Not an in-process mock of boto3: the server speaks S3 over HTTP in its own thread, and the
code under test reaches it through boto3 exactly as it would reach MinIO or AWS.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from jibo_cloud.config import Config

REGION = "us-east-1"


@attrs.frozen
class S3Server:
    endpoint: str
    bucket: str
    client: Any  # a boto3 client of our own, to look at the bucket behind the server's back

    @property
    def blob_url(self) -> str:
        return f"s3://{self.bucket}/jibo"

    def settings(self) -> dict[str, str]:
        """The ``Config`` overrides that point a server at this bucket."""
        return {"blob_url": self.blob_url, "s3_endpoint_url": self.endpoint, "s3_region": REGION}

    def environ(self) -> dict[str, str]:
        """The same as environment variables (for a ``serve`` subprocess), with credentials."""
        return {
            "JIBO_BLOB_URL": self.blob_url,
            "JIBO_S3_ENDPOINT_URL": self.endpoint,
            "JIBO_S3_REGION": REGION,
            **CREDENTIALS,
        }

    def names(self) -> list[str]:
        """Every object name in the bucket."""
        found = self.client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in found.get("Contents", []))


#: moto accepts any credentials; these only let boto3 sign.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret"}


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """A fresh bucket on a moto S3 server listening on 127.0.0.1 (an ephemeral port)."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        bucket = f"jibo-{secrets.token_hex(4)}"
        client.create_bucket(Bucket=bucket)
        yield S3Server(endpoint=endpoint, bucket=bucket, client=client)
    finally:
        server.stop()


def with_bucket(config: Config, s3: S3Server) -> Config:
    return attrs.evolve(config, **s3.settings())
