"""routes.register: the HTTP trace hook and the socket table (PROTOCOL.md §4.1)."""

from __future__ import annotations

from pathlib import Path

from quart import Response

from jibo_cloud.app import create_app
from jibo_cloud.logs import current_trace
from tests.hub.support import make_runtime


async def test_http_requests_carry_the_trace_headers(tmp_path: Path) -> None:
    app = create_app(make_runtime(tmp_path))

    @app.get("/trace-probe")
    async def trace_probe() -> Response:
        trace = current_trace()
        return Response(f"{trace.trans_id} {trace.robot_id} {dict(trace.levels)}")

    client = app.test_client()
    response = await client.get(
        "/trace-probe",
        headers={
            "x-jibo-transid": "tid-42",
            "x-jibo-robotid": "Robot-9",
            "x-jibo-logging-config": '{"jibo_cloud.hub": "debug"}',
        },
    )
    assert await response.get_data(as_text=True) == "tid-42 Robot-9 {'jibo_cloud.hub': 'debug'}"
    plain = await client.get("/trace-probe")
    assert await plain.get_data(as_text=True) == "unknown unknown {}"
