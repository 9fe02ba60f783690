"""``GET /`` (the robot's connectivity probe, PROTOCOL.md §1) is answered below Quart."""

from __future__ import annotations

import httpx

from tests.support.server import RunningServer


async def test_the_probe_is_an_empty_204_on_every_host(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        for host in ("api.jibo.com", "127.0.0.1"):
            for _ in range(3):  # keep-alive: the connection survives each answer
                probe = await client.get("/", headers={"Host": host})
                assert (probe.status_code, probe.content) == (204, b"")
                assert "content-length" not in probe.headers  # RFC 9110 §8.6: not on a 204


async def test_other_methods_on_slash_keep_their_answers(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        head = await client.head("/", headers={"Host": "api.jibo.com"})
        put = await client.put("/", headers={"Host": "api.jibo.com"})
        unsigned = await client.post("/", headers={"Host": "api.jibo.com"})
    assert head.status_code == 204  # Quart's automatic HEAD for the GET route
    assert put.status_code == 405
    assert unsigned.headers["x-amzn-ErrorType"]  # still the AWS-JSON dispatcher
