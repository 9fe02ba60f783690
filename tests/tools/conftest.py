"""Fixtures for the tools' tests: the real server with a provisioned robot.

The robot's values are distinctive on purpose, so the capture test can assert that none of
them survives scrubbing. They are invented: no real robot or person.
"""

from __future__ import annotations

import attrs
import pytest

from jibo_cloud.storage.provisioning import RobotSpec, add_robot
from jibo_cloud.tools.robot import RobotIdentity
from tests.support.server import RunningServer

ROBOT = RobotIdentity(
    name="Zanzi-Quokka-Lamp-Tree",
    serial="BOJW-4242-7777-3131-0009",
    robot_id="a1b2c3d4e5f6a7b8c9d0e1f2",
    access_key_id="AKIDSIMQUOKKA42",
    secret_access_key="sim-secret-quokka-key-0987654321",
)
OWNER_EMAIL = "quokka.owner@example.org"


@attrs.frozen
class Provisioned:
    server: RunningServer
    robot: RobotIdentity


async def register_robot(server: RunningServer) -> None:
    """Register :data:`ROBOT` (account, loop, member, key pair) in ``server``'s storage."""
    await add_robot(
        server.runtime.storage,
        RobotSpec(
            name=ROBOT.name,
            serial=ROBOT.serial,
            robot_id=str(ROBOT.robot_id),
            owner_email=OWNER_EMAIL,
            access_key_id=ROBOT.access_key_id,
            secret_access_key=ROBOT.secret_access_key,
        ),
        now_ms=1_700_000_000_000,
    )


@pytest.fixture
async def provisioned(server: RunningServer) -> Provisioned:
    """The real server with :data:`ROBOT` registered (account, loop, member, key pair)."""
    await register_robot(server)
    return Provisioned(server, ROBOT)
