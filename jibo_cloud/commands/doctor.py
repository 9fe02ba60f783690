"""``jibo-cloud doctor [--robot NAME]``: what stands between this server and a booting robot.

One line per finding, each with its fix, in the order an owner meets them::

    ok    storage: sqlite:///…/jibo-cloud.db, schema 6 (up to date)
    FAIL  Test-Robot-Name: loop 5f… has no members (the robot shows "server connection lost")
          fix: jibo-cloud robot add … again, or add a member to the loop

Checks: the configuration's unsafe modes, the hub token secret, the storage (reachable,
migrated, not newer than this code) — read only: doctor never migrates or creates anything —
the server certificate (present, names covering the robot's host names and every host
mapping, expiry, signed by the CA robots were given), and for each registered robot (or
``--robot``): a loop naming it by the id it knows with members (PROTOCOL.md §2.4: the robot
rejects ``ListLoops`` otherwise), its key pair (or an adopted key), when it last booted and
connected, and the last REST or socket step that failed for it
(:mod:`jibo_cloud.storage.diagnostics`) when nothing succeeded on that channel since.

Exit status 1 when any line is ``FAIL``; ``WARN`` (expiring soon, never booted, an unsafe
mode) alone leaves it 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import attrs
import trio

from jibo_cloud.commands import add_store_options
from jibo_cloud.config import Config, load_config
from jibo_cloud.errors import MissingExtra, StorageUnavailable

OK, WARN, FAIL, INFO = "ok", "WARN", "FAIL", "info"
HELP = "find what keeps robots from booting here, with fixes"


@attrs.frozen
class Finding:
    level: str
    what: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.level:<5} {self.what}"]
        if self.fix:
            out.append(f"      fix: {self.fix}")
        return out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help=HELP)
    p.add_argument("--robot", metavar="NAME", help="check this robot only (default: all)")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(data_dir=args.data_dir, database_url=args.database_url)
    findings = trio.run(diagnose, config, args.robot)
    for finding in findings:
        print("\n".join(finding.lines()))
    failed = sum(f.level == FAIL for f in findings)
    warned = sum(f.level == WARN for f in findings)
    print(f"{failed} problem(s), {warned} warning(s)", file=sys.stderr)
    return 1 if failed else 0


def _unreachable(exc: Exception) -> Finding:
    return Finding(
        FAIL,
        f"storage unreachable: {exc}",
        "check JIBO_DATABASE_URL and that the database server runs",
    )


async def diagnose(
    config: Config, robot: str | None = None, *, now_ms: int | None = None
) -> list[Finding]:
    """Every finding, in order (see the module doc). ``now_ms``: the clock (tests)."""
    now = now_ms if now_ms is not None else dt.datetime.now(dt.UTC).timestamp() * 1000
    findings = check_config(config)
    storage = await open_unmigrated(config, findings)
    try:
        mapped: list[str] = []
        if storage is not None:
            mapped = [m.host for m in await storage.list_host_mappings()]
        findings += check_certificate(config, mapped, int(now))
        if storage is not None:
            findings += await check_robots(config, storage, robot, int(now))
    finally:
        if storage is not None:
            with trio.move_on_after(5, shield=True):
                await storage.aclose()
    return findings


# -- configuration ----------------------------------------------------------------------------


def check_config(config: Config) -> list[Finding]:
    from jibo_cloud.commands.serve import weak_secrets

    out: list[Finding] = []
    weak = weak_secrets(config)
    for problem in weak:
        out.append(
            Finding(
                FAIL,
                problem,
                "set JIBO_TOKEN_SECRET to 32+ random bytes, or unset "
                "it to use the generated one in the data folder",
            )
        )
    if not weak:
        sources = {"file": "generated, in the data folder", "env": "from the environment"}
        source = sources.get(config.token_secret_source, config.token_secret_source)
        out.append(Finding(OK, f"hub token secret: strong ({source})"))
    if config.disable_auth:
        out.append(
            Finding(
                WARN,
                "JIBO_DISABLE_AUTH is on: hub sockets open without a token",
                "unset JIBO_DISABLE_AUTH",
            )
        )
    if config.unknown_sigv4_keys == "pending":
        out.append(
            Finding(
                WARN,
                "JIBO_UNKNOWN_SIGV4_KEYS=pending: unknown keys are recorded and "
                "approved keys accepted unverified",
                "set it back to reject once every robot is registered (docs/security.md)",
            )
        )
    return out


# -- storage ----------------------------------------------------------------------------------


async def open_unmigrated(config: Config, out: list[Finding]) -> Any | None:
    """The storage, unmigrated, when it is reachable and exactly at this code's schema; else
    None with the finding that says why. Never creates a database."""
    from jibo_cloud.storage import Storage, open_database
    from jibo_cloud.storage.migrations import MIGRATIONS

    where = config.database_url if config.uses_postgres else str(config.sqlite_path)
    if not config.uses_postgres and (config.sqlite_path is None or not config.sqlite_path.exists()):
        out.append(
            Finding(
                FAIL,
                f"storage: no database at {where}",
                "register a robot (jibo-cloud robot add …) or start jibo-cloud serve "
                "once; check --data-dir / JIBO_DATA_DIR",
            )
        )
        return None
    try:
        db = await open_database(config)
    except (StorageUnavailable, MissingExtra) as exc:
        out.append(_unreachable(exc))
        return None
    storage = Storage(db)
    try:
        applied = await db.read(_applied_versions(db.dialect))
    except StorageUnavailable as exc:
        await storage.aclose()
        out.append(_unreachable(exc))
        return None
    known = MIGRATIONS[-1].version
    newer = sorted(v for v in applied if v > known)
    missing = [m.version for m in MIGRATIONS if m.version not in applied]
    if newer:
        out.append(
            Finding(
                FAIL,
                f"storage: schema migration(s) {newer} are newer than this "
                f"jibo-cloud (knows up to {known})",
                "upgrade jibo-cloud to the release that wrote this database",
            )
        )
    elif missing:
        out.append(
            Finding(
                FAIL,
                f"storage: {len(missing)} migration(s) not applied "
                f"({missing[0]}…{missing[-1]}); robot checks skipped",
                "start jibo-cloud serve once (it migrates), then run doctor again",
            )
        )
    else:
        out.append(Finding(OK, f"storage: {where}, schema {known} (up to date)"))
        return storage
    with trio.move_on_after(5, shield=True):
        await storage.aclose()
    return None


def _applied_versions(dialect: str) -> Callable[[Any], set[int]]:
    def fn(tx: Any) -> set[int]:
        if dialect == "postgres":
            exists = tx.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0]
        else:
            exists = bool(
                tx.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND"
                    " name = 'schema_migrations'"
                )
            )
        if not exists:
            return set()
        return {int(r[0]) for r in tx.execute("SELECT version FROM schema_migrations")}

    return fn


# -- certificate ------------------------------------------------------------------------------


def check_certificate(config: Config, mapped: list[str], now_ms: int) -> list[Finding]:
    try:
        from jibo_cloud.tls import certs
    except ImportError as exc:  # the cryptography package (a dependency) is missing
        return [
            Finding(
                FAIL,
                f"certificate checks unavailable: {exc}",
                "reinstall jibo-cloud (pip install -e .)",
            )
        ]
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    try:
        info = certs.server_certificate_info(config)
    except certs.CertError as exc:
        return [Finding(FAIL, f"certificate: {exc}", "jibo-cloud certs init (or fix the file)")]
    if info is None:
        return [
            Finding(
                FAIL,
                "no server certificate: robots speak only HTTPS and WSS",
                "jibo-cloud certs init, then install its CA on the robot "
                "(jibo-cloud robot setup-script, docs/robots.md)",
            )
        ]
    out: list[Finding] = []
    when = info.not_after.strftime("%Y-%m-%d")
    if info.expired(now):
        out.append(
            Finding(
                FAIL,
                f"certificate {info.path} expired on {when}: robots refuse it",
                "jibo-cloud certs renew",
            )
        )
    elif info.expires_soon(now):
        out.append(
            Finding(
                WARN,
                f"certificate {info.path} expires on {when} (in "
                f"{(info.not_after - now).days} days)",
                "jibo-cloud certs renew",
            )
        )
    else:
        out.append(Finding(OK, f"certificate {info.path}: valid until {when}"))
    missing = certs.missing_names(info, certs.required_names(config, mapped))
    if missing:
        out.append(
            Finding(
                FAIL,
                f"certificate does not cover {', '.join(missing)}: a robot "
                "reaching us by that name refuses the connection",
                "jibo-cloud certs renew (it adds the robot's names and host mappings)",
            )
        )
    else:
        out.append(Finding(OK, "certificate covers the robot's host names and host mappings"))
    try:
        ca = certs.ca_certificate_info(config)
    except certs.CertError as exc:
        out.append(Finding(WARN, f"CA: {exc}", "jibo-cloud certs init"))
        return out
    if ca is not None and info.issuer != ca.subject and config.tls_certfile is None:
        out.append(
            Finding(
                FAIL,
                f"certificate is issued by {info.issuer}, not by the CA robots "
                f"are given ({ca.subject})",
                "jibo-cloud certs renew",
            )
        )
    return out


# -- robots -----------------------------------------------------------------------------------


def _ago(at: int, now_ms: int) -> str:
    when = dt.datetime.fromtimestamp(at / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%MZ")
    minutes = max(0, (now_ms - at) // 60_000)
    span = (
        f"{minutes} min"
        if minutes < 120
        else f"{minutes // 60} h"
        if minutes < 2880
        else (f"{minutes // 1440} days")
    )
    return f"{when} ({span} ago)"


#: Fixes for the failures robots are known to hit, by error code or reason prefix.
_FIXES: tuple[tuple[str, str], ...] = (
    (
        "InvalidSignatureException",
        "check the robot's clock (SigV4 allows 15 minutes) and that "
        "its key pair was imported from its own credentials.json",
    ),
    (
        "SignatureDoesNotMatch",
        "re-import the robot's key pair: jibo-cloud robot add "
        "--from-credentials (a wrong secret signs wrongly)",
    ),
    (
        "IncompleteSignatureException",
        "the robot's Authorization header is malformed: "
        "check a proxy in front of the server does not rewrite it",
    ),
    (
        "UnrecognizedClientException",
        "import its key pair (robot add --from-credentials) or "
        "adopt it (JIBO_UNKNOWN_SIGV4_KEYS=pending, robot approve)",
    ),
    (
        "AccessDeniedException",
        "the robot called something its policy refuses: see "
        "docs/security-policy.md and the server log",
    ),
    ("ThrottlingException", "the robot exceeded a rate limit: see docs/security.md, limits"),
    (
        "TokenExpiredError",
        "the robot refetches its hub token on a 401; if it keeps failing, "
        "check the robot's and the server's clocks",
    ),
    (
        "JsonWebTokenError: invalid signature",
        "the hub token secret changed since the robot "
        "fetched its token: it refetches on a 401; keep JIBO_TOKEN_SECRET stable",
    ),
    ("429", "too many sockets at once for this robot: JIBO_MAX_SOCKETS_PER_ROBOT"),
)


def _fix_for(code: str, detail: str) -> str:
    for key, fix in _FIXES:
        if code.startswith(key) or detail.startswith(key):
            return fix
    return "see the server log at that time (the step and code say where it failed)"


async def check_robots(
    config: Config, storage: Any, only: str | None, now_ms: int
) -> list[Finding]:
    if only is not None:
        robot = await storage.get_robot(only)
        if robot is None:
            return [
                Finding(
                    FAIL,
                    f"no robot named {only!r} is registered",
                    "jibo-cloud robot add --name … (docs/robots.md)",
                )
            ]
        robots = [robot]
    else:
        robots = await storage.list_robots()
        if not robots:
            return [
                Finding(
                    FAIL,
                    "no robot is registered",
                    "jibo-cloud robot add --name … "
                    "--from-credentials credentials.json (docs/robots.md)",
                )
            ]
    adopted = {
        k.robot_name: k
        for k in await storage.list_pending_keys()
        if k.status == "approved" and k.robot_name
    }
    out: list[Finding] = []
    for robot in robots:
        out += await check_loops(storage, robot)
        out += await check_keys(storage, robot, adopted.get(robot.name), config)
        out += await check_activity(storage, robot, now_ms)
    return out


async def check_loops(storage: Any, robot: Any) -> list[Finding]:
    """PROTOCOL.md §2.4: ListLoops must hold a loop whose ``robot`` is the robot's own id and
    whose ``members`` is non-empty, or the robot reports a lost server connection."""
    name = robot.name
    found = await storage.loops_with_members(robot.account_id)
    good = [lp for lp, members, _ in found if lp.robot_id == robot.robot_id and members]
    if good:
        return [
            Finding(OK, f"{name}: loop {good[0].id} names it ({robot.robot_id}) and has members")
        ]
    lost = '(the robot shows "server connection lost")'
    out: list[Finding] = []
    for lp, members, _ in found:
        if lp.robot_name == name and lp.robot_id != robot.robot_id:
            out.append(
                Finding(
                    FAIL,
                    f"{name}: loop {lp.id} names robot id {lp.robot_id or '-'}"
                    f" but the robot knows {robot.robot_id} {lost}",
                    "register the robot with the id from its own store: jibo-cloud "
                    "robot add --robot-id HEX24 (docs/robots.md)",
                )
            )
        elif lp.robot_id == robot.robot_id and not members:
            out.append(
                Finding(
                    FAIL,
                    f"{name}: loop {lp.id} has no members {lost}",
                    "add the owner back to the loop, or register the robot again "
                    "(jibo-cloud robot add creates the owner's membership)",
                )
            )
    if not out:
        out.append(
            Finding(
                FAIL,
                f"{name}: no loop of its account names robot id {robot.robot_id} {lost}",
                "jibo-cloud robot add creates the loop (docs/robots.md)",
            )
        )
    return out


async def check_keys(storage: Any, robot: Any, adopted: Any, config: Config) -> list[Finding]:
    keys = [k for k in await storage.key_pairs_of(robot.account_id) if k.robot_name == robot.name]
    if keys:
        return [Finding(OK, f"{robot.name}: key pair {keys[0].access_key_id} (verified)")]
    if adopted is not None:
        level = WARN if config.unknown_sigv4_keys == "pending" else FAIL
        return [
            Finding(
                level,
                f"{robot.name}: adopted key {adopted.access_key_id}: its "
                "requests are accepted unverified"
                + (
                    ""
                    if level == WARN
                    else " only while JIBO_UNKNOWN_SIGV4_KEYS=pending,"
                    " which is off: they are refused"
                ),
                "import the real key pair: jibo-cloud robot add --from-credentials",
            )
        ]
    return [
        Finding(
            FAIL,
            f"{robot.name}: no key pair: its signed requests are refused",
            "jibo-cloud robot add … --from-credentials credentials.json, or adopt its "
            "key (docs/security.md)",
        )
    ]


async def check_activity(storage: Any, robot: Any, now_ms: int) -> list[Finding]:
    from jibo_cloud.storage.diagnostics import BOOT, HUB, NOTIFICATION, REST

    name = robot.name
    activity = await storage.robot_activity(name)
    sessions = [s for s in await storage.sessions_of(name) if s[1] == "notification"]
    last: dict[str, int] = {kind: at for kind, (at, _) in activity.items()}
    if sessions:
        last[NOTIFICATION] = max(s[2] for s in sessions)
    out: list[Finding] = []
    if BOOT in last:
        out.append(Finding(INFO, f"{name}: last boot (NewRobotToken) {_ago(last[BOOT], now_ms)}"))
    else:
        out.append(
            Finding(
                WARN,
                f"{name}: has never booted against this server",
                "run the set-up script on the robot (docs/robots.md) and check "
                "that it resolves api.jibo.com to this server",
            )
        )
    if REST in last:
        out.append(
            Finding(
                INFO, f"{name}: last REST call {_ago(last[REST], now_ms)} ({activity[REST][1]})"
            )
        )
    if NOTIFICATION in last:
        still = any(s[3] is None for s in sessions)
        state = "open now, since" if still else "last opened"
        out.append(
            Finding(INFO, f"{name}: notification socket {state} {_ago(last[NOTIFICATION], now_ms)}")
        )
    if HUB in last:
        out.append(Finding(INFO, f"{name}: last hub socket {_ago(last[HUB], now_ms)}"))
    failures = await storage.robot_failures(name)
    for channel in (REST, NOTIFICATION, HUB):
        latest = next((f for f in failures if f.channel == channel), None)
        if latest is None:
            continue
        recovered = last.get(channel, -1) > latest.at
        trust = "" if latest.verified else " [credentials did not verify]"
        what = (
            f"{name}: {channel} {latest.step} failed {_ago(latest.at, now_ms)}: "
            f"{latest.status} {latest.code} {latest.detail}".rstrip()
            + trust
        )
        if recovered:
            out.append(Finding(INFO, f"{what} (succeeded since)"))
        else:
            out.append(Finding(FAIL, what, _fix_for(latest.code, latest.detail)))
    return out
