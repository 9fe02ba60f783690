"""A robot's REST client: ``POST /`` with ``X-Amz-Target``, signed like the robot (§2.1)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud.tools.robot import RobotIdentity
from jibo_cloud.tools.sigv4 import sign_headers
from jibo_cloud.tools.target import Target, ToolError, describe_http_error

#: What robots send as ``User-Agent`` (§2.1).
USER_AGENT = "jibo-server-client-nodejs/3.0.117 linux/v6.9.2"
#: Per-request limit; a robot's client gives up about as fast.
REQUEST_TIMEOUT_SECONDS = 10.0


@attrs.define
class RestAnswer:
    """One REST exchange: status, parsed body (None when not JSON), time taken."""

    status: int
    body: Any
    text: str
    elapsed_ms: float
    headers: dict[str, str]

    @property
    def error_type(self) -> str | None:
        """The AWS-JSON ``__type`` of an error answer (§2.1), if any."""
        if isinstance(self.body, dict) and isinstance(self.body.get("__type"), str):
            return str(self.body["__type"])
        return self.headers.get("x-amzn-errortype")


async def call(
    client: httpx.AsyncClient,
    target: Target,
    amz_target: str,
    body: Any,
    robot: RobotIdentity,
    *,
    raw_body: bytes | None = None,
) -> RestAnswer:
    """Send one AWS-JSON call as the robot does; signs it when the robot has a key pair.

    Raises:
        ToolError: the server could not be reached or did not answer in time.
    """
    data = raw_body if raw_body is not None else json.dumps(body).encode()
    host = target.host_header("api")
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Amz-Target": amz_target,
    }
    if robot.access_key_id and robot.secret_access_key:
        headers.update(
            sign_headers(
                host=host,
                target=amz_target,
                body=data,
                access_key_id=robot.access_key_id,
                secret_access_key=robot.secret_access_key,
                when=datetime.datetime.now(datetime.UTC),
            )
        )
    start = trio.current_time()
    try:
        response = await client.post(
            target.http_url("/"), content=data, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise ToolError(f"{amz_target}: {describe_http_error(exc, target)}") from None
    return answer_of(response, start)


def answer_of(response: httpx.Response, start: float) -> RestAnswer:
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = None
    return RestAnswer(
        status=response.status_code,
        body=parsed,
        text=response.text,
        elapsed_ms=(trio.current_time() - start) * 1000.0,
        headers={k.lower(): v for k, v in response.headers.items()},
    )
