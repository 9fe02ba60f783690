"""``jibo-cloud update publish|list``: the update packages robots fetch (PROTOCOL.md §2.4).

``publish`` stores the package in the blob store and its record (URL, sha-256, length) in the
database; robots then get it from ``GetUpdateFrom`` and download it from the record's URL.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jibo_cloud.commands import add_store_options, now_ms, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.rest.services.update import version_key
from jibo_cloud.storage.blobs import open_blob_store
from jibo_cloud.storage.provisioning import ProvisioningError, publish_update


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("update", help="publish and list update packages")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pub = actions.add_parser("publish", help="store an update package and its record")
    pub.add_argument("--subsystem", required=True, help="e.g. @be/be, os, services")
    pub.add_argument("--from-version", required=True, metavar="V", help="version it applies to")
    pub.add_argument("--to-version", required=True, metavar="V", help="version it installs")
    pub.add_argument("--filter", help="only robots asking with this filter (e.g. fcs)")
    pub.add_argument("--changes", default="", help="release notes")
    pub.add_argument("--file", required=True, type=Path, metavar="PKG", help="the package")
    add_store_options(pub)
    pub.set_defaults(func=run_publish)
    lst = actions.add_parser("list", help="list published updates")
    lst.add_argument("--subsystem", help="only this subsystem")
    add_store_options(lst)
    lst.set_defaults(func=run_list)


def run_publish(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ProvisioningError(f"cannot read --file {args.file}: {exc.strerror}") from None

    async def work(config: Config, storage: Any) -> None:
        blobs = await open_blob_store(config)  # the folder, or the bucket of JIBO_BLOB_URL
        try:
            record = await publish_update(
                storage, blobs, subsystem=args.subsystem,
                from_version=args.from_version, to_version=args.to_version, data=data,
                now_ms=now_ms(), filter_=args.filter, changes=args.changes,
            )  # fmt: skip
        finally:
            await blobs.aclose()
        print(f"published {record.subsystem} {record.from_version} -> {record.to_version} "
              f"(id {record.id}, {record.length} bytes, sha256 {record.sha_hash})")  # fmt: skip
        print(f"  served from {record.url} on this server")

    return run_on_store(args, work)


def run_list(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        updates = await storage.list_updates(args.subsystem)
        updates.sort(key=lambda u: (u.subsystem, version_key(u.to_version)))
        if not updates:
            print("no updates published")
        for u in updates:
            print(f"{u.id}\t{u.subsystem}\t{u.from_version} -> {u.to_version}\t"
                  f"filter={u.filter or '*'}\t{u.length} bytes\tsha256={u.sha_hash}")  # fmt: skip

    return run_on_store(args, work)
