"""``jibo-cloud fuzz``: live fuzzing of a running cloud with Hypothesis, bounded and minimized.

Each *target* (``listen``, ``proactive``, ``rest``, ``auth``) is one Hypothesis run in a worker
thread; every example calls back into trio (``trio.from_thread.run``) to play one case over
real sockets and judge the answer. A failing case makes the example fail, so Hypothesis
shrinks it and the report shows the smallest reproducing input it found. A case fails on:

- an HTTP 5xx (REST or an upgrade), or a 4xx REST error not in AWS-JSON form (§2.1);
- a socket closed without an ERROR frame before the final one (codes 1009 "too big" and 1001
  "going away" excepted), or any close with 1011 (a crash);
- no ERROR, final frame or 1009 close within ``error_seconds`` after an invalid frame:
  malformed JSON, an unknown type (§4.4), an oversized frame;
- a complete, unmutated turn without a final frame within ``hang_seconds`` (§4.4: context
  5 s, parser and skill 10 s each);
- a bad token accepted, or refused with anything but 401;
- ``GET /healthcheck`` failing after a batch of cases.

Bounds: ``budget`` generated cases in total and ``max_seconds`` of wall time, shrinking
included (when the time runs out, the smallest failure found so far is reported). Each kind
of failure is reported once, with its own smallest input. Only loopback targets, unless
the host is named explicitly (``allowed_hosts``).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import socket
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs
import httpx
import trio
import trio.lowlevel
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from trio_websocket import ConnectionClosed

from jibo_cloud.tools import fuzz_strategies as mutate
from jibo_cloud.tools.target import SocketRejected, Target, ToolError, bearer, open_socket

TARGETS = ("listen", "proactive", "rest", "auth")
#: Share of the budget (cases) and of the time each target gets.
SHARES = {"listen": 0.45, "proactive": 0.15, "rest": 0.3, "auth": 0.1}
#: §4.4: parser 10 s, skill 10 s, context 5 s; a complete turn is answered well inside this.
HANG_SECONDS = 12.0
#: An invalid frame must be answered (ERROR or close 1009) within this.
ERROR_SECONDS = 2.0
#: How long a case with nothing due is watched for a crash before the fuzzer closes it.
SETTLE_SECONDS = 0.2
#: Health check every this many cases.
HEALTH_EVERY = 25
#: Close codes that are an answer, not a crash: 1009 frame too big, 1001 going away.
ACCEPTED_CLOSES = frozenset((1000, 1001, 1009))
#: Hub text frame cap the fuzzer expects (config.max_text_frame's default).
MAX_TEXT_FRAME = 64 * 1024


class CaseFailed(Exception):
    """Raised inside a Hypothesis example so that Hypothesis shrinks the case."""


@attrs.define
class Failure:
    target: str
    kind: str
    detail: str
    case: Any

    def reproduce(self) -> Any:
        """The minimal input, printable: frames as text, binary as length and first bytes."""
        case = self.case
        if isinstance(case, mutate.SocketCase):
            return {"path": case.path, "frames": [_show(f) for f in case.frames]}
        if isinstance(case, mutate.RestCase):
            return {
                "X-Amz-Target": case.target,
                "Content-Type": case.content_type,
                "body": _show(case.body.decode("utf-8", "replace")),
            }
        if isinstance(case, mutate.AuthCase):
            return {"path": case.path, "Authorization": case.authorization}
        return repr(case)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "detail": self.detail,
                "input": self.reproduce()}  # fmt: skip


#: Longer inputs are shown by their start and length.
SHOW_CHARS = 300


def _show(frame: str | bytes) -> str:
    if isinstance(frame, bytes):
        return f"<binary {len(frame)} bytes: {frame[:16].hex()}…>"
    if len(frame) <= SHOW_CHARS:
        return frame
    return f"{frame[:SHOW_CHARS]}… <{len(frame)} chars in all>"


def _size(case: Any) -> int:
    return len(repr(attrs.asdict(case))) if attrs.has(type(case)) else len(repr(case))


@attrs.define
class FuzzReport:
    seed: int
    cases: dict[str, int] = attrs.field(factory=dict)
    failures: list[Failure] = attrs.field(factory=list)
    health_ok: bool = True
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.health_ok

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seed": self.seed,
            "cases": self.cases,
            "elapsed_s": round(self.elapsed_s, 3),
            "health_ok": self.health_ok,
            "failures": [f.to_json() for f in self.failures],
        }


def check_host_allowed(target: Target, allowed: Sequence[str]) -> None:
    """Refuse targets that are not loopback unless their host was named explicitly.

    Raises:
        ToolError: the host is not loopback and not in ``allowed``.
    """
    if target.host in allowed:
        return
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ToolError(f"cannot resolve {target.host}: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ToolError(
            f"refusing to fuzz {target.host} ({', '.join(sorted(addresses))}): not loopback; "
            f"name it with --allow-host {target.host} if it is yours to fuzz"
        )


@attrs.define
class Fuzzer:
    """Plays cases against ``target`` and judges them (see the module docstring)."""

    target: Target
    token: str | None
    client: httpx.AsyncClient
    hang_seconds: float = HANG_SECONDS
    error_seconds: float = ERROR_SECONDS
    settle_seconds: float = SETTLE_SECONDS

    async def socket_case(self, case: mutate.SocketCase) -> tuple[str, str] | None:
        """Play one socket case; (kind, detail) when it fails, else None."""
        state: dict[str, Any] = {"final": False, "error": False, "close": None}
        changed = trio.Event()
        try:
            async with open_socket(self.target, "hub", case.path, headers=bearer(self.token)) as ws:

                async def read() -> None:
                    nonlocal changed
                    try:
                        while True:
                            message = await ws.get_message()
                            if isinstance(message, str):
                                try:
                                    obj = json.loads(message)
                                except ValueError:
                                    obj = None
                                if isinstance(obj, dict):
                                    state["error"] |= obj.get("type") == "ERROR"
                                    state["final"] |= obj.get("final") is True
                            changed.set()
                            changed = trio.Event()
                    except ConnectionClosed as exc:
                        state["close"] = getattr(exc.reason, "code", None) or 1005
                        changed.set()

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(read)
                    due = await self._send_all(ws, case, state)
                    verdict = await self._judge(case, due, state, lambda: changed)
                    nursery.cancel_scope.cancel()
                return verdict
        except SocketRejected as rejected:
            if rejected.status >= 500:
                return "5xx", f"upgrade answered HTTP {rejected.status} {rejected.body[:120]!r}"
            return "refused", f"a valid token was refused: HTTP {rejected.status} {rejected.body}"

    async def _send_all(self, ws: Any, case: mutate.SocketCase, state: dict[str, Any]) -> str:
        """Send the frames; returns what is due: ``error``, ``final`` or ``nothing``."""
        due = "final" if case.pristine else "nothing"
        for frame in case.frames:
            if state["close"] is not None or state["final"]:
                break
            if _invalid(frame):
                due = "error"
            try:
                await ws.send_message(frame)
            except ConnectionClosed:
                break
            await trio.lowlevel.checkpoint()  # let replies be read between frames
        return due

    async def _judge(
        self,
        case: mutate.SocketCase,
        due: str,
        state: dict[str, Any],
        changed: Callable[[], trio.Event],
    ) -> tuple[str, str] | None:
        wait = {"final": self.hang_seconds, "error": self.error_seconds}.get(
            due, self.settle_seconds
        )
        with trio.move_on_after(wait):
            while not state["final"] and state["close"] is None:
                await changed().wait()
        close = state["close"]
        if close is not None and close not in ACCEPTED_CLOSES:
            return "crash", f"socket closed with code {close}"
        if close is not None and not state["final"] and close != 1009:
            return "closed-without-error", f"socket closed (code {close}) with no ERROR frame"
        # A final frame also answers: the turn may have ended while the invalid frame was in
        # flight, and after final the hub drops further output (§4.5).
        if due == "error" and not (state["error"] or state["final"] or close == 1009):
            return "hang", f"no ERROR within {self.error_seconds:g} s after an invalid frame"
        if due == "final" and not state["final"]:
            return "hang", f"no final frame within {self.hang_seconds:g} s for a complete turn"
        return None

    async def rest_case(self, case: mutate.RestCase) -> tuple[str, str] | None:
        # One connection per case, so that a case never depends on what an earlier case left
        # on a kept-alive connection (e.g. an oversized body answered 413 before it was read).
        headers = {
            "Host": self.target.host_header("api"),
            "Content-Type": case.content_type,
            "Connection": "close",
        }
        if case.target:
            headers["X-Amz-Target"] = case.target
        try:
            response = await self.client.post(
                self.target.http_url("/"), content=case.body, headers=headers,
                timeout=self.hang_seconds,
            )  # fmt: skip
        except httpx.TimeoutException:
            return "hang", f"no answer within {self.hang_seconds:g} s"
        except httpx.HTTPError as exc:
            return "crash", f"{type(exc).__name__}: {exc}"
        if response.status_code >= 500:
            return "5xx", f"HTTP {response.status_code}: {response.text[:160]}"
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if not (isinstance(body, dict) and "__type" in body and "message" in body):
                return (
                    "bad-error-format",
                    f"HTTP {response.status_code} without an AWS-JSON error: "
                    f"{response.text[:120]!r}",
                )
        return None

    async def auth_case(self, case: mutate.AuthCase) -> tuple[str, str] | None:
        headers = [("Authorization", case.authorization)] if case.authorization else []
        try:
            async with open_socket(self.target, "hub", case.path, headers=headers):
                return "accepted", "a bad token opened a hub socket"
        except SocketRejected as rejected:
            if rejected.status == 429:
                # The target's failed-authentication limit, not a protocol fault.
                return "throttled", (
                    "the target refuses this address after too many failed authentications "
                    "(HTTP 429); fuzz a cloud started with JIBO_AUTH_FAILURES_PER_MINUTE raised"
                )
            if rejected.status != 401:
                return "wrong-status", f"HTTP {rejected.status} {rejected.body[:120]!r}"
        return None

    async def healthy(self) -> bool:
        try:
            response = await self.client.get(
                self.target.http_url("/healthcheck"),
                headers={"Host": self.target.host_header("api")},
                timeout=self.hang_seconds,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _invalid(frame: mutate.Frame) -> bool:
    """True when the hub owes an ERROR (or a 1009 close) for this frame (§4.4)."""
    if isinstance(frame, bytes):
        return False
    if len(frame.encode()) > MAX_TEXT_FRAME:
        return True
    try:
        obj = json.loads(frame)
    except ValueError:
        return True
    if not isinstance(obj, dict):
        return True
    kind = obj.get("type")
    return not isinstance(kind, str) or kind not in mutate.ROBOT_TYPES


STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "listen": mutate.listen_cases,
    "proactive": mutate.proactive_cases,
    "rest": mutate.rest_cases,
    "auth": mutate.auth_cases,
}


async def run_fuzz(
    fuzzer: Fuzzer,
    *,
    targets: Sequence[str] = TARGETS,
    budget: int = 200,
    max_seconds: float = 60.0,
    seed_value: int = 0,
    on_progress: Callable[[int, int, str], None] = lambda done, total, what: None,
    on_failure: Callable[[Failure], None] = lambda _: None,
) -> FuzzReport:
    """Fuzz ``targets`` with ``budget`` cases in ``max_seconds`` in total."""
    report = FuzzReport(seed=seed_value)
    start = trio.current_time()
    shares = {t: SHARES[t] for t in targets}
    total_share = sum(shares.values())
    done = 0

    def progress_of(name: str) -> Callable[[int], None]:
        return lambda n: on_progress(done + n, budget, f"cases ({name})")

    for name in targets:
        if name == "auth" and not fuzzer.token:
            continue  # without a token the cloud presumably runs with authentication off
        count = max(1, round(budget * shares[name] / total_share))
        seconds = max_seconds * shares[name] / total_share
        found, ran = await _run_target(fuzzer, name, count, seconds, seed_value, progress_of(name))
        done += ran
        report.cases[name] = ran
        for failure in found:
            report.failures.append(failure)
            on_failure(failure)
        if not await fuzzer.healthy():
            report.health_ok = False
            report.failures.append(
                Failure(name, "health", "GET /healthcheck failed after these cases", None)
            )
            on_failure(report.failures[-1])
            break
    report.elapsed_s = trio.current_time() - start
    return report


async def _run_target(
    fuzzer: Fuzzer,
    name: str,
    count: int,
    seconds: float,
    seed_value: int,
    progress: Callable[[int], None],
) -> tuple[list[Failure], int]:
    """Hypothesis runs for ``name`` in a worker thread, until the budget or time is spent.

    Hypothesis stops searching at its first failure and shrinks it; to report *each* kind of
    failure, further rounds (next seed, remaining budget) treat the kinds already found as
    passing. ``count`` bounds the cases *generated*; shrinking a failure is bounded by the time
    left (Hypothesis stops generating at a round's first failure and only shrinks after it).

    Returns:
        The smallest failure of each kind, and how many cases were played.
    """
    play: Callable[[Any], Awaitable[tuple[str, str] | None]] = {
        "listen": fuzzer.socket_case,
        "proactive": fuzzer.socket_case,
        "rest": fuzzer.rest_case,
        "auth": fuzzer.auth_case,
    }[name]  # type: ignore[assignment]
    deadline = trio.current_time() + seconds
    failures: list[Failure] = []
    known: set[str] = set()
    ran = generated = 0
    shrinking = False
    previous: list[Any] = [None]
    dead: list[Failure] = []

    async def one(case: Any) -> tuple[str, str] | None:
        nonlocal ran, generated
        if dead or trio.current_time() > deadline or (generated >= count and not shrinking):
            return None  # out of budget or time: pass, so Hypothesis winds down
        ran += 1
        generated += 0 if shrinking else 1
        progress(ran)
        try:
            verdict = await play(case)
        except ToolError as exc:
            # The server stopped accepting connections: the culprit is the case before this
            # one (it cannot be shrunk: every later case fails the same way).
            dead.append(
                Failure(name, "server-died", f"{exc} (after this input)", previous[0] or case)
            )
            return None
        except Exception as exc:  # the client side broke: report it, Hypothesis shrinks it
            return "client-error", f"{type(exc).__name__}: {exc}"
        previous[0] = case
        if ran % HEALTH_EVERY == 0 and not await fuzzer.healthy():
            return "health", "GET /healthcheck failed during the run"
        if verdict is not None and verdict[0] in known:
            return None  # reported by an earlier round
        return verdict

    def run_round(round_seed: int, examples: int) -> None:
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=True,  # one exception class per kind: each shrunk on its own
            print_blob=False,
            verbosity=Verbosity.quiet,  # the report prints the minimal case itself
        )
        @seed(round_seed)
        @given(STRATEGIES[name]())
        def prop(case: Any) -> None:
            nonlocal shrinking
            verdict = trio.from_thread.run(one, case)
            if verdict is not None:
                shrinking = True
                failures.append(Failure(name, verdict[0], verdict[1], case))
                raise _failure_class(verdict[0])(verdict[1])

        try:
            with warnings.catch_warnings():
                # Huge frames are deliberate; Hypothesis warns about their repr.
                warnings.simplefilter("ignore", HypothesisWarning)
                prop()
        except CaseFailed:
            pass
        except Exception as exc:  # several kinds at once, or Flaky when time ran out mid-shrink
            if not failures:
                raise ToolError(f"fuzzing {name} stopped: {type(exc).__name__}: {exc}") from exc

    for round_index in range(count):
        if dead or generated >= count or trio.current_time() > deadline:
            break
        found_before = len(failures)
        shrinking = False
        await trio.to_thread.run_sync(run_round, seed_value + round_index, count - generated)
        new = {f.kind for f in failures[found_before:]} - known
        if not new:
            break  # a whole round found nothing new
        known |= new
    if dead:
        return dead[:1], ran
    kinds = dict.fromkeys(f.kind for f in failures)  # in the order they were found
    smallest = [
        min((f for f in failures if f.kind == kind), key=lambda f: _size(f.case)) for kind in kinds
    ]
    return smallest, ran


@functools.cache
def _failure_class(kind: str) -> type[CaseFailed]:
    """A :class:`CaseFailed` subclass per failure kind, so Hypothesis keeps kinds apart."""
    return type(f"CaseFailed[{kind}]", (CaseFailed,), {})
