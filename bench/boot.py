"""Boot sequences per second: the ~16 REST calls of one robot boot (PROTOCOL.md §2.3).

The server runs in a subprocess (SQLite, then PostgreSQL); this process plays many robots at
once. Requests are signed once up front with botocore (signatures stay valid for 15 minutes),
so the client spends its time sending, not signing. Client and server share the machine's
cores, so boots/s alone conflates the two: each row also reports the CPU time the server
process (all its threads, from ``/proc/<pid>/stat``) and this client spent per boot. The
server's CPU ms per boot is the robust number on a busy machine; ``1000 / ms`` is the boots/s
one fully used core would give it. PostgreSQL's own processes are not in the server's
figure; with a local PostgreSQL their CPU over the run is a row of its own.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import attrs
import trio
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench import server

LOOP = server.ROBOT["loop_id"]
NAME = server.ROBOT["name"]
#: One boot, in the robot's order (§2.3), plus the GET / probe.
BOOT: list[tuple[str, dict[str, Any]]] = [
    ("Notification_20150505.NewRobotToken", {"deviceId": NAME}),
    ("Log_20150309.PutEventsAsync", {"kind": "HEALTH", "serial": server.ROBOT["serial"]}),
    ("Loop_20160324.ListLoops", {}),
    ("Key_20160201.ListIncomingRequests", {"loopId": LOOP}),
    ("Key_20160201.ListBinaryRequests", {"loopId": LOOP}),
    ("Account_20151111.Get", {}),
    ("Loop_20160324.ListLoops", {}),
    ("Robot_20160225.GetRobot", {"id": NAME}),
    ("Person_20160801.ListHolidays", {"loopId": LOOP}),
    ("Media_20160725.List", {"loopIds": [LOOP]}),
    ("Robot_20160225.UpdateRobot", {"id": NAME, "payload": {"SSID": "ExampleWifi"}}),
    ("Backup_20170222.List", {"loopId": LOOP}),
    ("Account_20151111.CreateHubToken", {}),
    ("Update_20160301.GetUpdateFrom", {"fromVersion": "10.0.18", "subsystem": "@be/be"}),
    ("Log_20150309.PutEventsAsync", {"kind": "LOG", "serial": server.ROBOT["serial"]}),
]
#: Concurrent robots, each on its own keep-alive connection. 32, not 16: with several
#: workers the kernel hands each connection to one of them, and more connections even out.
ROBOTS = 32
#: Server processes (``serve --workers``): one, and one per core of the 2-core target.
WORKERS = (1, 2)
SECONDS = 8.0
ROUNDS = 3


def signed() -> list[tuple[bytes, dict[str, str]]]:
    creds = Credentials(server.ROBOT["key"], server.ROBOT["secret"])
    out = []
    for target, body in BOOT:
        data = json.dumps(body).encode()
        req = AWSRequest(method="POST", url="https://api.jibo.com/", data=data,
                         headers={"X-Amz-Target": target,
                                  "Content-Type": "application/x-amz-json-1.1"})  # fmt: skip
        SigV4Auth(creds, "jibo", "us-east-1").add_auth(req)
        out.append((data, {**dict(req.headers.items()), "Host": "api.jibo.com"}))
    return out


def raw_requests(signed_calls: list[tuple[bytes, dict[str, str]]]) -> list[bytes]:
    """The boot's requests as ready-to-send HTTP/1.1 bytes (keep-alive), probe first."""
    out = [b"GET / HTTP/1.1\r\nHost: api.jibo.com\r\n\r\n"]
    for data, headers in signed_calls:
        lines = [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
        head = "POST / HTTP/1.1\r\n" + "\r\n".join(lines)
        out.append(f"{head}\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    return out


async def read_response(stream: trio.SocketStream, buf: bytearray) -> tuple[int, bool]:
    """Read one response (Content-Length framed): its status code, and whether the server
    closes the connection after it (hypercorn does after ``keep_alive_max_requests``)."""
    while b"\r\n\r\n" not in buf:
        chunk = await stream.receive_some(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head, _, _ = bytes(buf).partition(b"\r\n\r\n")
    length, closing = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closing = value.strip().lower() == b"close"
    total = len(head) + 4 + length
    while len(buf) < total:
        buf += await stream.receive_some(65536)
    status = int(head.split(b" ", 2)[1])
    del buf[:total]
    return status, closing


@attrs.frozen
class Run:
    """One timed run: how many boots, over how long, and the CPU each side spent."""

    boots: int
    seconds: float
    server_cpu: float
    client_cpu: float
    #: Local PostgreSQL processes' CPU over the run (None: SQLite, or a remote database).
    database_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.boots / self.seconds

    def server_ms(self) -> float:
        return 1000 * self.server_cpu / max(self.boots, 1)

    def client_ms(self) -> float:
        return 1000 * self.client_cpu / max(self.boots, 1)

    def database_ms(self) -> float | None:
        if self.database_cpu is None:
            return None
        return 1000 * self.database_cpu / max(self.boots, 1)


async def measure(port: int, requests: list[bytes], pid: int, database: bool = False) -> Run:
    """One run of ROBOTS concurrent robots, each on its own keep-alive connection.

    A minimal raw HTTP/1.1 client: an HTTP library would burn the CPU the server needs.
    ``database``: also read the local PostgreSQL processes' CPU over the run."""
    boots = 0

    async def robot(deadline: float) -> None:
        nonlocal boots
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        buf = bytearray()
        try:
            while trio.current_time() < deadline:
                for request in requests:
                    await stream.send_all(request)
                    status, closing = await read_response(stream, buf)
                    assert status in (200, 204, 404), status
                    if closing:  # a robot reconnects, and so do we
                        await stream.aclose()
                        stream = await trio.open_tcp_stream("127.0.0.1", port)
                        buf.clear()
                boots += 1
        finally:
            await stream.aclose()

    server_before, client_before = server.cpu_seconds(pid), time.process_time()
    database_before = server.postgres_cpu_seconds() if database else None
    start = time.perf_counter()
    deadline = trio.current_time() + SECONDS
    async with trio.open_nursery() as nursery:
        for _ in range(ROBOTS):
            nursery.start_soon(robot, deadline)
    seconds = time.perf_counter() - start
    server_cpu = server.cpu_seconds(pid) - server_before
    database_after = server.postgres_cpu_seconds() if database_before is not None else None
    database_cpu = None
    if database_before is not None and database_after is not None:
        database_cpu = database_after - database_before
    return Run(boots, seconds, server_cpu, time.process_time() - client_before, database_cpu)


#: A no-op request through the same stack: the ceiling the machine allows (where time goes).
HEALTHCHECK = b"GET /healthcheck HTTP/1.1\r\nHost: api.jibo.com\r\n\r\n"


async def _dispatch_cpu(data_dir: str, calls: list[tuple[bytes, dict[str, str]]]) -> float:
    """CPU ms per boot of :func:`jibo_cloud.rest.dispatch.dispatch` alone, in this process."""
    from jibo_cloud.rest.dispatch import HttpCall, dispatch
    from jibo_cloud.rest.models import load_models
    from jibo_cloud.rest.services import all_handlers
    from jibo_cloud.rest.services.notification import handlers as notification_handlers
    from jibo_cloud.runtime import open_runtime

    config = server.bench_config(Path(data_dir), host="127.0.0.1", port=0)
    async with open_runtime(config) as rt:
        table, hub = load_models(), rt.notifications
        handlers = {**all_handlers(), **notification_handlers(hub)}
        https = [HttpCall(headers={k.lower(): v for k, v in headers.items()}, body=data,
                          base_url="https://api.jibo.com", host="api.jibo.com")
                 for data, headers in calls]  # fmt: skip
        for http in https:  # warm-up; every call must succeed (404: no update, as in §2.3)
            answer = await dispatch(rt, table, handlers, http)
            assert answer.status in (200, 404), answer.body
        boots, before = 0, time.process_time()
        deadline = time.perf_counter() + SECONDS / 2
        while time.perf_counter() < deadline:
            for http in https:
                await dispatch(rt, table, handlers, http)
            boots += 1
        return 1000 * (time.process_time() - before) / boots


def dispatch_only(report: Any, calls: list[tuple[bytes, dict[str, str]]]) -> None:
    """Our own code's share without HTTP or threads of load: SQLite, one robot, serially."""
    with server.store("sqlite") as args:
        server.add_robot(args)
        ms = trio.run(_dispatch_cpu, args[1], calls)
    report.add("boot/sqlite: dispatch() alone, CPU per boot", ms, "ms",
               f"in-process, no HTTP: our share ({len(calls)} POST calls)")  # fmt: skip


def floor(report: Any, requests: list[bytes]) -> None:
    """The same boot requests against hypercorn with a do-nothing app: the HTTP stack's own
    CPU per boot, which no change in jibo_cloud.rest or jibo_cloud.storage can remove."""
    for fixes, label in ((False, "hypercorn as released"), (True, "our serve loop")):
        with server.serve_floor(fixes) as (proc, port):
            runs = [trio.run(measure, port, requests, proc.pid) for _ in range(ROUNDS)]
        server_ms = statistics.median(r.server_ms() for r in runs)
        rate = statistics.median(r.rate for r in runs)
        report.add(f"boot/floor: no-op app, {label}: server CPU per boot", server_ms, "ms",
                   f"same requests; one core would give {1000 / server_ms:.0f} boots/s"
                   f" ({rate:.0f} boots/s measured)")  # fmt: skip


def run(report: Any) -> None:
    signed_calls = signed()
    requests = raw_requests(signed_calls)
    calls = len(BOOT) + 1
    dispatch_only(report, signed_calls)
    floor(report, requests)
    for backend in ("sqlite", "postgres"):
        for workers in WORKERS:
            with server.store(backend) as args:
                server.add_robot(args)
                with server.serve(args, workers) as (proc, port):
                    db = backend == "postgres"
                    runs = [trio.run(measure, port, requests, proc.pid, db)
                            for _ in range(ROUNDS)]  # fmt: skip
                    noop = trio.run(measure, port, [HEALTHCHECK] * calls, proc.pid)
            _report(report, f"boot/{backend}/{workers}w", runs, noop, calls)


def _report(report: Any, label: str, runs: list[Run], noop: Run, calls: int) -> None:
    median = statistics.median(r.rate for r in runs)
    server_ms = statistics.median(r.server_ms() for r in runs)
    client_ms = statistics.median(r.client_ms() for r in runs)
    ceiling = noop.rate
    report.add(f"{label}: no-op GET /healthcheck, same client", ceiling * calls,
               "req/s", f"HTTP stack ceiling here; boot calls reach {median / ceiling:.0%}"
               f" of it; server {noop.server_ms() / calls:.2f} CPU ms/req")  # fmt: skip
    spread = f"{min(r.rate for r in runs):.0f}-{max(r.rate for r in runs):.0f}"
    note = f"median of {ROUNDS}x{SECONDS:.0f}s ({spread}), {ROBOTS} robots, {calls} calls/boot"
    report.add(f"{label}: boots per second", median, "boots/s",
               f"{note}; goal >=100 ({median / 100:.2f}x)")  # fmt: skip
    report.add(f"{label}: requests per second", median * calls, "req/s")
    report.add(f"{label}: server CPU per boot", server_ms, "ms",
               f"all server processes and threads; {server_ms / calls:.2f} ms/req")  # fmt: skip
    report.add(f"{label}: client CPU per boot", client_ms, "ms",
               "this load generator (raw HTTP/1.1 over trio, pre-signed)")  # fmt: skip
    database = [ms for r in runs if (ms := r.database_ms()) is not None]
    if database:
        db_ms = statistics.median(database)
        total = server_ms + db_ms + client_ms
        report.add(f"{label}: PostgreSQL CPU per boot", db_ms, "ms",
                   f"all local postgres processes; server + database + client ="
                   f" {total:.1f} ms per boot on the same cores")  # fmt: skip
