"""``jibo-cloud sim boot|turn|proactive``: a robot simulator that works against any Jibo cloud.

See ``docs/tools.md`` for examples. Exit status: 0 when the cloud gave the robot what it
needs, 1 otherwise (a failed boot step, an ERROR or missing final frame), 2 for bad flags.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import trio

from jibo_cloud.tools import rest, sim_hub
from jibo_cloud.tools.audio import load_audio_file
from jibo_cloud.tools.output import Reporter
from jibo_cloud.tools.robot import LAUNCH_RULES, RobotIdentity
from jibo_cloud.tools.sim_boot import run_boot
from jibo_cloud.tools.target import Target, ToolError

#: Environment variable holding a hub token, so it need not appear in shell history.
TOKEN_ENV = "JIBO_HUB_TOKEN"  # noqa: S105 - a variable name


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="the cloud, e.g. http://127.0.0.1:8080")
    p.add_argument(
        "--robot-hosts",
        action="store_true",
        help="present api.jibo.com / api-socket.jibo.com / neo-hub.jibo.com as Host"
        " (and as the TLS server name over https://)",
    )
    p.add_argument(
        "--ca-file",
        metavar="PEM",
        help="over https://, trust only this CA (e.g. DATA_DIR/tls/ca.pem from"
        " 'jibo-cloud certs init'), as the robot trusts only its own store",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document at the end")
    # The identity's defaults, read from the instance (on the slotted class, ``.name`` is a
    # member descriptor, which used to reach the JSON report and crash it).
    default = RobotIdentity()
    p.add_argument("--robot", default=default.name, metavar="NAME", help="friendly name")
    p.add_argument("--serial", default=default.serial, help="serial number (BOJW-…)")
    p.add_argument("--robot-id", metavar="HEX24", help="the robot's 24-hex id (loop check)")
    p.add_argument("--access-key-id", metavar="ID", help="the robot's key id (SigV4 signing)")
    p.add_argument(
        "--secret-access-key",
        metavar="KEY",
        help="the robot's secret key (or $JIBO_SECRET_ACCESS_KEY)",
    )


def add_hub(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token", help=f"hub token (or ${TOKEN_ENV}; else CreateHubToken is called)")
    p.add_argument("--timeout", type=float, default=sim_hub.FINAL_TIMEOUT_SECONDS, metavar="S")
    p.add_argument(
        "--watch-close", action="store_true", help="after final, wait for the server's close"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sim", help="simulate a robot: boot, a listen turn, a proactive trigger")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    boot = verbs.add_parser("boot", help="run a robot's boot sequence (PROTOCOL.md §2.3)")
    add_common(boot)
    boot.add_argument(
        "--save-hub-token", type=Path, metavar="FILE", help="write the hub token (mode 0600)"
    )
    boot.set_defaults(func=run_boot_command)

    turn = verbs.add_parser("turn", help="one listen transaction, printing every frame")
    add_common(turn)
    add_hub(turn)
    what = turn.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="CLIENT_ASR turn with this transcript")
    what.add_argument("--nlu", metavar="INTENT", help="CLIENT_NLU turn with this intent")
    what.add_argument("--say", metavar="TEXT", help="speak TEXT with espeak-ng, stream Ogg/Opus")
    what.add_argument("--audio", type=Path, metavar="FILE", help="stream an Ogg/Opus file")
    turn.add_argument(
        "--entity", action="append", default=[], metavar="K=V", help="CLIENT_NLU entity"
    )
    turn.add_argument("--rules", default=None, help="comma-separated rules (default: launch rules)")
    turn.add_argument("--path", default="/v1/listen", help="socket path (default /v1/listen)")
    turn.add_argument("--no-pace", action="store_true", help="send audio as fast as possible")
    turn.set_defaults(func=run_turn_command)

    pro = verbs.add_parser("proactive", help="one proactive transaction (TRIGGER → CONTEXT)")
    add_common(pro)
    add_hub(pro)
    pro.add_argument("--trigger", default="SURPRISE", help="triggerSource (default SURPRISE)")
    pro.add_argument("--path", default="/v1/proactive", help="socket path")
    pro.set_defaults(func=run_proactive_command)


def robot_of(args: argparse.Namespace) -> RobotIdentity:
    secret = args.secret_access_key or os.environ.get("JIBO_SECRET_ACCESS_KEY")
    return RobotIdentity(
        name=args.robot,
        serial=args.serial,
        robot_id=args.robot_id,
        access_key_id=args.access_key_id,
        secret_access_key=secret,
    )


def run_boot_command(args: argparse.Namespace) -> int:
    target = Target.parse(args.url, robot_hosts=args.robot_hosts, ca_file=args.ca_file)
    reporter = Reporter(json_mode=args.json)
    reporter.line(f"booting {args.robot} against {target.base_url}")
    result = trio.run(
        lambda: run_boot(target, robot_of(args), on_step=lambda s: reporter.line(s.describe()))
    )
    if args.save_hub_token and result.hub_token:
        fd = os.open(args.save_hub_token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(result.hub_token + "\n")
    failed = [s for s in result.steps if not s.ok]
    reporter.line(
        "boot complete: the robot has what it needs"
        if not failed
        else f"boot: {len(failed)} step(s) failed"
    )
    reporter.document(result.to_json())
    return 0 if result.ok else 1


async def hub_token_for(args: argparse.Namespace, target: Target) -> str | None:
    """The token to present: ``--token``, ``$JIBO_HUB_TOKEN``, or a fresh CreateHubToken."""
    token = args.token or os.environ.get(TOKEN_ENV)
    if token:
        return str(token)
    robot = robot_of(args)
    if not (robot.access_key_id and robot.secret_access_key):
        return None  # a cloud with authentication disabled accepts that
    async with target.http_client() as client:
        answer = await rest.call(client, target, "Account_20151111.CreateHubToken", {}, robot)
    token = answer.body.get("token") if isinstance(answer.body, dict) else None
    if answer.status != 200 or not isinstance(token, str):
        raise ToolError(f"CreateHubToken failed: HTTP {answer.status} {answer.text[:160]}")
    return token


def turn_script(args: argparse.Namespace) -> list[sim_hub.ScriptItem]:
    robot = robot_of(args)
    rules = tuple(args.rules.split(",")) if args.rules else LAUNCH_RULES
    if args.text is not None:
        return sim_hub.client_asr_script(args.text, robot)
    if args.nlu is not None:
        entities: dict[str, Any] = {}
        for item in args.entity:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ToolError(f"--entity must look like KEY=VALUE, got {item!r}")
            entities[key] = value
        return sim_hub.client_nlu_script(args.nlu, entities, rules, robot)
    if args.audio is not None:
        pages = load_audio_file(args.audio)
    else:
        from jibo_cloud.tools.speak import synthesize_pages

        pages = synthesize_pages(args.say)
    return sim_hub.audio_script(pages, robot, pace=not args.no_pace)


def _run_hub(args: argparse.Namespace, script: list[sim_hub.ScriptItem], path: str) -> int:
    target = Target.parse(args.url, robot_hosts=args.robot_hosts, ca_file=args.ca_file)
    reporter = Reporter(json_mode=args.json)

    async def main() -> sim_hub.HubResult:
        token = await hub_token_for(args, target)
        reporter.line(f"{path} on {target.base_url} ({'with' if token else 'without'} a token)")
        return await sim_hub.run_transaction(
            target,
            path,
            script,
            token=token,
            on_frame=lambda f: reporter.line(f.describe()),
            final_timeout=args.timeout,
            watch_close=args.watch_close,
        )

    result = trio.run(main)
    final = result.final
    if result.ok and final is not None:
        reporter.line(f"final {final.type} after {final.t_ms:.1f} ms")
    else:
        reporter.line(f"FAILED: {result.error or 'the final frame is an ERROR'}")
    reporter.document(result.to_json())
    return 0 if result.ok else 1


def run_turn_command(args: argparse.Namespace) -> int:
    return _run_hub(args, turn_script(args), args.path)


def run_proactive_command(args: argparse.Namespace) -> int:
    return _run_hub(args, sim_hub.proactive_script(args.trigger, robot_of(args)), args.path)
