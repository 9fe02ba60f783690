"""The operator port against the real server: /metrics, /healthz, /readyz.

The registry is process-wide (:mod:`jibo_cloud.metrics`), so every assertion compares a
scrape before and after the action it checks.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import attrs
import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from jibo_cloud import metrics
from jibo_cloud.operator_port import serve_operator_port
from jibo_cloud.rest.signed_urls import account_principal, sign_path
from jibo_cloud.storage.s3 import S3BlobStore, make_client
from tests.ops.s3server import S3Server, s3_server
from tests.rest.support import ACCOUNT_ID, RestClient, register_robot, start_backend_server
from tests.storage.backends import BACKENDS
from tests.support.server import RunningServer

__all__ = ["s3_server"]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@attrs.frozen
class Operated:
    server: RunningServer
    operator: httpx.AsyncClient
    robot: RestClient


@pytest.fixture(params=BACKENDS)
async def operated(
    request: pytest.FixtureRequest, nursery: trio.Nursery, tmp_path: Path
) -> AsyncIterator[Operated]:
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, request.param, stack)
        await register_robot(server)
        binds = await nursery.start(serve_operator_port, server.runtime, 0)
        operator = await stack.enter_async_context(httpx.AsyncClient(base_url=binds[0]))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=server.http_url))
        yield Operated(server, operator, RestClient(http))
        server.stop()


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_health_and_readiness(operated: Operated) -> None:
    assert (await operated.operator.get("/healthz")).text == "ok\n"
    ready = await operated.operator.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ready": True, "checks": {
        "storage": "ok", "migrations": "ok", "blobs": "ok", "recognizer": "ok", "shutdown": "ok",
    }}  # fmt: skip
    assert (await operated.operator.get("/nope")).status_code == 404
    assert (await operated.operator.post("/metrics")).status_code == 405
    operated.server.runtime.shutting_down.set()  # a draining server leaves the load balancer
    draining = await operated.operator.get("/readyz")
    assert draining.status_code == 503
    assert draining.json()["checks"]["shutdown"] == "started"


async def test_rest_calls_storage_and_errors_are_counted(operated: Operated) -> None:
    before = await scrape(operated.operator)
    await operated.robot.ok("Loop_20160324.ListLoops")
    await operated.robot.ok("Loop_20160324.ListLoops")
    unknown = await operated.robot.call("Nope_20160101.Nothing", {})
    assert unknown.status_code == 400
    unsigned = await operated.robot.call("Loop_20160324.ListLoops", sign=False)
    assert unsigned.status_code == 403
    after = await scrape(operated.operator)
    target = "Loop_20160324.ListLoops"
    assert delta(before, after, "jibo_rest_calls_total", target=target, status="200") == 2
    assert delta(before, after, "jibo_rest_calls_total", target=target, status="403") == 1
    assert delta(before, after, "jibo_rest_calls_total", target="unknown", status="400") == 1
    assert delta(before, after, "jibo_errors_total", code="UnknownOperationException") == 1
    assert delta(before, after, "jibo_rest_seconds_count") == 4
    backend = operated.server.runtime.storage.dialect
    assert delta(before, after, "jibo_storage_seconds_count", backend=backend, op="read") >= 2


async def test_blob_operations_are_timed(operated: Operated) -> None:
    rt = operated.server.runtime
    before = await scrape(operated.operator)
    blob = await rt.blobs.write(rt.blobs.new_key("upload"), b"x" * 1000)
    url = sign_path(rt.config, "PUT", "/upload/log-events", principal=account_principal(
        ACCOUNT_ID), now_s=time.time())  # fmt: skip
    assert (await operated.robot.put(url, b"log")).status_code == 200
    refused = await operated.robot.put("https://api.jibo.com/upload/log-events", b"log")
    assert refused.status_code == 403
    await rt.blobs.delete(blob.key)
    after = await scrape(operated.operator)
    for op in ("blob_put", "blob_commit", "blob_delete"):
        assert delta(before, after, "jibo_storage_seconds_count", backend="folder", op=op) >= 1
    assert delta(before, after, "jibo_errors_total", code="AccessDeniedException") == 1


async def test_every_family_is_exposed(operated: Operated) -> None:
    text = (await operated.operator.get("/metrics")).text
    for family in ("jibo_open_sockets", "jibo_transactions_total", "jibo_stage_seconds_bucket",
                   "jibo_rest_calls_total", "jibo_storage_seconds_bucket", "jibo_errors_total",
                   "jibo_recognizer_queue_depth", "process_resident_memory_bytes"):  # fmt: skip
        assert family in text or f"# TYPE {family.removesuffix('_total')}" in text, family


async def test_the_hub_recorders(operated: Operated) -> None:
    """What the hub and the notification socket call (docs/operators.md lists the sites)."""
    before = await scrape(operated.operator)
    with metrics.open_socket("hub"):
        metrics.socket_opened("notification")
        metrics.transaction_done("listen", "ok")
        metrics.transaction_done("listen", "ASR")
        with metrics.timed_stage("asr"):
            await trio.sleep(0.01)
        metrics.observe_stage("total", 0.2)
        metrics.error("ASR")
        during = await scrape(operated.operator)
    metrics.socket_closed("notification")
    after = await scrape(operated.operator)
    assert delta(before, during, "jibo_open_sockets", kind="hub") == 1
    assert delta(before, during, "jibo_open_sockets", kind="notification") == 1
    assert delta(before, after, "jibo_open_sockets", kind="hub") == 0
    assert delta(before, after, "jibo_transactions_total", type="listen", outcome="ASR") == 1
    assert delta(before, after, "jibo_stage_seconds_count", stage="asr") == 1
    assert delta(before, after, "jibo_stage_seconds_sum", stage="asr") >= 0.01
    assert delta(before, after, "jibo_stage_seconds_bucket", stage="total", le="0.25") == 1
    assert delta(before, after, "jibo_errors_total", code="ASR") == 1


async def test_not_ready_while_the_bucket_is_down(
    nursery: trio.Nursery, tmp_path: Path, s3_server: S3Server
) -> None:
    from tests.support.server import start_server

    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The server starts on the reachable bucket (start-up refuses one it cannot reach), then
    # the bucket "goes down": the store is swapped for one whose endpoint nobody serves.
    gone = {**s3_server.settings(), "s3_endpoint_url": f"http://127.0.0.1:{port}"}

    def closed_bucket(runtime: object) -> None:
        rt: object = runtime
        config = attrs.evolve(rt.config, **gone)  # type: ignore[attr-defined]
        client = make_client(config)
        rt.blobs = S3BlobStore(config.blob_dir, s3_server.bucket, "jibo/", client)  # type: ignore[attr-defined]

    server = await start_server(
        nursery, tmp_path / "data", runtime_hook=closed_bucket, **s3_server.settings()
    )
    binds = await nursery.start(serve_operator_port, server.runtime, 0)
    async with httpx.AsyncClient(base_url=binds[0], timeout=30) as operator:
        ready = await operator.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["blobs"].startswith(("unreachable", "timeout")), checks
    assert checks["storage"] == "ok"
    server.stop()


async def test_a_hub_turn_is_counted_at_its_call_sites(operated: Operated) -> None:
    """A real listen turn through the server: the socket gauge, the transaction's outcome and
    its parser, skill and total stages; a refused turn counts its ERROR code."""
    from tests.support import hub_client as hc

    server = operated.server
    token = hc.hub_token(server.config)
    before = await scrape(operated.operator)
    frames = await hc.one_turn(
        server.port, token, hc.listen("CLIENT_ASR", hotphrase=False),
        hc.client_asr("tell me a joke"), hc.context(),
    )  # fmt: skip
    assert frames[-1]["final"] is True
    assert frames[-1]["type"] != "ERROR", frames[-1]
    with trio.fail_after(5):  # the server closes the socket 2 s after the final frame
        while True:
            after = await scrape(operated.operator)
            if delta(before, after, "jibo_open_sockets", kind="hub") == 0:
                break
            await trio.sleep(0.05)
    assert delta(before, after, "jibo_transactions_total", type="listen", outcome="ok") == 1
    for stage in ("parser", "skill", "total"):
        assert delta(before, after, "jibo_stage_seconds_count", stage=stage) == 1, stage
    bad = await hc.one_turn(server.port, token, {"type": "NOPE", "msgID": "m", "ts": 1})
    assert bad[-1]["type"] == "ERROR"
    code = bad[-1]["data"].get("code") or "GENERAL"
    later = await scrape(operated.operator)
    assert delta(after, later, "jibo_transactions_total", type="listen", outcome=code) == 1
    assert delta(after, later, "jibo_errors_total", code=code) == 1
