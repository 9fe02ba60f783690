"""``jibo-cloud fuzz --url URL [--seed N] [--budget N]``: live fuzzing of a running cloud.

Loopback targets only, unless a host is named with ``--allow-host``. Exit status 0 when
nothing failed, 1 when any failure was found (each printed with its smallest reproducing
input), 2 for bad flags or a refused target, or when Hypothesis (the ``jibo-cloud[fuzz]`` extra) is
not installed.
"""

from __future__ import annotations

import argparse
import json
import sys

import trio

from jibo_cloud.errors import MissingExtra

try:
    from jibo_cloud.tools import fuzz
except ModuleNotFoundError as exc:  # Hypothesis is the `fuzz` extra, not a runtime dependency
    if exc.name != "hypothesis":
        raise
    raise MissingExtra("fuzz", "fuzzing needs Hypothesis") from None

from jibo_cloud.commands.sim import TOKEN_ENV
from jibo_cloud.tools.output import Reporter
from jibo_cloud.tools.target import Target, ToolError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fuzz", help="fuzz a running cloud (loopback only unless --allow-host)")
    p.add_argument("--url", required=True, help="the cloud, e.g. http://127.0.0.1:8080")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed (default 0)")
    p.add_argument("--budget", type=int, default=300, metavar="N", help="cases in total")
    p.add_argument("--max-seconds", type=float, default=120.0, metavar="S", help="wall-time bound")
    p.add_argument(
        "--targets",
        default=",".join(fuzz.TARGETS),
        help=f"comma-separated, from {','.join(fuzz.TARGETS)}",
    )
    p.add_argument("--token", help=f"hub token for the sockets (or ${TOKEN_ENV})")
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME", help="a non-loopback host"
    )
    p.add_argument("--hang-seconds", type=float, default=fuzz.HANG_SECONDS, metavar="S")
    p.add_argument("--error-seconds", type=float, default=fuzz.ERROR_SECONDS, metavar="S")
    p.add_argument("--settle-seconds", type=float, default=fuzz.SETTLE_SECONDS, metavar="S")
    p.add_argument("--robot-hosts", action="store_true", help="present the robot's host names")
    p.add_argument(
        "--ca-file",
        metavar="PEM",
        help="over https://, trust only this CA (e.g. DATA_DIR/tls/ca.pem from"
        " 'jibo-cloud certs init'), as the robot trusts only its own store",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    target = Target.parse(args.url, robot_hosts=args.robot_hosts, ca_file=args.ca_file)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = sorted(set(targets) - set(fuzz.TARGETS))
    if unknown or not targets:
        print(f"jibo-cloud fuzz: unknown --targets {unknown or targets}", file=sys.stderr)
        return 2
    if args.budget < 1 or args.max_seconds <= 0:
        print("jibo-cloud fuzz: --budget and --max-seconds must be positive", file=sys.stderr)
        return 2
    try:
        fuzz.check_host_allowed(target, args.allow_host)
    except ToolError as exc:
        print(f"jibo-cloud fuzz: {exc}", file=sys.stderr)
        return 2
    reporter = Reporter(json_mode=args.json)
    token = args.token or os.environ.get(TOKEN_ENV)

    def failed(failure: fuzz.Failure) -> None:
        reporter.line(f"FAIL [{failure.target}] {failure.kind}: {failure.detail}")
        reporter.line("  smallest input: " + json.dumps(failure.reproduce(), indent=1))

    async def main() -> fuzz.FuzzReport:
        async with target.http_client() as client:
            fuzzer = fuzz.Fuzzer(
                target,
                token,
                client,
                hang_seconds=args.hang_seconds,
                error_seconds=args.error_seconds,
                settle_seconds=args.settle_seconds,
            )
            if not await fuzzer.healthy():
                raise ToolError(f"{target.http_url('/healthcheck')} is not healthy before fuzzing")
            return await fuzz.run_fuzz(
                fuzzer,
                targets=targets,
                budget=args.budget,
                max_seconds=args.max_seconds,
                seed_value=args.seed,
                on_progress=lambda d, t, what: reporter.progress(d, t, what),
                on_failure=failed,
            )

    reporter.line(
        f"fuzzing {target.base_url}: {', '.join(targets)}; budget {args.budget} cases, "
        f"{args.max_seconds:g} s, seed {args.seed}"
    )
    report = trio.run(main)
    reporter.line(
        f"{sum(report.cases.values())} cases in {report.elapsed_s:.1f} s "
        f"({', '.join(f'{k} {v}' for k, v in report.cases.items())}): "
        + ("no failures" if report.ok else f"{len(report.failures)} failure(s)")
    )
    reporter.document(report.to_json())
    return 0 if report.ok else 1
