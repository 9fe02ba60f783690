"""Photos: what the household's robot uploaded through ``Media_20160725.Create`` — a gallery,
a full view, download and delete.

Only media of the viewer's own households are listed or served; any other path is 404, the
same answer as a path that does not exist. The bytes are served with the image type their
first bytes show (JPEG, PNG, GIF, WebP), never one the uploader claimed; anything else, and
photos the robot encrypted (``isEncrypted``), are only downloadable. The gallery shows
thumbnails made on the server (:mod:`jibo_cloud.portal.thumbnails`), once per photo, kept
beside it in the blob store and deleted with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
from quart import Blueprint, Response, abort, render_template, request

from jibo_cloud.portal.context import Portal, Viewer, see_other
from jibo_cloud.portal.thumbnails import thumbnail, with_thumbnails
from jibo_cloud.storage.records import Media

SignedIn = Callable[[Portal], Awaitable[Viewer]]

#: First bytes → image type. Only these are ever shown inline.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_SNIFF = 16


def sniff(head: bytes) -> str | None:
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@attrs.frozen
class Photo:
    media: Media
    household: str

    @property
    def viewable(self) -> bool:
        return not self.media.is_encrypted


async def household_photos(portal: Portal, viewer: Viewer) -> list[Photo]:
    households = {h.loop.id: h.loop.name for h in await portal.households(viewer)}
    found = await portal.storage.list_media(sorted(households))
    found.sort(key=lambda m: (m.created, m.path), reverse=True)
    return [Photo(m, households[m.loop_id]) for m in found]


async def owned_photo(portal: Portal, viewer: Viewer, path: str) -> Photo:
    """The viewer's photo at ``path``, else 404 (someone else's, deleted, or no such path)."""
    households = {h.loop.id: h.loop.name for h in await portal.households(viewer)}
    for media in await portal.storage.get_media([path]):
        if media.loop_id in households and not media.is_deleted:
            return Photo(media, households[media.loop_id])
    abort(404)
    raise AssertionError("unreachable")


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    @bp.get("/photos")
    async def gallery() -> Any:
        viewer = await signed_in(portal)
        photos = await household_photos(portal, viewer)
        return await render_template(
            "portal/photos.html", viewer=viewer, photos=photos, page="photos",
            deleted=request.args.get("deleted") == "1",
        )  # fmt: skip

    @bp.get("/photos/<path>")
    async def photo_page(path: str) -> Any:
        viewer = await signed_in(portal)
        photo = await owned_photo(portal, viewer, path)
        return await render_template("portal/photo.html", viewer=viewer, photo=photo, page="photos")

    @bp.get("/photos/<path>/file")
    async def photo_file(path: str) -> Response:
        viewer = await signed_in(portal)
        photo = await owned_photo(portal, viewer, path)
        reader = await portal.runtime.blobs.open_reader(photo.media.blob_key)
        if reader is None:
            abort(404)
        chunks = reader.chunks()
        head = b""
        async for chunk in chunks:
            head = chunk
            break
        kind = sniff(head[:_SNIFF]) if photo.viewable else None
        inline = kind is not None and request.args.get("download") != "1"
        filename = "".join(ch for ch in photo.media.path if ch.isalnum() or ch in "._-")[:80]

        async def body() -> AsyncIterator[bytes]:
            if head:
                yield head
            async for more in chunks:
                yield more

        response = Response(body(), content_type=kind or "application/octet-stream")
        disposition = "inline" if inline else "attachment"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{filename or "photo"}"'
        response.headers["Content-Length"] = str(reader.length)
        return response

    @bp.get("/photos/<path>/thumb")
    async def photo_thumb(path: str) -> Response:
        viewer = await signed_in(portal)
        photo = await owned_photo(portal, viewer, path)
        if not photo.viewable:
            abort(404)
        body, kind = await thumbnail(portal.runtime.blobs, photo.media.blob_key, photo.media.path)
        return Response(body, content_type=kind)

    @bp.post("/photos/<path>/delete")
    async def delete_photo(path: str) -> Any:
        viewer = await signed_in(portal)
        photo = await owned_photo(portal, viewer, path)
        keys = await portal.storage.mark_media_deleted([photo.media.path])
        await portal.runtime.blobs.delete_many(with_thumbnails(keys))
        return see_other("/portal/photos?deleted=1")
