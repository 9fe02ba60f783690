"""``jibo-cloud replay FLOW… --url URL``: replay flow files and check the cloud's replies.

Exit status 0 when every flow passes, 1 when any reply differs (each mismatch printed with a
diff), 2 for bad flags or unreadable flow files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import trio

from jibo_cloud.tools.flows import load_flow
from jibo_cloud.tools.output import Reporter
from jibo_cloud.tools.replay import STEP_TIMEOUT_SECONDS, describe, replay_flow, token_for
from jibo_cloud.tools.target import Target, ToolError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="replay flow files against a cloud and check the replies")
    p.add_argument("flows", nargs="+", type=Path, metavar="FLOW", help="flow files or folders")
    p.add_argument("--url", required=True, help="the cloud, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", help="hub token (default $JIBO_HUB_TOKEN, then the flow's own)")
    p.add_argument(
        "--host-header", metavar="HOST", help="Host to present (default: the flow's hostName)"
    )
    p.add_argument(
        "--verbatim",
        action="store_true",
        help="send text steps exactly as written (default adds missing msgID/ts)",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        default=STEP_TIMEOUT_SECONDS,
        metavar="S",
        help=f"wait for a step's replies (default {STEP_TIMEOUT_SECONDS:g} s)",
    )
    p.add_argument(
        "--robot-hosts",
        action="store_true",
        help="over https://, present the robot's host names as the TLS server name",
    )
    p.add_argument(
        "--ca-file",
        metavar="PEM",
        help="over https://, trust only this CA (e.g. DATA_DIR/tls/ca.pem from"
        " 'jibo-cloud certs init'), as the robot trusts only its own store",
    )
    p.add_argument("--show-frames", action="store_true", help="print every frame both ways")
    p.add_argument("--json", action="store_true", help="print one JSON document at the end")
    p.set_defaults(func=run)


def flow_paths(paths: list[Path]) -> list[Path]:
    """Files as given; folders expand to their ``*.flow.json``/``*.json`` files, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.flow.json")) or sorted(path.rglob("*.json"))
            if not found:
                raise ToolError(f"{path}: no flow files in this folder")
            out.extend(found)
        else:
            out.append(path)
    return out


def run(args: argparse.Namespace) -> int:
    target = Target.parse(args.url, robot_hosts=args.robot_hosts, ca_file=args.ca_file)
    reporter = Reporter(json_mode=args.json)
    try:
        flows = [load_flow(p) for p in flow_paths(args.flows)]
    except ToolError as exc:
        reporter.err.write(f"jibo-cloud replay: {exc}\n")
        return 2

    async def main() -> list[dict[str, object]]:
        docs = []
        for index, flow in enumerate(flows):
            reporter.progress(index, len(flows), "flows replayed")
            result = await replay_flow(
                target,
                flow,
                token=token_for(flow, args.token),
                host_header=args.host_header,
                verbatim=args.verbatim,
                step_timeout=args.step_timeout,
                on_frame=(lambda f: reporter.line(f.describe())) if args.show_frames else None,
            )
            for line in describe(result):
                reporter.line(line)
            docs.append(result.to_json())
        return docs

    docs = trio.run(main)
    failed = sum(1 for d in docs if not d["ok"])
    reporter.line(f"{len(docs) - failed} passed, {failed} failed")
    reporter.document(
        {"ok": failed == 0, "passed": len(docs) - failed, "failed": failed, "flows": docs}
    )
    return 1 if failed else 0
