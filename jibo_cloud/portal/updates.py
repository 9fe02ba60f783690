"""Updates (operators only): the published packages, and publishing one by upload.

The same record and blob as ``jibo-cloud update publish`` (:func:`publish_update`); robots at
the "from" version get it from ``GetUpdateFrom``. Anyone who is not an operator gets 404 here,
as if the page did not exist. Each package lists who took it: the robots that downloaded it
in full, first and last time and how often (:mod:`jibo_cloud.portal.downloads` notes them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio
from quart import Blueprint, abort, render_template, request

from jibo_cloud.portal.context import Portal, Viewer, see_other
from jibo_cloud.rest.services.update import version_key
from jibo_cloud.storage.portal import UpdateDownload
from jibo_cloud.storage.provisioning import ProvisioningError, publish_update

SignedIn = Callable[[Portal], Awaitable[Viewer]]
MAX_FIELD = 100


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    async def operator() -> Viewer:
        viewer = await signed_in(portal)
        if not viewer.is_operator:
            abort(404)
        return viewer

    async def takers() -> dict[str, list[tuple[str, UpdateDownload]]]:
        """Per package id: (who, the download row); who is the robot, or "a robot of" the
        owner's e-mail when the household has several robots."""
        found: dict[str, list[tuple[str, UpdateDownload]]] = {}
        emails: dict[str, str] = {}
        for row in await portal.storage.list_update_downloads():
            who = row.robot_name
            if not who:
                if row.account_id not in emails:
                    account = await portal.storage.get_account(row.account_id)
                    emails[row.account_id] = account.email if account else row.account_id
                who = f"a robot of {emails[row.account_id]}"
            found.setdefault(row.update_id, []).append((who, row))
        return found

    async def page(viewer: Viewer, status: int = 200, **context: Any) -> Any:
        updates = await portal.storage.list_updates()
        updates.sort(key=lambda u: (u.subsystem, version_key(u.to_version)))
        body = await render_template(
            "portal/updates.html", viewer=viewer, updates=updates, page="updates",
            taken=await takers(), **context,
        )  # fmt: skip
        return body, status

    @bp.get("/updates")
    async def updates_page() -> Any:
        viewer = await operator()
        return await page(viewer, published=request.args.get("published"))

    @bp.post("/updates")
    async def publish() -> Any:
        viewer = await operator()
        form, files = await request.form, await request.files
        package = files.get("package")
        fields = {k: str(form.get(k, "")).strip()[:MAX_FIELD]
                  for k in ("subsystem", "fromVersion", "toVersion", "filter")}  # fmt: skip
        if package is None or not package.filename:
            return await page(viewer, 400, error="Choose the package file.", form=fields)
        data = await trio.to_thread.run_sync(package.read)
        if not data:
            return await page(viewer, 400, error="The package file is empty.", form=fields)
        try:
            record = await publish_update(
                portal.storage, portal.runtime.blobs, subsystem=fields["subsystem"],
                from_version=fields["fromVersion"], to_version=fields["toVersion"], data=data,
                now_ms=portal.now(), filter_=fields["filter"] or None,
                changes=str(form.get("changes", ""))[:2000],
            )  # fmt: skip
        except ProvisioningError as exc:
            message = str(exc)
            for flag, label in (("--from-version", "From version"), ("--to-version", "To version"),
                                ("--subsystem", "Subsystem")):  # fmt: skip
                message = message.replace(flag, label)
            return await page(viewer, 400, error=message, form=fields)
        return see_other(f"/portal/updates?published={record.id}")
