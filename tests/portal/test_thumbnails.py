"""Gallery thumbnails on the real server: a JPEG and a PNG the robot uploaded (both made here
with PyAV) get a scaled JPEG, made once and kept beside the photo in the blob store; a corrupt
file gets the placeholder and one log line, never a 500; deleting the photo deletes both,
on the portal or by the robot's REST Media service, in the data folder or an S3 bucket."""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import trio

from jibo_cloud.portal import thumbnails
from jibo_cloud.portal.thumbnails import THUMB_SIDE, thumb_key
from jibo_cloud.storage.blobs import BlobStore, StoredBlob
from tests.ops.s3server import S3Server, s3_server
from tests.portal.support import portal_server
from tests.rest.support import LOOP_ID, RestClient

__all__ = ["s3_server"]  # the fixture


def encoded(codec: str, pix_fmt: str, width: int, height: int) -> bytes:
    """One still image of ``width`` x ``height`` (a gradient) in ``codec``."""
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (height, 1))] * 3, axis=-1)
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pix_fmt)
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, pix_fmt
    encoder.time_base = Fraction(1, 1)
    return b"".join(bytes(p) for p in [*encoder.encode(frame), *encoder.encode(None)])


def size_of(image: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(image)) as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


PHOTOS = {
    "a-jpeg": (encoded("mjpeg", "yuvj420p", 1280, 720), (THUMB_SIDE, 180)),
    "a-png": (encoded("png", "rgb24", 300, 600), (160, THUMB_SIDE)),
    "tiny": (encoded("png", "rgb24", 64, 48), (64, 48)),  # never scaled up
}
CORRUPT = b"\xff\xd8\xff\xe0" + b"not really a JPEG " * 50


async def test_thumbnails_are_made_once_kept_and_deleted_with_the_photo(
    nursery: trio.Nursery, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=thumbnails.__name__)
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        robot = RestClient(http)
        for path, (data, _) in [*PHOTOS.items(), ("broken", (CORRUPT, None))]:
            headers = {"x-loop-id": LOOP_ID, "x-path": path, "x-type": "image"}
            await robot.ok("Media_20160725.Create", raw=data, headers=headers)
        gallery = (await http.get("/portal/photos")).text
        blobs = portal.server.runtime.blobs
        for path, (_, size) in PHOTOS.items():
            assert f'src="/portal/photos/{path}/thumb"' in gallery
            answer = await http.get(f"/portal/photos/{path}/thumb")
            assert (answer.status_code, answer.headers["content-type"]) == (200, "image/jpeg")
            assert size_of(answer.content) == size, path
            assert len(answer.content) < 64 * 1024
            (media,) = await portal.storage.get_media([path])
            assert await blobs.read(thumb_key(media.blob_key)) == answer.content
            # A second view is the kept thumbnail (even if the photo's bytes were gone).
            await blobs.delete(media.blob_key)
            assert (await http.get(f"/portal/photos/{path}/thumb")).content == answer.content

        for _ in range(2):  # the second view does not try (nor log) again
            broken = await http.get("/portal/photos/broken/thumb")
            assert (broken.status_code, broken.headers["content-type"]) == (200, "image/svg+xml")
            assert broken.content == thumbnails.PLACEHOLDER
        notes = [r.getMessage() for r in caplog.records if r.name == thumbnails.__name__]
        assert notes == ["no thumbnail for photo broken: FFmpeg: InvalidDataError"]

        (media,) = await portal.storage.get_media(["a-png"])
        token = await portal.csrf(http, "/portal/photos/a-png")
        deleted = await http.post("/portal/photos/a-png/delete", data={"csrf": token})
        assert deleted.status_code == 303
        assert await blobs.read(thumb_key(media.blob_key)) is None
        assert (await http.get("/portal/photos/a-png/thumb")).status_code == 404


@pytest.mark.parametrize("store", ["folder", "s3"])
async def test_a_robot_s_rest_delete_or_replace_takes_the_thumbnail_along(
    nursery: trio.Nursery, tmp_path: Path, request: pytest.FixtureRequest, store: str
) -> None:
    """The robot deletes (``Media.Remove``) or re-creates (``Media.Create`` on the same path)
    a photo the gallery made a thumbnail of: the thumbnail blob goes with the photo's, in the
    data folder and in an S3 bucket (moto's server over HTTP) alike."""
    settings = {}
    if store == "s3":
        s3: S3Server = request.getfixturevalue("s3_server")
        settings = s3.settings()
    jpeg = PHOTOS["a-jpeg"][0]
    async with portal_server(nursery, tmp_path, **settings) as portal, portal.owner() as http:
        robot = RestClient(http)
        blobs = portal.server.runtime.blobs
        assert blobs.kind == store

        async def upload_and_view(path: str) -> str:
            headers = {"x-loop-id": LOOP_ID, "x-path": path, "x-type": "image"}
            await robot.ok("Media_20160725.Create", raw=jpeg, headers=headers)
            answer = await http.get(f"/portal/photos/{path}/thumb")
            assert answer.headers["content-type"] == "image/jpeg"
            (media,) = await portal.storage.get_media([path])
            assert await blobs.read(thumb_key(media.blob_key)) == answer.content
            return str(media.blob_key)

        removed = await upload_and_view("removed")
        await robot.ok("Media_20160725.Remove", {"paths": ["removed"]})
        assert await blobs.read(removed) is None
        assert await blobs.read(thumb_key(removed)) is None

        replaced = await upload_and_view("replaced")
        await upload_and_view("replaced")  # the same path again: a new photo
        assert await blobs.read(replaced) is None
        assert await blobs.read(thumb_key(replaced)) is None
        if store == "s3":
            (media,) = await portal.storage.get_media(["replaced"])
            key = f"jibo/{media.blob_key}"
            assert sorted(s3.names()) == [key, key + ".thumb"]  # nothing else left behind


async def test_a_thumbnail_made_while_its_photo_was_deleted_is_not_kept(tmp_path: Path) -> None:
    """The gallery asked for a thumbnail, and the photo was deleted before it was stored."""
    store = BlobStore(tmp_path)
    photo = await store.write(store.new_key("media"), PHOTOS["tiny"][0])

    class Racing(BlobStore):
        async def write(self, key: str, data: bytes) -> StoredBlob:
            await self.delete(photo.key)  # the photo's delete lands while the thumb is made
            return await super().write(key, data)

    _, kind = await thumbnails.thumbnail(Racing(tmp_path), photo.key, "racing")
    assert kind == "image/jpeg"
    assert await store.read(thumb_key(photo.key)) is None
