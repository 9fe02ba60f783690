"""Upload and download bodies: the signed URLs the services hand out (PROTOCOL.md §2.4).

Every route here needs a signed URL (:mod:`jibo_cloud.rest.signed_urls`): the method, the path,
an expiry and a principal under an HMAC. A missing, tampered, expired or moved signature is a
403 ``AccessDeniedException``; so is a valid one whose principal does not fit the record:
``operator`` may touch anything, ``account:<id>`` only its own records (``account_id``) or,
for media and backups, those of a loop it belongs to; any valid principal may fetch an update
package (every robot downloads updates).

``PUT /upload/{kind}/{id}`` stores the body for an upload slot a REST call created
(``log-events``, ``asr-binary``, ``binary``) or for a backup (``backup``). A signed ``PUT`` to
a bare ``/upload/{kind}`` or an unknown id is stored as a new slot of the principal's
household: upload endpoints must not fail the robot over a slot, but they do refuse an
unsigned body and a household over its quota (507) or a disk near full (503). The body is
streamed to a temporary file (never held in memory), capped at ``max_upload_body`` (413) and
``body_timeout`` (408, connection closed), then renamed into place; a replaced body's file is
deleted.

Downloads (``GET /media/{path}``, ``/updates/{id}/package``, ``/backups/{id}``,
``/uploads/{id}``, ``/keys/{id}`` for ``Key.ShareBinary``'s ``encryptedUrl``) stream the
stored file in chunks with its ``Content-Length``.

These routes are bare ASGI in front of Quart (like ``POST /``, :mod:`.asgi`): Quart would
buffer the body in its own queue while we write it, and cannot close a connection whose body
we stopped reading.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from quart_trio import QuartTrio

from jibo_cloud import metrics
from jibo_cloud.access import charge_principal
from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.portal.downloads import note_update_download
from jibo_cloud.rest.bodies import (
    BodyRefused,
    ClientGone,
    Receive,
    Send,
    declared_length,
    send_answer,
    send_refusal,
    stream_body,
    too_large,
)
from jibo_cloud.rest.context import new_id
from jibo_cloud.rest.dispatch import HttpAnswer, error_answer
from jibo_cloud.rest.quota import disk_full, over_quota
from jibo_cloud.rest.signed_urls import OPERATOR_PRINCIPAL, UrlRejected, parse_query, verify
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Storage
from jibo_cloud.storage.blobs import BlobReader, Blobs
from jibo_cloud.storage.records import Backup, Upload

log = logging.getLogger(__name__)

_KIND = re.compile(r"^[a-z0-9-]{1,40}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")
_UPLOAD_PATH = re.compile(r"^/upload/([^/]+)(?:/([^/]+))?$")
_DOWNLOAD_PATHS = {
    "media": re.compile(r"^/media/([^/]+)$"),
    "update": re.compile(r"^/updates/([^/]+)/package$"),
    "backup": re.compile(r"^/backups/([^/]+)$"),
    "upload": re.compile(r"^/uploads/([^/]+)$"),
    "key": re.compile(r"^/keys/([^/]+)$"),
}
_ACCOUNT_PREFIX = "account:"


def _refuse(code: str, message: str, status: int) -> BodyRefused:
    return BodyRefused(error_answer(code, message, status))


def _denied(message: str = "this URL does not grant access to this resource") -> BodyRefused:
    return _refuse("AccessDeniedException", message, 403)


def _not_found() -> BodyRefused:
    return _refuse("ResourceNotFoundException", "not found", 404)


def _account_of(principal: str) -> str | None:
    if principal.startswith(_ACCOUNT_PREFIX):
        return principal[len(_ACCOUNT_PREFIX) :] or None
    return None


class BlobRoutes:
    """The signed upload and download routes over one runtime's storage and blob store."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @property
    def st(self) -> Storage:
        """Read at each use: the app may be built before the storage is set (tests)."""
        return self.rt.storage

    @property
    def blobs(self) -> Blobs:
        return self.rt.blobs

    # ------------------------------------------------------------ who may do what

    def grant(self, method: str, scope: dict[str, Any]) -> str:
        """The principal of a correctly signed, unexpired URL for this method and path."""
        query = parse_query(bytes(scope.get("query_string", b"")))
        try:
            found = verify(self.rt.config, method, str(scope.get("path", "")), query,
                           now_s=self.rt.now_ms() / 1000)  # fmt: skip
        except UrlRejected as exc:
            log.info("blob URL refused: %s %s", method, exc.reason)  # never the query
            raise _denied(f"the URL is not valid: {exc.reason}") from None
        # The access log names the principal; its per-principal rate limit applies here too.
        if not charge_principal(found.principal):
            raise _refuse("ThrottlingException", "too many requests; slow down", 429)
        return found.principal

    async def fits(self, principal: str, account_id: str, loop_id: str | None) -> bool:
        """Does ``principal`` own a record of ``account_id`` (in ``loop_id``, if any)?"""
        if principal == OPERATOR_PRINCIPAL:
            return True
        account = _account_of(principal)
        if account is None:
            return False
        if account_id and account == account_id:
            return True
        if loop_id:
            return loop_id in {lp.id for lp in await self.st.loops_of(account)}
        return False

    # ------------------------------------------------------------ limits

    def check_disk(self, incoming: int) -> None:
        """503 when storing ``incoming`` more bytes would leave less than ``min_free_disk``."""
        refusal = disk_full(self.blobs.root, self.rt.config.min_free_disk, incoming)
        if refusal is not None:
            raise _refuse(refusal.code, refusal.message, refusal.status)

    def check_quota(self, used: int, incoming: int) -> None:
        """507 when ``used`` + ``incoming`` exceeds the household quota."""
        refusal = over_quota(self.rt.config.household_quota, used, incoming)
        if refusal is not None:
            raise _refuse(refusal.code, refusal.message, refusal.status)

    # ------------------------------------------------------------ PUT /upload/...

    async def store(self, kind: str, upload_id: str | None, scope: dict[str, Any],
                    receive: Receive) -> None:  # fmt: skip
        if not _KIND.match(kind) or (upload_id is not None and not _ID.match(upload_id)):
            raise _refuse("ValidationException", "bad upload URL", 400)
        principal = self.grant("PUT", scope)
        backup = await self.st.get_backup(upload_id) if kind == "backup" and upload_id else None
        slot = None if backup or upload_id is None else await self.st.get_upload(upload_id)
        if backup is not None:
            owner, loop, replaced_len = backup.account_id, backup.loop_id, backup.length or 0
        elif slot is not None:
            owner, loop, replaced_len = slot.account_id, None, slot.length or 0
        else:
            owner, loop, replaced_len = _account_of(principal) or "", None, 0
        if (backup or slot) and not await self.fits(principal, owner, loop):
            raise _denied()
        household = owner or _account_of(principal)
        used = await self.st.household_usage(household) - replaced_len if household else 0
        headers = {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
                   for k, v in scope.get("headers", ())}  # fmt: skip
        limit = self.rt.config.max_upload_body
        declared = declared_length(headers)
        if declared is not None and declared > limit:
            raise too_large(limit)
        # From its first check until its record is stored, this body holds its size for the
        # household, so a concurrent body cannot take the same room (jibo_cloud.reservations).
        with self.rt.reserved.hold(household or "") as hold:
            reserved = self.rt.reserved

            def check(amount: int) -> None:
                if household:
                    self.check_quota(used + reserved.others(hold), amount)
                    reserved.resize(hold, max(hold.amount, amount))

            if declared is not None:
                check(declared)
                self.check_disk(declared)

            async def progress(received: int) -> None:
                check(received)
                self.check_disk(0)

            await self._write(kind, slot, backup, owner, upload_id, headers, receive, progress)

    async def _write(self, kind: str, slot: Upload | None, backup: Backup | None, owner: str,
                     upload_id: str | None, headers: dict[str, str], receive: Receive,
                     progress: Callable[[int], Awaitable[None]]) -> None:  # fmt: skip
        """Stream the body to a new blob and point the backup or upload record at it."""
        now = self.rt.now_ms()
        async with await self.blobs.open_writer("upload") as writer:
            timeout = self.rt.config.body_timeout
            await stream_body(receive, writer.write, limit=self.rt.config.max_upload_body,
                              time_limit=timeout, progress=progress)  # fmt: skip
            stored = await writer.commit()
        try:
            if backup is not None:
                old = await self.st.complete_backup(backup.id, blob_key=stored.key,
                    length=stored.length, sha256=stored.sha256, now=now)  # fmt: skip
            else:
                if slot is None:
                    slot = Upload(id=new_id(), kind=kind, created=now, account_id=owner,
                                  meta={"url_id": upload_id})  # fmt: skip
                    await self.st.add_upload(slot)
                old = await self.st.complete_upload(
                    slot.id, blob_key=stored.key, length=stored.length, sha256=stored.sha256,
                    content_type=headers.get("content-type"), now=now,
                )  # fmt: skip
        except BaseException:
            await self.blobs.delete(stored.key)  # no record points at it
            raise
        if old:
            await self.blobs.delete(old)

    # ------------------------------------------------------------ GET downloads

    async def open_download(self, kind: str, name: str, scope: dict[str, Any]) -> BlobReader:
        principal = self.grant("GET", scope)
        key: str | None
        if kind == "media":
            found = await self.st.get_media([name])
            if not found or found[0].is_deleted:
                raise _not_found()
            media = found[0]
            if not await self.fits(principal, media.account_id, media.loop_id):
                raise _denied()
            key = media.blob_key
        elif kind == "backup":
            backup = await self.st.get_backup(name)
            if backup is None:
                raise _not_found()
            if not await self.fits(principal, backup.account_id, backup.loop_id):
                raise _denied()
            key = backup.blob_key
        elif kind == "upload":
            upload = await self.st.get_upload(name)
            if upload is None:
                raise _not_found()
            if not await self.fits(principal, upload.account_id, None):
                raise _denied()
            key = upload.blob_key
        elif kind == "key":  # Key.ShareBinary's encryptedUrl: members of the request's loop
            request = await self.st.get_key_request(name)
            if request is None or request.blob_key is None:
                raise _not_found()
            if not await self.fits(principal, request.account_id, request.loop_id):
                raise _denied()
            key = request.blob_key
        else:  # update packages: every robot downloads them, any valid URL will do
            update = await self.st.get_update(name)
            key = update.blob_key if update is not None else None
        reader = await self.blobs.open_reader(key) if key else None
        if reader is None:
            raise _not_found()
        return reader


async def _send_blob(send: Send, reader: BlobReader) -> None:
    """Stream ``reader`` in chunks; its file is closed however the download ends.

    A client that stops reading is not cut off: hypercorn shields its socket writes from
    cancellation, so no deadline here can interrupt a stalled send (docs/security.md).
    """
    headers = [(b"content-type", b"application/octet-stream"),
               (b"content-length", str(reader.length).encode())]  # fmt: skip
    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        async for chunk in reader.chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await reader.aclose()  # also when the client left or stalled mid-download


Handler = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def route(routes: BlobRoutes, scope: dict[str, Any]) -> Handler | None:
    """The handler for a blob request, or None when the request is not one of ours."""
    method, path = scope.get("method"), str(scope.get("path", ""))
    if method == "PUT":
        match = _UPLOAD_PATH.match(path)
        if match is None:
            return None
        kind, upload_id = match[1], match[2]

        async def put(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            await routes.store(kind, upload_id, scope, receive)
            await send_answer(send, HttpAnswer(200, b"", {}))

        return put
    if method == "GET":
        found = [(kind, m[1]) for kind, p in _DOWNLOAD_PATHS.items() if (m := p.match(path))]
        if found:
            kind, name = found[0]

            async def get(scope: dict[str, Any], receive: Receive, send: Send) -> None:
                await _send_blob(send, await routes.open_download(kind, name, scope))
                if kind == "update":  # who took it (the portal's Updates page); never fails
                    await note_update_download(routes.rt, name, scope)

            return get
    return None


async def serve(handler: Handler, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Run ``handler``; every refusal and failure is AWS JSON, never HTML, never a traceback.

    A failure after the answer started (a download cut short) can only end the connection.
    """
    started = False

    async def tracked(message: dict[str, Any]) -> None:
        nonlocal started
        started = True
        await send(message)

    try:
        await handler(scope, receive, tracked)
    except Exception:
        if started:
            raise
        await _failed(scope, send)


async def _failed(scope: dict[str, Any], send: Send) -> None:
    """Answer the exception being handled (see :func:`serve`) in AWS JSON."""
    try:
        raise
    except BodyRefused as refused:
        metrics.error(refused.answer.headers.get("x-amzn-ErrorType", "") or "refused")
        await send_refusal(send, refused)
    except ClientGone:
        return
    except StorageUnavailable as exc:
        metrics.error("ServiceUnavailableException")
        log.warning("%s %s: storage unavailable: %s", scope.get("method"), "blob", exc)
        answer = error_answer("ServiceUnavailableException", "storage is unavailable; retry", 503)
        await send_answer(send, answer, close=True)
    except Exception:
        metrics.error("InternalFailure")
        log.exception("%s blob request failed", scope.get("method"))
        answer = error_answer("InternalFailure", "the server failed to process the request", 500)
        await send_answer(send, answer, close=True)


def register(app: QuartTrio, runtime: Runtime) -> None:
    """Put the blob routes in front of ``app`` (bare ASGI, see the module docstring)."""
    from jibo_cloud.app import router_of  # the app module imports this one's package

    routes = BlobRoutes(runtime)
    inner = app.asgi_app
    router = router_of(app)

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        blob = scope.get("type") == "http" and not router.on_portal_host(scope)
        handler = route(routes, scope) if blob else None
        if handler is None:
            await inner(scope, receive, send)
        else:
            await serve(handler, scope, receive, send)

    app.asgi_app = asgi_app  # type: ignore[method-assign]
