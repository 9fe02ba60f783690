"""Blobs in an S3-compatible bucket (``JIBO_BLOB_URL=s3://bucket/prefix``), through boto3.

Why a bucket: with several server hosts on one database (docs/deployment.md), a photo, backup
or update package stored on one host's disk is lost with that host and invisible to the
others. Any S3-compatible store works (AWS S3, MinIO, Ceph RGW, Garage, Azure Blob Storage
through an S3 gateway); ``JIBO_S3_ENDPOINT_URL`` names one that is not AWS.

boto3 is blocking, so every call runs in ``trio.to_thread.run_sync`` (never on the trio
thread). One client is built at start-up and shared (boto3 clients are thread-safe; sessions
are not). Credentials come from boto3's own chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a profile, an instance role): the server never reads or logs them.

Bodies still arrive in a private temporary file under the local staging folder
(:meth:`Blobs.open_writer`); :meth:`BlobWriter.commit` then streams that file to the bucket
(boto3's managed transfer: multipart above 8 MiB, a part in memory at a time), and the object
appears whole or not at all. Downloads read the object's body in chunks. A bucket that cannot
be reached is :class:`StorageUnavailable` (REST answers 503, like an unreachable database).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import trio

from jibo_cloud.errors import ConfigError, MissingExtra, StorageUnavailable
from jibo_cloud.metrics import observe_storage
from jibo_cloud.storage.blobs import BlobReader, Blobs, StoredBlob, check_key

if TYPE_CHECKING:
    from jibo_cloud.config import Config

#: boto3 calls in flight at once (the pool of HTTP connections is this big too).
MAX_CONNECTIONS = 16
#: Seconds to connect and to wait for a read: a stuck store must not hold a request forever.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
#: Above this size the upload is multipart (boto3's default).
MULTIPART_THRESHOLD = 8 * 1024 * 1024


def parse_blob_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix/")``.

    Raises:
        ConfigError: not an ``s3://`` URL with a bucket name.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"JIBO_BLOB_URL must look like s3://bucket/prefix, got {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


def _unavailable(exc: Exception) -> StorageUnavailable:
    """The error REST turns into 503; names the failure's kind, never a credential."""
    response: Any = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return StorageUnavailable(f"the blob bucket failed: {code or type(exc).__name__}")


def _is_missing(exc: Exception) -> bool:
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound")


class S3BlobStore(Blobs):
    """Blobs as objects ``<prefix><key>`` in one bucket."""

    kind = "s3"

    def __init__(self, root: Path, bucket: str, prefix: str, client: Any) -> None:
        super().__init__(root)
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        from boto3.s3.transfer import TransferConfig

        # No transfer threads of its own: the upload already runs in a trio worker thread.
        self._transfer = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, use_threads=False)

    def object_name(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def _call(self, op: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in a worker thread, timed as ``op``; boto3's failures
        become :class:`StorageUnavailable` (a missing object is left to the caller)."""
        from botocore.exceptions import BotoCoreError, ClientError

        def run() -> Any:
            return fn(*args, **kwargs)

        started = time.perf_counter()
        try:
            result = await trio.to_thread.run_sync(run)
        except ClientError as exc:
            missing = _is_missing(exc)
            observe_storage("s3", op, time.perf_counter() - started, failed=not missing)
            if missing:
                raise
            raise _unavailable(exc) from None
        except BotoCoreError as exc:
            observe_storage("s3", op, time.perf_counter() - started, failed=True)
            raise _unavailable(exc) from None
        observe_storage("s3", op, time.perf_counter() - started)
        return result

    def _publisher(self, key: str) -> Callable[[int, Path], None]:
        name = self.object_name(key)

        def publish(fd: int, temp: Path) -> None:
            from botocore.exceptions import BotoCoreError, ClientError

            os.close(fd)  # the bucket makes it durable; no local fsync needed
            try:
                self.client.upload_file(str(temp), self.bucket, name, Config=self._transfer)
            except (BotoCoreError, ClientError) as exc:
                raise _unavailable(exc) from None
            finally:
                temp.unlink(missing_ok=True)

        return publish

    async def write(self, key: str, data: bytes) -> StoredBlob:
        await self._call(
            "blob_put",
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.object_name(key),
            Body=data,
        )
        return StoredBlob(key=key, length=len(data), sha256=hashlib.sha256(data).hexdigest())

    async def _get(self, key: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            return await self._call(
                "blob_open", self.client.get_object, Bucket=self.bucket, Key=self.object_name(key)
            )
        except ClientError:  # only a missing object gets here (see _call)
            return None

    async def read(self, key: str) -> bytes | None:
        found = await self._get(key)
        if found is None:
            return None
        body = found["Body"]
        try:
            data: bytes = await self._call("blob_get", body.read)
        finally:
            body.close()
        return data

    async def open_reader(self, key: str) -> BlobReader | None:
        found = await self._get(key)
        if found is None:
            return None
        body = found["Body"]

        async def read(size: int) -> bytes:
            data: bytes = await self._call("blob_read", body.read, size)
            return data

        async def close() -> None:
            await trio.to_thread.run_sync(body.close)

        return BlobReader(int(found["ContentLength"]), read, close)

    async def delete(self, key: str) -> None:
        await self._call(
            "blob_delete", self.client.delete_object, Bucket=self.bucket, Key=self.object_name(key)
        )

    async def check(self) -> None:
        from botocore.exceptions import ClientError

        try:
            await self._call("check", self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:  # a 404: the bucket does not exist
            raise _unavailable(exc) from None

    async def aclose(self) -> None:
        await trio.to_thread.run_sync(self.client.close)


def make_client(config: Config) -> Any:
    """The boto3 S3 client for ``config`` (endpoint, region; credentials from boto3's chain)."""
    try:
        import boto3
        from botocore.config import Config as BotoConfig
    except ImportError:
        raise MissingExtra("s3", "JIBO_BLOB_URL=s3://… needs boto3") from None
    settings = BotoConfig(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=MAX_CONNECTIONS,
        # Path-style addressing (endpoint/bucket/key) for self-hosted stores, which rarely
        # have a DNS name per bucket; AWS itself takes either.
        s3={"addressing_style": "path" if config.s3_endpoint_url else "auto"},
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=config.s3_endpoint_url or None,
        region_name=config.s3_region or None,
        config=settings,
    )


async def open_s3_store(config: Config) -> S3BlobStore:
    """The bucket of ``config.blob_url``, checked reachable (one clear line if not).

    Raises:
        ConfigError: the bucket is missing, refuses us, or cannot be reached.
    """
    bucket, prefix = parse_blob_url(config.blob_url)
    client = await trio.to_thread.run_sync(make_client, config)
    store = S3BlobStore(config.blob_dir, bucket, prefix, client)
    try:
        await store.check()
    except StorageUnavailable as exc:
        await store.aclose()
        where = config.s3_endpoint_url or "AWS"
        raise ConfigError(
            f"cannot use the blob bucket {bucket!r} at {where}: {exc} (check JIBO_BLOB_URL, "
            "JIBO_S3_ENDPOINT_URL and the AWS_* credentials)"
        ) from None
    return store
