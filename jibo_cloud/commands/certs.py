"""``jibo-cloud certs init|show|renew``: the private CA and the server certificate.

``init`` makes the CA (once; ``--force`` makes a new one, which every robot must then trust
again) and a server certificate for the robot's names, the region variants, every host
mapping and the server's own names and addresses. ``renew`` re-issues the server certificate
from the same CA (the robots need nothing new). ``show`` prints what a robot would check.
The files and their rights: :mod:`jibo_cloud.tls.certs`; the whole story: docs/tls.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import socket
from typing import Any

import attrs

from jibo_cloud.commands import add_store_options, run_on_store
from jibo_cloud.config import Config, tls_regions_value
from jibo_cloud.tls import certs
from jibo_cloud.tls.certs import CertError, CertInfo

HELP = "make and show the private CA and the TLS server certificate"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("certs", help=HELP)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="make the private CA (once) and a server certificate")
    _name_options(init)
    init.add_argument(
        "--force",
        action="store_true",
        help="make a NEW CA even if one exists (every robot must then trust the new one)",
    )
    add_store_options(init)
    init.set_defaults(func=run_init)
    renew = actions.add_parser("renew", help="re-issue the server certificate from the same CA")
    _name_options(renew)
    add_store_options(renew)
    renew.set_defaults(func=run_renew)
    show = actions.add_parser("show", help="print names, expiry and fingerprints")
    add_store_options(show)
    show.set_defaults(func=run_show)


def _name_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="HOST",
        help="a name of this server to cover too (repeatable; default: its host name, localhost)",
    )
    p.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an address of this server to cover too (repeatable; default 127.0.0.1)",
    )
    p.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="REGION",
        help="a region whose REGION.jibo.com / REGION-socket.jibo.com to name"
        " (repeatable; default $JIBO_TLS_REGIONS or api)",
    )
    p.add_argument(
        "--days", type=int, default=certs.SERVER_DAYS, help="validity of the server certificate"
    )


def _with_regions(config: Config, args: argparse.Namespace) -> Config:
    if not args.region:
        return config
    regions = tls_regions_value(",".join(args.region))
    return attrs.evolve(config, tls_regions=tuple(dict.fromkeys((*config.tls_regions, *regions))))


def _own_names(args: argparse.Namespace) -> list[str]:
    """The server's own names and addresses: given, else its host name, localhost, 127.0.0.1."""
    names = list(args.name) or [socket.gethostname().lower(), "localhost"]
    ips = list(args.ip) or ["127.0.0.1"]
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise CertError(f"--ip {ip!r} is not an IP address") from None
    return [*names, *ips]


def _check_days(days: int) -> None:
    if not 1 <= days <= certs.CA_DAYS:
        raise CertError(f"--days must be between 1 and {certs.CA_DAYS}, got {days}")


def run_init(args: argparse.Namespace) -> int:
    _check_days(args.days)

    async def work(config: Config, storage: Any) -> None:
        config = _with_regions(config, args)
        ca = certs.ca_certificate_info(config)
        if ca is None or args.force:
            ca = certs.make_ca(config)
            print(f"made a private CA: {ca.path} (key {certs.ca_key_path(config)}, mode 0600)")
        else:
            print(f"keeping the private CA {ca.path}")
        names = certs.server_names(config, await certs.mapped_host_names(storage), _own_names(args))
        info = certs.issue_server_cert(config, names, days=args.days)
        print(f"made a server certificate: {info.path} (key {certs.server_key_path(config)})")
        _print_info("server certificate", info)
        _print_info("CA (install this one on the robot: docs/tls.md)", ca)

    return run_on_store(args, work)


def run_renew(args: argparse.Namespace) -> int:
    _check_days(args.days)

    async def work(config: Config, storage: Any) -> None:
        config = _with_regions(config, args)
        previous = (
            certs.certificate_info(certs.server_cert_path(config))
            if certs.server_cert_path(config).is_file()
            else None
        )
        extra = list(previous.names) if previous is not None else []
        if args.name or args.ip or previous is None:
            extra.extend(_own_names(args))
        names = certs.server_names(config, await certs.mapped_host_names(storage), extra)
        info = certs.issue_server_cert(config, names, days=args.days)
        print(f"renewed the server certificate: {info.path}; restart 'serve' to use it")
        _print_info("server certificate", info)

    return run_on_store(args, work)


def run_show(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        now = dt.datetime.now(dt.UTC)
        ca = certs.ca_certificate_info(config)
        server = certs.server_certificate_info(config)
        if ca is None and server is None:
            raise CertError("no certificate yet: run 'jibo-cloud certs init'")
        if ca is not None:
            _print_info("CA", ca)
        if server is not None:
            _print_info("server certificate", server)
            required = certs.required_names(config, await certs.mapped_host_names(storage))
            missing = certs.missing_names(server, required)
            if missing:
                print(f"  NOT covered (a robot reaching us by these refuses): {', '.join(missing)}")
                print("  fix: jibo-cloud certs renew")
            else:
                print(f"  covers every name robots use here ({len(required)})")
            if server.expired(now):
                print("  EXPIRED: serve does not start TLS with it; fix: jibo-cloud certs renew")
            elif server.expires_soon(now):
                print(f"  expires in {(server.not_after - now).days} days: jibo-cloud certs renew")

    return run_on_store(args, work)


def _print_info(title: str, info: CertInfo) -> None:
    print(f"{title}: {info.path}")
    print(f"  subject: {info.subject}")
    print(f"  issuer: {info.issuer}")
    if info.names:
        print(f"  names: {', '.join(info.names)}")
    print(f"  valid: {info.not_before:%Y-%m-%d %H:%M} to {info.not_after:%Y-%m-%d %H:%M} UTC")
    pairs = ":".join(info.fingerprint[i : i + 2] for i in range(0, len(info.fingerprint), 2))
    print(f"  sha256 fingerprint: {pairs.upper()}")
