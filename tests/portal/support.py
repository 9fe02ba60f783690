"""A real server with a registered robot and an owner who can sign in to the portal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud.portal.auth import new_invite
from jibo_cloud.storage.provisioning import RobotSpec, add_robot
from tests.rest.support import SPEC, start_backend_server
from tests.support.server import RunningServer

PASSWORD = "correct horse battery"
OTHER = RobotSpec(
    name="Other-Robot-Name-2", serial="BOJW-1000-0000-0000-0002", robot_id="b" * 24,
    owner_email="other@example.com", access_key_id="AKOTHERROBOT0002",
    secret_access_key="other-secret-key-0123456789abcdefghijk", loop_id="c" * 24,
    account_id="d" * 24,
)  # fmt: skip
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, html[:500]
    return found[1]


@attrs.define
class PortalServer:
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.http_url

    @property
    def storage(self) -> Any:
        return self.server.runtime.storage

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, follow_redirects=False, timeout=20)

    async def invite_path(self, email: str) -> str:
        account = await self.storage.find_account_by_email(email)
        token = await new_invite(self.storage, account.id, now=self.server.runtime.now_ms())
        return f"/portal/invite?t={token}"

    async def set_password(self, http: httpx.AsyncClient, email: str,
                           password: str = PASSWORD) -> None:  # fmt: skip
        path = await self.invite_path(email)
        page = await http.get(path)
        assert page.status_code == 200, page.text
        done = await http.post(path, data={"csrf": csrf_of(page.text), "password": password,
                                           "again": password})  # fmt: skip
        assert done.status_code == 303, done.text
        assert done.headers["location"] == "/portal/signin?done=1"

    async def sign_in(self, http: httpx.AsyncClient, email: str, password: str = PASSWORD,
                      next_: str = "/portal/") -> httpx.Response:  # fmt: skip
        page = await http.get("/portal/signin")
        return await http.post(
            "/portal/signin",
            data={"csrf": csrf_of(page.text), "email": email, "password": password, "next": next_},
        )

    @asynccontextmanager
    async def owner(self, email: str = SPEC.owner_email) -> AsyncIterator[httpx.AsyncClient]:
        """A client signed in as ``email`` (password set through a fresh invite)."""
        async with self.client() as http:
            await self.set_password(http, email)
            answer = await self.sign_in(http, email)
            assert answer.status_code == 303, answer.text
            yield http

    async def csrf(self, http: httpx.AsyncClient, page: str = "/portal/") -> str:
        return csrf_of((await http.get(page)).text)


@asynccontextmanager
async def portal_server(
    nursery: trio.Nursery, tmp_path: Path, backend: str = "sqlite", **overrides: Any
) -> AsyncIterator[PortalServer]:
    """The real server (SQLite or PostgreSQL) with the test robot and another household's."""
    async with AsyncExitStack() as stack:
        server = await start_backend_server(nursery, tmp_path, backend, stack, **overrides)
        now = server.runtime.now_ms()
        await add_robot(server.runtime.storage, SPEC, now_ms=now)
        await add_robot(server.runtime.storage, OTHER, now_ms=now)
        try:
            yield PortalServer(server)
        finally:
            server.stop()
