"""A registered robot on the real server, and a REST client that signs like the robot.

Signing uses botocore's ``SigV4Auth`` (the reference signer) so the server is checked against
an independent implementation, not against itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import trio
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jibo_cloud.storage.provisioning import RobotSpec, add_robot
from tests.storage.backends import fresh_schema
from tests.support import env
from tests.support.server import RunningServer, start_server

ROBOT_NAME = "Test-Robot-Name-1"
SERIAL = "BOJW-1000-0000-0000-0001"
ROBOT_ID = "5f1d2c3b4a5968778695a4b3"
LOOP_ID = "4cac7f6b66665c31d0219831"
ACCOUNT_ID = "0a1b2c3d4e5f60718293a4b5"
OWNER = "user1@example.com"
ACCESS_KEY = "v0qcDdvEGWrqIuS3k5tr"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmn"
SPEC = RobotSpec(
    name=ROBOT_NAME, serial=SERIAL, robot_id=ROBOT_ID, owner_email=OWNER,
    access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY, loop_id=LOOP_ID,
    account_id=ACCOUNT_ID,
)  # fmt: skip


def signed_headers(
    target: str | None, body: bytes, *, key: str = ACCESS_KEY, secret: str = SECRET_KEY,
    service: str = "jibo", region: str = "us-east-1", host: str = "api.jibo.com",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    headers = {"Content-Type": "application/x-amz-json-1.1", **(extra or {})}
    if target:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=f"https://{host}/", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return dict(request.headers.items())


@attrs.define
class RestClient:
    http: httpx.AsyncClient
    host: str = "api.jibo.com"

    async def call(
        self, target: str, body: Any = None, *, sign: bool = True, raw: bytes | None = None,
        headers: dict[str, str] | None = None, **sign_args: Any,
    ) -> httpx.Response:  # fmt: skip
        data = raw if raw is not None else json.dumps({} if body is None else body).encode()
        if sign:
            sent = signed_headers(target, data, extra=headers, host=self.host, **sign_args)
        else:
            sent = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target,
                    **(headers or {})}  # fmt: skip
        sent["Host"] = self.host
        with trio.fail_after(20):
            return await self.http.post("/", content=data, headers=sent)

    async def ok(self, target: str, body: Any = None, **kw: Any) -> Any:
        response = await self.call(target, body, **kw)
        assert response.status_code == 200, (target, response.status_code, response.text)
        assert response.headers["content-type"] == "application/x-amz-json-1.1"
        return response.json()

    async def get(self, url: str) -> httpx.Response:
        """GET an absolute URL the server handed out (its host is a robot host name)."""
        path = httpx.URL(url).raw_path.decode()
        return await self.http.get(path, headers={"Host": self.host})

    async def put(self, url: str, data: bytes) -> httpx.Response:
        path = httpx.URL(url).raw_path.decode()
        return await self.http.put(path, content=data, headers={"Host": self.host})


#: An operator key pair (``jibo-cloud operator key``), added straight to the storage by tests.
OPERATOR_KEY = "JIBOOPERATORTESTKEY1"
OPERATOR_SECRET = "operator-secret-for-tests-0123456789abcd"


async def register_robot(server: RunningServer) -> None:
    await add_robot(server.runtime.storage, SPEC, now_ms=server.runtime.now_ms())


async def register_operator(server: RunningServer) -> dict[str, str]:
    """Add the test operator key; returns the signing arguments for :meth:`RestClient.call`."""
    from jibo_cloud.storage.principals import OperatorKey

    key = OperatorKey(OPERATOR_KEY, OPERATOR_SECRET, server.runtime.now_ms(), "tests")
    await server.runtime.storage.add_operator_key(key)
    return {"key": OPERATOR_KEY, "secret": OPERATOR_SECRET}


def url_path(url: str) -> str:
    """The path of a URL the server handed out, without its signature query."""
    return httpx.URL(url).path


def postgres_server_url(tmp: str) -> str:
    """A PostgreSQL URL whose connections use schema ``tmp`` (for a server under test)."""
    return env.postgres_url() + "?options=" + quote(f"-c search_path={tmp}")


async def start_backend_server(
    nursery: trio.Nursery, tmp_path: Path, backend: str, stack: Any, **overrides: Any
) -> RunningServer:
    """The real server on SQLite or on a fresh PostgreSQL schema (dropped by ``stack``)."""
    if backend == "postgres":
        schema = await stack.enter_async_context(fresh_schema(env.postgres_url()))
        overrides["database_url"] = postgres_server_url(schema)
    return await start_server(nursery, tmp_path / "data", **overrides)
